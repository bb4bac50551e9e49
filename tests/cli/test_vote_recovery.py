"""The voter SDK (cli.client) after a lost answer, against the real app: a credential request
kept before it is sent resumes with the same blinded_msg. Also: credential files are private from
the start."""

from __future__ import annotations

import json
import os
import stat

import pytest

from cli.client import (
    PendingCredential,
    StembusClient,
    StembusError,
    StoredCredential,
    load_state,
)
from crypto import blindrsa, sealing
from crypto.canonical import b64d
from tests.api.test_voting_support import voting_election
from tests.conftest import bearer


def _mode(path) -> int:  # type: ignore[no-untyped-def]
    return stat.S_IMODE(os.stat(path).st_mode)


def _opened(ve, entry) -> dict:  # type: ignore[no-untyped-def]
    padded = sealing.open_ballot(ve.sealing_private, b64d(entry["ciphertext"]), ve.id, "all")
    return sealing.decode_ballot(padded)["selections"]  # type: ignore[no-any-return]


def test_a_lost_credential_answer_resumes_from_the_pending_request(
    app, client, make_election, tmp_path
):
    ve = voting_election(app, make_election, n_voters=1)
    sdk = StembusClient(http=client)
    code = next(iter(ve.codes.values()))
    login = sdk.sign_in(ve.id, code)
    assert login.group == "all"
    path = tmp_path / "cred.json"
    pending = sdk.begin_issuance(ve.id, login.group)
    pending.save(path)  # before sending, as `stembus vote` does
    assert _mode(path) == 0o600
    assert isinstance(load_state(path), PendingCredential)
    with pytest.raises(ValueError, match="pending"):
        StoredCredential.load(path)
    # The request reaches the server and is committed, but its answer is lost.
    r = client.post(
        ve.e.url("/voting/credential"),
        json={"blinded_msg": pending.blinded_msg},
        headers=bearer(login.token),
    )
    assert r.status_code < 300, r.text
    del r
    # Why the pending request must be kept: a new request (a new key, new blinding, so another
    # blinded_msg) is refused for good.
    with pytest.raises(StembusError) as refused:
        sdk.obtain_credential(ve.id, login.token, login.group)
    assert refused.value.status == 409
    assert refused.value.type.endswith("/credential-already-issued")
    # The rerun: the same blinded_msg again gets the same blind signature, finalized with the
    # stored blinding inverse into a valid credential, and the vote completes.
    resumed = PendingCredential.load(path)
    assert resumed == pending
    cred = sdk.finish_issuance(resumed, sdk.login(ve.id, code))
    cred.save(path)
    assert isinstance(load_state(path), StoredCredential) and _mode(path) == 0o600
    blindrsa.verify(
        sdk.keys(ve.id).issuer_public("all"),
        b64d(cred.prefix) + b64d(cred.credential),
        b64d(cred.issuer_sig),
    )
    assert b64d(pending.input_msg) == b64d(cred.prefix) + b64d(cred.credential)
    receipt = sdk.cast(cred, {"q1": ["yes"]})
    assert cred.seq == 1 and cred.receipts == [receipt]
    log = ve.e.log()
    assert [x["type"] for x in log].count("issuance") == 1
    ballots = [x for x in log if x["type"] == "ballot"]
    assert len(ballots) == 1 and ballots[0]["credential"] == cred.credential
    assert _opened(ve, ballots[0]) == {"q1": ["yes"]}


def test_credential_files_are_private_from_the_start_and_replaced_atomically(tmp_path):
    cred = StoredCredential("e1", "all", "c2s=", "cGs=", "cHJlZml4", "c2ln", seq=2)
    path = tmp_path / "cred.json"
    path.write_text("old\n")
    path.chmod(0o644)
    old_inode = os.stat(path).st_ino
    umask = os.umask(0)  # the most permissive umask: the mode must not depend on it
    try:
        cred.save(path)
        assert _mode(path) == 0o600
        assert os.stat(path).st_ino != old_inode  # a new file renamed over the old one
        pending = PendingCredential("e1", "all", "c2s=", "aW5wdXQ=", "YmxpbmQ=", "aW52")
        pending.save(tmp_path / "pending.json")
        assert _mode(tmp_path / "pending.json") == 0o600
    finally:
        os.umask(umask)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cred.json", "pending.json"]
    assert StoredCredential.load(path) == cred
    assert json.loads(path.read_text())["seq"] == 2
    assert PendingCredential.load(tmp_path / "pending.json") == pending
    with pytest.raises(ValueError, match="credential, not a pending"):
        PendingCredential.load(path)
