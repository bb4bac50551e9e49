"""The voter SDK (cli.client) after a lost answer, against the real app: a credential request
kept before it is sent resumes with the same blinded_msg; a ballot whose receipt was lost is
superseded with the next seq read from the public log. Also: credential files are private from
the start, the published ballot definition and the choice check, and the random delay."""

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
    ballot_entry,
    check_selections,
    load_state,
)
from crypto import blindrsa, sealing
from crypto.canonical import b64d
from tests.api.test_tally import GROUPS, SETTINGS, seed_voting
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


def test_a_lost_receipt_is_superseded_with_the_next_seq_from_the_log(app, client, make_election):
    ve = voting_election(app, make_election, n_voters=2)
    sdk = StembusClient(http=client)
    codes = list(ve.codes.values())
    cred = sdk.obtain_credential(ve.id, sdk.login(ve.id, codes[0]))
    other, _ = sdk.vote(ve.id, codes[1], {"q1": ["abstain"]})  # another credential's ballot
    sdk.cast(cred, {"q1": ["yes"]})
    keys = sdk.keys(ve.id)
    # Two ballots reach the log but their receipts never reach the client: cred.seq stays 1.
    for seq, sel in ((2, {"q1": ["no"]}), (3, {"q2": ["fiets"]})):
        r = client.post(ve.e.url("/ballots"), json=ballot_entry(cred, keys, sel, seq))
        assert r.status_code == 201, r.text
    assert cred.seq == 1
    # Without the recovery the next ballot is refused: its seq (2) is not greater.
    r = client.post(ve.e.url("/ballots"), json=ballot_entry(cred, keys, {"q1": ["no"]}, 2))
    assert r.status_code == 409 and r.json()["type"].endswith("/ballot-seq-not-greater")
    assert sdk.highest_seq(cred) == 3 and sdk.highest_seq(other) == 1
    receipt = sdk.cast(cred, {"q2": ["sport", "kinderopvang"]})
    assert cred.seq == 4 and cred.receipts[-1] == receipt and len(cred.receipts) == 2
    mine = [x for x in ve.e.log() if x["type"] == "ballot" and x["credential"] == cred.credential]
    assert [b["seq"] for b in mine] == [1, 2, 3, 4]
    assert _opened(ve, mine[-1]) == {"q2": ["sport", "kinderopvang"]}
    # the next re-vote goes straight on from the recovered seq
    sdk.revote(cred, {"q1": ["yes"]})
    assert cred.seq == 5


def test_other_refusals_of_a_ballot_are_not_retried(app, client, make_election):
    ve = voting_election(app, make_election, n_voters=1)
    sdk = StembusClient(http=client)
    cred, _ = sdk.vote(ve.id, next(iter(ve.codes.values())), {"q1": ["yes"]})
    assert ve.e.transition("closed").status_code == 200
    before = len(ve.e.log())
    with pytest.raises(StembusError) as refused:
        sdk.revote(cred, {"q1": ["no"]})
    assert refused.value.type.endswith("/voting-not-open")
    assert cred.seq == 1 and len(ve.e.log()) == before


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


def test_ballot_definitions_and_the_choice_check(app, client, make_election):
    sdk = StembusClient(http=client)
    # consultation: the questions_published entry
    ve = voting_election(app, make_election, n_voters=1)
    d = sdk.ballot_definition(ve.id, "all")
    assert [q["id"] for q in d["questions"]] == ["q1", "q2"]
    assert check_selections(d, ve.id, "all", {"q1": ["yes"], "q2": ["fiets", "sport"]}) is None
    assert check_selections(d, ve.id, "all", {}) is None  # blank
    assert (
        check_selections(d, ve.id, "all", {"q1": ["yse"]}) == "unknown option yse for question q1"
    )
    assert check_selections(d, ve.id, "all", {"q9": ["yes"]}) == "unknown question q9"
    too_many = {"q2": ["fiets", "sport", "kinderopvang"]}
    assert (
        check_selections(d, ve.id, "all", too_many) == "too many selections for question q2: 3 > 2"
    )
    # works council: the group's part of the lists_published entry
    e = make_election(SETTINGS)
    seed_voting(app, e, [])
    assert sdk.ballot_definition(e.id, "kg1") == GROUPS[0]
    d1 = sdk.ballot_definition(e.id, "kg1")
    assert check_selections(d1, e.id, "kg1", ["b1"]) is None
    assert check_selections(d1, e.id, "kg1", ["zz"]) == "unknown candidate zz"
    assert check_selections(d1, e.id, "kg1", ["a1", "b1"]) == "too many selections: 2 > 1"
    d2 = sdk.ballot_definition(e.id, "kg2")
    assert check_selections(d2, e.id, "kg2", ["s1"]) == "no vote held in group kg2"


def test_the_sdk_vote_with_a_random_delay(app, client, make_election):
    ve = voting_election(app, make_election, n_voters=1)
    sdk = StembusClient(http=client)
    cred, receipt = sdk.vote(ve.id, next(iter(ve.codes.values())), {"q1": ["no"]}, delay=0.05)
    assert cred.seq == 1 and receipt["election"] == ve.id
    assert _opened(ve, [x for x in ve.e.log() if x["type"] == "ballot"][-1]) == {"q1": ["no"]}
