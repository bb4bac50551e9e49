"""Every check of docs/protocol.md on the voting routes, each refusal a problem with its own
type."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from api.roll.models import Voter
from cli.client import StembusClient, ballot_entry
from crypto import blindrsa, credential
from crypto.canonical import b64d, b64e
from tests.api.test_voting_support import CONSULTATION, close_voting, voting_election
from tests.conftest import bearer


def _problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"] == f"/problems/{slug}", body
    assert r.headers["content-type"].startswith("application/problem+json")
    return body


@pytest.fixture()
def ve(app, make_election):
    return voting_election(app, make_election, n_voters=3)


@pytest.fixture()
def sdk(client):
    return StembusClient(http=client)


def _cred(sdk, ve, i: int = 0):
    code = list(ve.codes.values())[i]
    return sdk.obtain_credential(ve.id, sdk.login(ve.id, code))


def _post(client, ve, entry):
    return client.post(
        ve.e.url("/ballots"),
        content=json.dumps(entry),
        headers={"Content-Type": "application/json"},
    )


def _resign(cred, entry):
    entry = dict(entry)
    entry["signature"] = credential.sign_entry(b64d(cred.secret_key), entry)
    return entry


def test_forged_issuer_signature(client, sdk, ve):
    cred = _cred(sdk, ve)
    entry = ballot_entry(cred, sdk.keys(ve.id), {"q1": ["yes"]}, 1)
    sig = bytearray(b64d(entry["issuer_sig"]))
    sig[10] ^= 1
    entry = _resign(cred, {**entry, "issuer_sig": b64e(bytes(sig))})
    _problem(_post(client, ve, entry), 403, "invalid-credential")
    # a credential key the issuer never signed, with someone else's prefix and signature
    other = credential.generate_key()
    entry = {**entry, "credential": b64e(credential.public_key_bytes(other))}
    entry["signature"] = credential.sign_entry(other, entry)
    _problem(_post(client, ve, entry), 403, "invalid-credential")


def test_forged_ballot_signature(client, sdk, ve):
    cred = _cred(sdk, ve)
    entry = ballot_entry(cred, sdk.keys(ve.id), {"q1": ["yes"]}, 1)
    entry["seq"] = 2  # changed after signing
    _problem(_post(client, ve, entry), 403, "invalid-ballot-signature")
    entry = {
        **entry,
        "seq": 1,
        "signature": credential.sign_entry(credential.generate_key(), entry),
    }
    _problem(_post(client, ve, entry), 403, "invalid-ballot-signature")


def test_wrong_ciphertext_length(client, sdk, ve):
    cred = _cred(sdk, ve)
    entry = ballot_entry(cred, sdk.keys(ve.id), {"q1": ["yes"]}, 1)
    ct = b64d(entry["ciphertext"])
    for bad in (ct[:-1], ct + b"\x00", ct[:48]):
        r = _post(client, ve, _resign(cred, {**entry, "ciphertext": b64e(bad)}))
        _problem(r, 422, "wrong-ciphertext-length")


def test_wrong_kiesgroep_and_wrong_election(client, sdk, ve):
    cred = _cred(sdk, ve)
    entry = ballot_entry(cred, sdk.keys(ve.id), {"q1": ["yes"]}, 1)
    _problem(_post(client, ve, _resign(cred, {**entry, "group": "kg9"})), 422, "unknown-kiesgroep")
    r = client.post(ve.e.url("/ballots"), json=_resign(cred, {**entry, "election": "other"}))
    _problem(r, 422, "ballot-wrong-election")


def test_malformed_ballots(client, sdk, ve):
    cred = _cred(sdk, ve)
    entry = ballot_entry(cred, sdk.keys(ve.id), {"q1": ["yes"]}, 1)
    _problem(_post(client, ve, {**entry, "extra": 1}), 422, "validation-error")
    _problem(_post(client, ve, {**entry, "seq": "1"}), 422, "validation-error")
    _problem(_post(client, ve, {**entry, "seq": True}), 422, "validation-error")
    _problem(_post(client, ve, {**entry, "seq": 0}), 422, "validation-error")
    _problem(_post(client, ve, {**entry, "type": "issuance"}), 422, "validation-error")
    no_pad = entry["credential"].rstrip("=") + "A"  # 44 chars, not canonical base64
    _problem(_post(client, ve, {**entry, "credential": no_pad}), 422, "malformed-ballot")
    short_sig = b64e(b64d(entry["issuer_sig"])[:200])
    r = _post(client, ve, _resign(cred, {**entry, "issuer_sig": short_sig}))
    _problem(r, 422, "malformed-ballot")
    r = client.post(
        ve.e.url("/ballots"),
        content=b"{" + b" " * 200_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    _problem(r, 413, "payload-too-large")
    r = client.post(
        ve.e.url("/ballots"), content=b"{not json", headers={"Content-Type": "application/json"}
    )
    _problem(r, 400, "malformed-request")


def test_replay_of_an_older_ballot_after_a_revote_is_refused(client, sdk, ve):
    cred = _cred(sdk, ve)
    keys = sdk.keys(ve.id)
    first = ballot_entry(cred, keys, {"q1": ["yes"]}, 1)
    second = ballot_entry(cred, keys, {"q1": ["no"]}, 2)
    promised = []
    for entry in (first, second):
        r = _post(client, ve, entry)
        assert r.status_code == 201, r.text
        promised.append(r.json())
    # The same bytes again (a client whose answer was lost): the same promise, nothing new.
    for entry, promise in zip((first, second), promised, strict=True):
        again = _post(client, ve, entry)
        assert again.status_code == 200 and again.json() == promise
    # Anything else with a seq not above 2 is refused: an older ballot cannot override.
    other_two = ballot_entry(cred, keys, {"q1": ["abstain"]}, 2)
    _problem(_post(client, ve, other_two), 409, "ballot-seq-not-greater")
    _problem(
        _post(client, ve, ballot_entry(cred, keys, {"q1": ["yes"]}, 1)),
        409,
        "ballot-seq-not-greater",
    )
    assert _post(client, ve, ballot_entry(cred, keys, {}, 5)).status_code == 201
    close_voting(ve)
    ballots = [x for x in ve.e.log() if x["type"] == "ballot"]
    assert sorted(b["seq"] for b in ballots) == [1, 2, 5]  # each accepted ballot once


def test_revoting_not_allowed(app, client, make_election):
    ve = voting_election(app, make_election, 2, {**CONSULTATION, "revoting_allowed": False})
    sdk = StembusClient(http=client)
    cred, _ = sdk.vote(ve.id, list(ve.codes.values())[0], {"q1": ["yes"]})
    entry = ballot_entry(cred, sdk.keys(ve.id), {"q1": ["no"]}, 2)
    _problem(_post(client, ve, entry), 409, "revoting-not-allowed")


def test_outside_the_voting_window(app, client, make_election):
    future = {**CONSULTATION, "schedule": {"voting": {"start": "2099-01-01T00:00:00Z"}}}
    ve = voting_election(app, make_election, 2, future)
    sdk = StembusClient(http=client)
    token = sdk.login(ve.id, list(ve.codes.values())[0])
    r = client.post(
        ve.e.url("/voting/credential"),
        json={"blinded_msg": b64e(b"\1" * 256)},
        headers=bearer(token),
    )
    _problem(r, 409, "outside-voting-window")
    past = {**CONSULTATION, "schedule": {"voting": {"end": "2001-01-01T00:00:00Z"}}}
    ve2 = voting_election(app, make_election, 2, past)
    entry = {
        "type": "ballot",
        "election": ve2.id,
        "group": "all",
        "credential": b64e(b"\0" * 32),
        "prefix": b64e(b"\0" * 32),
        "issuer_sig": b64e(b"\0" * 256),
        "seq": 1,
        "ciphertext": b64e(b"\0" * 100),
        "signature": b64e(b"\0" * 64),
    }
    _problem(client.post(ve2.e.url("/ballots"), json=entry), 409, "outside-voting-window")


def test_voting_not_open(app, client, make_election):
    ve = voting_election(app, make_election, 2, open_voting=False)
    sdk = StembusClient(http=client)
    token = sdk.login(ve.id, list(ve.codes.values())[0])
    r = client.post(
        ve.e.url("/voting/credential"),
        json={"blinded_msg": b64e(b"\1" * 256)},
        headers=bearer(token),
    )
    _problem(r, 409, "voting-not-open")
    status = client.get(ve.e.url("/voting/credential"), headers=bearer(token)).json()
    assert status["credential_issued"] is False and status["group"] == "all"
    assert status["issuer_key"]["alg"] == "PS384"


def test_issuance_retry_same_answer_and_different_message_refused(client, sdk, ve):
    token = sdk.login(ve.id, list(ve.codes.values())[0])
    keys = sdk.keys(ve.id)
    pub = keys.issuer_public("all")
    msg = blindrsa.prepare(credential.public_key_bytes(credential.generate_key()))
    blinded, _ = blindrsa.blind(pub, msg)
    url, h = ve.e.url("/voting/credential"), bearer(token)
    first = client.post(url, json={"blinded_msg": b64e(blinded)}, headers=h)
    assert first.status_code == 200, first.text
    again = client.post(url, json={"blinded_msg": b64e(blinded)}, headers=h)
    assert again.status_code == 200 and again.json() == first.json()
    other, _ = blindrsa.blind(pub, msg)
    _problem(
        client.post(url, json={"blinded_msg": b64e(other)}, headers=h),
        409,
        "credential-already-issued",
    )
    status = client.get(url, headers=h).json()
    assert status["credential_issued"] is True
    assert status["pseudonym"] == first.json()["pseudonym"]
    assert not [x for x in ve.e.log() if x["type"] == "issuance"]  # pooled until a flush
    close_voting(ve)
    issuances = [x for x in ve.e.log() if x["type"] == "issuance"]
    assert len(issuances) == 1 and issuances[0]["pseudonym"] == first.json()["pseudonym"]


def test_bad_blinded_message(client, sdk, ve):
    token = sdk.login(ve.id, list(ve.codes.values())[1])
    url, h = ve.e.url("/voting/credential"), bearer(token)
    _problem(
        client.post(url, json={"blinded_msg": b64e(b"\1" * 255)}, headers=h),
        422,
        "invalid-blinded-message",
    )
    _problem(
        client.post(url, json={"blinded_msg": "***"}, headers=h), 422, "invalid-blinded-message"
    )
    _problem(
        client.post(url, json={"blinded_msg": b64e(b"\xff" * 256)}, headers=h),
        422,
        "invalid-blinded-message",
    )
    # nothing was claimed: a good request still works
    keys = sdk.keys(ve.id)
    blinded, _ = blindrsa.blind(keys.issuer_public("all"), blindrsa.prepare(b"\2" * 32))
    assert client.post(url, json={"blinded_msg": b64e(blinded)}, headers=h).status_code == 200


def test_voter_who_may_not_vote_gets_no_credential(app, client, sdk, ve):
    code = list(ve.codes.values())[2]
    token = sdk.login(ve.id, code)
    me = client.get(ve.e.url("/voting/credential"), headers=bearer(token)).json()
    with Session(app.state.engine) as s:
        v = s.query(Voter).filter(Voter.election_id == ve.id).all()
        for voter in v:
            voter.may_vote = False
            voter.vote_override = False
            s.add(voter)
        s.commit()
    assert me["may_vote"] is True
    r = client.post(
        ve.e.url("/voting/credential"),
        json={"blinded_msg": b64e(b"\1" * 256)},
        headers=bearer(token),
    )
    _problem(r, 403, "not-eligible")


def test_keys_preparation_rules(app, client, make_election):
    ve = voting_election(app, make_election, 1, open_voting=False)
    body = {"sealing_key": b64e(ve.sealing_public), "trustees": {"k": 1, "n": 1}}
    r = client.post(ve.e.url("/voting/keys"), json=body, headers=ve.e.committee)
    _problem(r, 409, "keys-already-prepared")
    got = client.get(ve.e.url("/voting/keys")).json()
    entry = got["entry"]
    assert set(entry) == {
        "type",
        "election",
        "issuer_keys",
        "sealing_key",
        "trustees",
        "ballot_size",
        "log_key",
        "by",
    }
    assert entry["ballot_size"] % 64 == 0 and entry["trustees"] == {"k": 2, "n": 3}
    assert entry["log_key"] == client.get(ve.e.url("/log/key")).json()["verifier_key"]
    assert ve.e.log()[got["index"]] == entry
    # a fresh election: wrong phase, bad key, and voting cannot open without keys
    e = make_election(CONSULTATION)
    _problem(
        client.post(e.url("/voting/keys"), json=body, headers=e.committee), 409, "keys-wrong-phase"
    )
    _problem(client.get(e.url("/voting/keys")), 409, "keys-not-prepared")
    from tests.api.test_voting_support import ensure_questions_published, roll_csv

    client.post(
        e.url("/roll/import"),
        content=roll_csv(1),
        headers={**e.committee, "Content-Type": "text/csv"},
    )
    assert e.transition("lists_published").status_code == 200
    assert client.post(e.url("/roll/freeze"), headers=e.committee).status_code == 200
    r = e.transition("voting")
    assert r.status_code == 409 and any("voting keys" in u for u in r.json()["unmet"])
    ensure_questions_published(app, e)
    for bad in (
        {**body, "sealing_key": b64e(b"\1" * 31) + "AA"},
        {**body, "trustees": {"k": 3, "n": 2}},
    ):
        r = client.post(e.url("/voting/keys"), json=bad, headers=e.committee)
        assert r.status_code == 422, r.text


def test_cast_sets_and_reads_no_cookie(client, sdk, ve):
    cred = _cred(sdk, ve)
    entry = ballot_entry(cred, sdk.keys(ve.id), {"q1": ["yes"]}, 1)
    r = client.post(ve.e.url("/ballots"), json=entry, headers={"Cookie": "session=abc"})
    assert r.status_code == 201, r.text
    assert "set-cookie" not in r.headers
    promise = r.json()
    assert set(promise) == {"election", "entry_hash", "promise"}
    assert promise["promise"].startswith("stembus/ballot-promise/v1\n")


def test_after_close_no_credential_and_no_ballot_lands(client, sdk, ve):
    """The voting paths cache an election while it is in `voting`; a close must still refuse
    at once (the status is read again under the election's lock)."""
    codes = list(ve.codes.values())
    cred = _cred(sdk, ve, 0)
    sdk.cast(cred, {"q1": ["yes"]})  # the election is now cached as `voting` in this process
    token = sdk.login(ve.id, codes[1])
    assert ve.e.transition("closed").status_code == 200
    before = len(ve.e.log())
    entry = ballot_entry(cred, sdk.keys(ve.id), {"q1": ["no"]}, 2)
    _problem(_post(client, ve, entry), 409, "voting-not-open")
    r = client.post(
        ve.e.url("/voting/credential"),
        json={"blinded_msg": b64e(b"\1" * 256)},
        headers=bearer(token),
    )
    _problem(r, 409, "voting-not-open")
    log = ve.e.log()
    assert len(log) == before and log[-1]["type"] == "phase_changed" and log[-1]["to"] == "closed"
