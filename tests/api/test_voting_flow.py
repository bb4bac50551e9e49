"""Whole voter flows through the ASGI app with the Python SDK: issuance, casting, re-votes,
receipts, and the keys entry."""

from __future__ import annotations

from cli.client import StembusClient
from crypto import sealing
from crypto.canonical import b64d
from tests.api.test_voting_support import close_voting, voting_election


def test_consultation_flow_with_revotes(app, client, make_election):
    ve = voting_election(app, make_election, n_voters=4)
    sdk = StembusClient(http=client)
    creds = []
    choices = [{"q1": ["yes"]}, {"q1": ["no"], "q2": ["fiets", "sport"]}, {}, {"q2": ["sport"]}]
    for code, sel in zip(ve.codes.values(), choices, strict=True):
        cred, promise = sdk.vote(ve.id, code, sel)
        assert promise["election"] == ve.id and promise["promise"]
        creds.append(cred)
    # Two voters change their minds; their later ballots have seq 2 and 3.
    sdk.revote(creds[0], {"q1": ["abstain"]})
    sdk.revote(creds[0], {"q1": ["no"]})
    sdk.revote(creds[2], {"q2": ["kinderopvang"]})
    assert [c.seq for c in creds] == [3, 1, 2, 1]
    assert [len(c.promises) for c in creds] == [3, 1, 2, 1]
    # Seven ballots: fewer than 2·batch_size (20), so all wait in the pool until the close.
    assert not [x for x in ve.e.log() if x["type"] in ("ballot", "issuance")]
    turnout = client.get(ve.e.url("/voting/turnout"), headers=ve.e.committee).json()
    assert turnout["groups"] == [
        {"group": "all", "eligible": 4, "credentials_issued": 4, "voted": 4}
    ]
    for c in creds:
        assert sdk.collect_receipts(c) == (0, len(c.promises))  # pending, not an error
    close_voting(ve)
    ballots = [x for x in ve.e.log() if x["type"] == "ballot"]
    assert len(ballots) == 7
    for c in creds:
        assert sdk.collect_receipts(c) == (len(c.promises), 0)
    # The final ballot of each credential (its highest seq) decrypts to the last choice.
    final: dict[str, dict] = {}
    for b in ballots:
        if b["seq"] > final.get(b["credential"], {"seq": 0})["seq"]:
            final[b["credential"]] = b
    assert len(final) == 4
    opened = {}
    for cred_b64, b in final.items():
        padded = sealing.open_ballot(
            ve.sealing_private, b64d(b["ciphertext"]), ve.id, b["group"], ballot_size=None
        )
        opened[cred_b64] = sealing.decode_ballot(padded)["selections"]
    assert opened[creds[0].credential] == {"q1": ["no"]}
    assert opened[creds[2].credential] == {"q2": ["kinderopvang"]}
    assert opened[creds[3].credential] == {"q2": ["sport"]}
    # every receipt still checks against the latest checkpoint
    for c in creds:
        for receipt in c.receipts:
            sdk.verify_receipt_against_log(receipt)
            check = sdk.check_receipt(receipt)
            assert check["in_log"] and check["consistent"] and check["proof_valid"]
    issuances = [x for x in ve.e.log() if x["type"] == "issuance"]
    assert len(issuances) == 4 and {x["group"] for x in issuances} == {"all"}


def test_login_names_the_voters_kiesgroep_and_a_flow_takes_three_requests(
    app, client, make_election
):
    ve = voting_election(app, make_election, n_voters=2)
    code = next(iter(ve.codes.values()))
    r = client.post(ve.e.url("/login"), json={"code": code})
    assert r.status_code == 200
    assert r.json()["roles"] == ["voter"] and r.json()["group"] == "all"
    member = client.post(ve.e.url("/login"), json={"code": ve.e.member_code}).json()
    assert member["group"] is None and "committee" in member["roles"]

    sdk = StembusClient(http=client)
    sdk.keys(ve.id)  # fetched once per election, before the flows
    seen: list[str] = []
    client.event_hooks["request"].append(lambda req: seen.append(f"{req.method} {req.url.path}"))
    try:
        sdk.vote(ve.id, list(ve.codes.values())[1], {"q1": ["yes"]})
    finally:
        client.event_hooks["request"].pop()
    base = f"/api/v1/elections/{ve.id}"
    assert seen == [
        f"POST {base}/login",
        f"POST {base}/voting/credential",
        f"POST {base}/ballots",
    ]
