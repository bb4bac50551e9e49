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
from tests.api.test_voting_support import close_voting, voting_election
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
    promise = sdk.cast(cred, {"q1": ["yes"]})
    assert cred.seq == 1 and cred.promises == [promise]
    close_voting(ve)
    log = ve.e.log()
    assert [x["type"] for x in log].count("issuance") == 1
    ballots = [x for x in log if x["type"] == "ballot"]
    assert len(ballots) == 1 and ballots[0]["credential"] == cred.credential
    assert _opened(ve, ballots[0]) == {"q1": ["yes"]}


def test_a_lost_ballot_answer_is_recovered_from_the_pending_ballot(app, client, make_election):
    ve = voting_election(app, make_election, n_voters=2)
    sdk = StembusClient(http=client)
    codes = list(ve.codes.values())
    cred = sdk.obtain_credential(ve.id, sdk.login(ve.id, codes[0]))
    sdk.vote(ve.id, codes[1], {"q1": ["abstain"]})  # another credential's ballot
    sdk.cast(cred, {"q1": ["yes"]})
    keys = sdk.keys(ve.id)
    saved: list[dict] = []
    # A re-vote is signed and kept as pending (on_prepared: where `stembus vote` saves the
    # file), sent and accepted, but its answer is lost: cred.seq stays 1.
    entry = ballot_entry(cred, keys, {"q1": ["no"]}, 2)
    cred.pending_ballot = entry
    saved.append(json.loads(json.dumps(cred.pending_ballot)))
    r = client.post(ve.e.url("/ballots"), json=entry)
    assert r.status_code == 201, r.text
    lost = r.json()
    assert cred.seq == 1
    # Without it the next ballot is refused: its seq (2) is not greater, and the pooled ballot
    # is not in the log yet, so the log cannot tell the client its seq.
    r = client.post(ve.e.url("/ballots"), json=ballot_entry(cred, keys, {"q1": ["no"]}, 2))
    assert r.status_code == 409 and r.json()["type"].endswith("/ballot-seq-not-greater")
    assert sdk.highest_seq(cred) == 0  # nothing of it in the log before a flush
    # The next cast sends the pending ballot again first (the same promise), then its own.
    promise = sdk.cast(cred, {"q2": ["sport", "kinderopvang"]}, on_prepared=lambda c: None)
    assert cred.seq == 3 and cred.pending_ballot is None
    assert [p["promise"] for p in cred.promises] == [
        cred.promises[0]["promise"],
        lost["promise"],
        promise["promise"],
    ]
    close_voting(ve)
    mine = sorted(
        (x for x in ve.e.log() if x["type"] == "ballot" and x["credential"] == cred.credential),
        key=lambda b: b["seq"],
    )
    assert [b["seq"] for b in mine] == [1, 2, 3] and mine[1] == saved[0]
    assert _opened(ve, mine[-1]) == {"q2": ["sport", "kinderopvang"]}
    assert sdk.highest_seq(cred) == 3  # the log says it once the pool is flushed
    assert sdk.collect_receipts(cred) == (3, 0)


def test_a_lost_answer_without_a_pending_ballot_is_not_guessed(app, client, make_election):
    ve = voting_election(app, make_election, n_voters=1)
    sdk = StembusClient(http=client)
    cred = sdk.obtain_credential(ve.id, sdk.login(ve.id, next(iter(ve.codes.values()))))
    keys = sdk.keys(ve.id)
    r = client.post(ve.e.url("/ballots"), json=ballot_entry(cred, keys, {"q1": ["no"]}, 1))
    assert r.status_code == 201, r.text
    # The client lost the answer and the ballot (no pending state): the seq it would send is
    # refused, and the log shows nothing to go on while the ballot waits for its flush.
    with pytest.raises(StembusError) as refused:
        sdk.cast(cred, {"q1": ["yes"]})
    assert refused.value.type.endswith("/ballot-seq-not-greater")
    assert cred.seq == 0 and cred.pending_ballot is None and not cred.promises


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
    cred, promise = sdk.vote(ve.id, next(iter(ve.codes.values())), {"q1": ["no"]}, delay=0.05)
    assert cred.seq == 1 and promise["election"] == ve.id
    close_voting(ve)
    assert _opened(ve, [x for x in ve.e.log() if x["type"] == "ballot"][-1]) == {"q1": ["no"]}
