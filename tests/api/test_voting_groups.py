"""An election with two real kiesgroepen, each with its own issuer key: a credential counts only
in its own group, and turnout is kept per group (docs/protocol.md "Casting" step 4, "What a verifier
checks" 4)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

from sqlmodel import Session

from api.voting.models import BallotSeq
from cli.client import StembusClient, StoredCredential, ballot_entry
from crypto import blindrsa, credential
from crypto.canonical import b64d, b64e
from tests.api.test_voting_support import (
    TWO_GROUPS,
    close_voting,
    roll_csv_groups,
    voting_election,
)
from tests.conftest import bearer

# V00001..V00004 in productie, V00005..V00007 in kantoor (roll_csv_groups numbers in order)
SIZES = {"productie": 4, "kantoor": 3}


def _election(app, make_election, sizes: dict[str, int]):
    return voting_election(
        app, make_election, sum(sizes.values()), TWO_GROUPS, roll=roll_csv_groups(sizes)
    )


def _post(client, ve, entry):
    return client.post(
        ve.e.url("/ballots"),
        content=json.dumps(entry),
        headers={"Content-Type": "application/json"},
    )


def _problem(r, status: int, slug: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["type"] == f"/problems/{slug}", r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def _in_other_group(cred: StoredCredential, keys, group: str, seq: int = 1) -> dict:
    """A well-formed ballot of `cred` for `group`: sealed for that group and signed by the
    credential's own key, so only the issuer signature can tell that it is the wrong group."""
    return ballot_entry(replace(cred, group=group), keys, {"q1": ["yes"]}, seq)


def test_a_credential_cast_in_another_real_kiesgroep_is_refused(app, client, make_election):
    ve = _election(app, make_election, {"productie": 1, "kantoor": 1})
    sdk = StembusClient(http=client)
    keys = sdk.keys(ve.id)
    assert set(keys.issuer_keys) == {"productie", "kantoor"}
    assert keys.issuer_keys["productie"]["n"] != keys.issuer_keys["kantoor"]["n"]
    cred_p = sdk.obtain_credential(ve.id, sdk.login(ve.id, ve.codes["V00001"]))
    cred_k = sdk.obtain_credential(ve.id, sdk.login(ve.id, ve.codes["V00002"]))
    assert (cred_p.group, cred_k.group) == ("productie", "kantoor")
    before = ve.e.log()

    for cred, other in ((cred_p, "kantoor"), (cred_k, "productie")):
        for seq in (1, 2):
            r = _post(client, ve, _in_other_group(cred, keys, other, seq))
            _problem(r, 403, "invalid-credential")
    assert ve.e.log() == before  # nothing appended, no checkpoint either
    assert client.get(ve.e.url("/log/checkpoint")).json()["size"] == len(before)
    with Session(app.state.engine) as s:
        for cred in (cred_p, cred_k):
            assert s.get(BallotSeq, (ve.id, b64d(cred.credential))) is None

    # Each credential is good in its own group, with seq 1: the refusals claimed no seq.
    for cred in (cred_p, cred_k):
        promise = sdk.cast(cred, {"q1": ["no"]})
        assert promise["election"] == ve.id
    # and after a ballot in its own group, still not in the other one
    _problem(
        _post(client, ve, _in_other_group(cred_p, keys, "kantoor", 2)), 403, "invalid-credential"
    )
    close_voting(ve)  # the pools are flushed, one kiesgroep after the other (in group order)
    ballots = [x for x in ve.e.log() if x["type"] == "ballot"]
    assert [(b["group"], b["seq"]) for b in ballots] == [("kantoor", 1), ("productie", 1)]


def test_turnout_per_group_with_unused_credentials_and_revotes(app, client, make_election):
    ve = _election(app, make_election, SIZES)
    sdk = StembusClient(http=client)
    keys = sdk.keys(ve.id)

    def cred(number: int) -> StoredCredential:
        return sdk.obtain_credential(ve.id, sdk.login(ve.id, ve.codes[f"V{number:05d}"]))

    # productie: V1 votes and re-votes twice, V2 votes once, V3 only obtains a credential,
    # V4 does nothing.
    c1, c2, c3 = cred(1), cred(2), cred(3)
    sdk.cast(c1, {"q1": ["yes"]})
    sdk.revote(c1, {"q1": ["no"]})
    sdk.revote(c1, {"q1": ["abstain"]})
    sdk.cast(c2, {"q2": ["fiets"]})
    # kantoor: V5 votes and re-votes, V6 and V7 only obtain credentials; V7 retries its
    # issuance with the same blinded message (the same credential, not a second one).
    c5, _c6 = cred(5), cred(6)
    sdk.cast(c5, {"q1": ["yes"]})
    sdk.revote(c5, {"q1": ["yes"]})
    token7 = sdk.login(ve.id, ve.codes["V00007"])
    blinded, _ = blindrsa.blind(
        keys.issuer_public("kantoor"),
        blindrsa.prepare(credential.public_key_bytes(credential.generate_key())),
    )
    url = ve.e.url("/voting/credential")
    for _ in range(2):
        r = client.post(url, json={"blinded_msg": b64e(blinded)}, headers=bearer(token7))
        assert r.status_code == 200, r.text
    # Refusals change nothing: an older seq, a credential cast in the other group.
    _problem(_post(client, ve, ballot_entry(c1, keys, {}, 2)), 409, "ballot-seq-not-greater")
    _problem(_post(client, ve, _in_other_group(c3, keys, "kantoor")), 403, "invalid-credential")
    assert c3.seq == 0

    r = client.get(ve.e.url("/voting/turnout"), headers=ve.e.committee)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "groups": [
            {"group": "productie", "eligible": 4, "credentials_issued": 3, "voted": 2},
            {"group": "kantoor", "eligible": 3, "credentials_issued": 3, "voted": 1},
        ],
        "credentials_issued": 6,
        "voted": 3,
    }
    # The public log tells the same per group once the pools are flushed at the close:
    # issuance entries, and distinct credentials among the ballots (6 ballots in all).
    close_voting(ve)
    log = ve.e.log()
    issued = Counter(x["group"] for x in log if x["type"] == "issuance")
    ballots = [x for x in log if x["type"] == "ballot"]
    voted = Counter(g for g, _ in {(b["group"], b["credential"]) for b in ballots})
    assert issued == {"productie": 3, "kantoor": 3}
    assert voted == {"productie": 2, "kantoor": 1}
    assert len(ballots) == 6
