"""The voter SDK (cli.client) after a lost answer in an election that allows one ballot per
credential, against the real app, where the client kept no pending ballot: once the ballot is in
the log (a flush appended it) and counts, the retry gets 409 `revoting-not-allowed`, and `cast`
fetches the receipt of the credential's ballot found in the public log instead — only for a
ballot signed with the credential and newer than the one the client holds."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from api.log.service import append_entry
from api.voting.models import BallotSeq
from cli.client import (
    ProtocolError,
    RecoveredReceipt,
    StembusClient,
    StembusError,
    StoredCredential,
    ballot_entry,
    verify_receipt,
)
from crypto import credential, merkle, note, sealing
from crypto.canonical import b64d, canonical_json
from tests.api.test_voting_support import CONSULTATION, voting_election

ONE_BALLOT = {**CONSULTATION, "revoting_allowed": False}


def _opened(ve, entry) -> dict:  # type: ignore[no-untyped-def]
    padded = sealing.open_ballot(ve.sealing_private, b64d(entry["ciphertext"]), ve.id, "all")
    return sealing.decode_ballot(padded)["selections"]  # type: ignore[no-any-return]


def _mine(ve, cred) -> list[dict]:  # type: ignore[no-untyped-def]
    return [x for x in ve.e.log() if x["type"] == "ballot" and x["credential"] == cred.credential]


@pytest.fixture()
def one_ballot(app, make_election):
    return voting_election(app, make_election, n_voters=3, settings=ONE_BALLOT)


def test_a_lost_receipt_without_revoting_is_recovered_from_the_log(
    app, client, make_election, tmp_path
):
    # batch_size 5: a flush at every 10 pooled ballots appends 5 of them, chosen at random
    ve = voting_election(app, make_election, n_voters=120, settings={**ONE_BALLOT, "batch_size": 5})
    sdk = StembusClient(http=client)
    codes = list(ve.codes.values())
    cred = sdk.obtain_credential(ve.id, sdk.login(ve.id, codes[0]))
    sdk.vote(ve.id, codes[1], {"q1": ["abstain"]})  # another credential's ballot before it
    keys = sdk.keys(ve.id)
    # The ballot is accepted, but its answer never reaches the client: cred.seq stays 0.
    entry = ballot_entry(cred, keys, {"q1": ["yes"]}, 1)
    r = client.post(ve.e.url("/ballots"), json=entry)
    assert r.status_code == 201, r.text
    lost = r.json()  # the promise, kept only to compare with what the SDK recovers
    # Other voters cast until a flush has appended it (each flush keeps it back with
    # probability 1/2; 110 more ballots make 22 flushes).
    for code in codes[2:]:
        if _mine(ve, cred):
            break
        sdk.vote(ve.id, code, {"q1": ["no"]})
    assert _mine(ve, cred) == [entry]
    assert cred.seq == 0 and not cred.receipts
    # Without the recovery the retry is refused: one ballot per credential.
    retry = ballot_entry(cred, keys, {"q1": ["no"]}, 1)
    r = client.post(ve.e.url("/ballots"), json=retry)
    assert r.status_code == 409 and r.json()["type"].endswith("/revoting-not-allowed")

    receipt = sdk.cast(cred, {"q1": ["no"]})
    assert isinstance(receipt, RecoveredReceipt)
    # the very receipt the service serves for the promised entry, field for field
    served = sdk.receipt_status(ve.id, bytes.fromhex(lost["entry_hash"]))
    assert served is not None and served["status"] == "included"
    assert receipt == served["receipt"] and list(receipt) == list(served["receipt"])
    assert receipt["entry_hash"] == merkle.leaf_hash(canonical_json(entry)).hex()
    cp = verify_receipt(receipt, entry, keys.log_verifier)
    assert receipt["index"] < cp.size <= len(ve.e.log())
    assert note.TlogProof.from_text(receipt["tlog_proof"]).checkpoint == receipt["checkpoint"]
    checked = sdk.check_receipt(receipt)
    assert checked["signature_valid"] and checked["proof_valid"]
    assert checked["in_log"] and checked["consistent"] and checked["index"] == receipt["index"]
    sdk.verify_receipt_against_log(receipt)
    assert cred.seq == 1 and cred.receipts == [receipt]
    # The ballot that counts is the one cast earlier, not this call's choices: nothing was cast.
    mine = _mine(ve, cred)
    assert mine == [entry] and _opened(ve, mine[0]) == {"q1": ["yes"]}
    # Saved, it is a plain receipt; a further ballot is refused as before.
    path = tmp_path / "cred.json"
    cred.save(path)
    again = StoredCredential.load(path)
    assert again.receipts == [receipt] and type(again.receipts[0]) is dict and again.seq == 1
    with pytest.raises(StembusError) as refused:
        sdk.cast(again, {"q1": ["no"]})
    assert refused.value.type.endswith("/revoting-not-allowed")
    assert again.seq == 1 and len(again.receipts) == 1 and len(_mine(ve, cred)) == 1


def test_a_second_ballot_is_still_refused_when_the_receipt_was_kept(client, one_ballot):
    ve = one_ballot
    sdk = StembusClient(http=client)
    cred, promise = sdk.vote(ve.id, next(iter(ve.codes.values())), {"q1": ["yes"]})
    assert not isinstance(promise, RecoveredReceipt)
    before = len(ve.e.log())
    with pytest.raises(StembusError) as refused:
        sdk.revote(cred, {"q1": ["no"]})
    assert refused.value.status == 409 and refused.value.type.endswith("/revoting-not-allowed")
    assert cred.seq == 1 and cred.promises == [promise] and len(ve.e.log()) == before
    assert cred.pending_ballot is None


def _refuse_credential(app, ve, cred: StoredCredential) -> None:
    """The server's seq row for `cred` without its ballot: a state the API never makes (the row
    and the append commit together), standing for a server whose refusal the log does not
    back."""
    with Session(app.state.engine, info={"settings": app.state.settings}) as s:
        s.add(BallotSeq(election_id=ve.id, credential=b64d(cred.credential), group="all", seq=1))
        s.commit()


def test_a_refusal_without_a_ballot_in_the_log_is_raised(app, client, one_ballot):
    ve = one_ballot
    sdk = StembusClient(http=client)
    cred = sdk.obtain_credential(ve.id, sdk.login(ve.id, next(iter(ve.codes.values()))))
    _refuse_credential(app, ve, cred)
    with pytest.raises(StembusError) as refused:
        sdk.cast(cred, {"q1": ["yes"]})
    assert refused.value.status == 409 and refused.value.type.endswith("/revoting-not-allowed")
    assert cred.seq == 0 and not cred.receipts and not _mine(ve, cred)


def test_a_ballot_under_the_credential_not_signed_with_it_is_not_recovered(app, client, one_ballot):
    ve = one_ballot
    sdk = StembusClient(http=client)
    cred = sdk.obtain_credential(ve.id, sdk.login(ve.id, next(iter(ve.codes.values()))))
    # A log that names the credential on a ballot signed with another key (the cast endpoint
    # refuses such a ballot: only a server that writes its log by other means can hold one).
    forged = ballot_entry(cred, sdk.keys(ve.id), {"q1": ["no"]}, 1)
    forged["signature"] = credential.sign_entry(credential.generate_key(), forged)
    assert not credential.verify_entry(b64d(cred.credential), forged)
    with Session(app.state.engine, info={"settings": app.state.settings}) as s:
        append_entry(s, ve.id, json.loads(json.dumps(forged)))
        s.commit()
    _refuse_credential(app, ve, cred)
    with pytest.raises(ProtocolError, match="not signed with it"):
        sdk.cast(cred, {"q1": ["yes"]})
    assert cred.seq == 0 and not cred.receipts
