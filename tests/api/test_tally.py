"""Closing, trustee shares, reconstruction, tally, results and the record, through the API.

Voting itself (issuance and casting routes) belongs to api.voting; to test the tally on its own
the voting phase is seeded through the log service with real credentials and sealed ballots, in
exactly the entry formats of docs/log-entries.md. Everything after that goes through the API:
closing, shares, results, the record, and the independent verifier over the downloaded record.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from api.db import session_scope
from api.elections.service import get_election
from api.log.pool import pool_entries
from api.log.service import append_entry
from api.tally import service as tally_service
from api.voting.booth import booth_entry
from crypto import blindrsa, credential, sealing, shamir
from crypto.canonical import b64e
from rules.ballot import max_ballot_size
from rules.record import verify_record
from tests.conftest import ElectionFixture, bearer

PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
GROUPS = [
    {
        "group": "kg1",
        "seats": 3,
        "vote_held": True,
        "system": "list",
        "votes_per_voter": 1,
        "lists": [
            {
                "id": "fnv",
                "name": "FNV",
                "kind": "union",
                "candidates": [
                    {"id": "a1", "name": "A. Jansen", "position": 1},
                    {"id": "a2", "name": "B. de Vries", "position": 2},
                ],
            },
            {
                "id": "vrij",
                "name": "Vrije lijst",
                "kind": "free",
                "candidates": [
                    {"id": "b1", "name": "C. Bakker", "position": 1},
                    {"id": "b2", "name": "D. Visser", "position": 2},
                ],
            },
        ],
    },
    {
        "group": "kg2",
        "seats": 2,
        "vote_held": False,
        "system": "list",
        "votes_per_voter": 1,
        "lists": [
            {
                "id": "staf",
                "name": "Staf",
                "kind": "free",
                "candidates": [{"id": "s1", "name": "E. Smit", "position": 1}],
            }
        ],
    },
]
SETTINGS = {
    "kiesgroepen": [
        {"id": "kg1", "name": "Productie", "seats": 3},
        {"id": "kg2", "name": "Staf", "seats": 2},
    ]
}


def seed_voting(
    app: Any,
    e: ElectionFixture,
    votes: list[list[str]],
    k: int = 2,
    n: int = 3,
    end: datetime | None = None,
) -> list[shamir.Share]:
    """Move the election to voting and cast `votes` (re-voting the first voter once)."""
    sk, pk = sealing.generate_keypair()
    shares = shamir.split(sk, k, n, e.id)
    issuer = blindrsa.generate_private_key()
    size = max_ballot_size(GROUPS, e.id)
    for s in session_scope(app.state.engine, {"settings": app.state.settings}):
        election = get_election(s, e.id)
        if end is not None:
            from api.elections.service import settings_of

            st = settings_of(election).model_copy(deep=True)
            st.schedule.voting = (
                type(st.schedule)
                .model_fields["voting"]
                .annotation.__args__[0](start=end - timedelta(days=1), end=end)
            )
            election.settings_json = st.model_dump_json()

        def phase(frm: str, to: str, s: Any = s) -> None:
            append_entry(
                s,
                e.id,
                {
                    "type": "phase_changed",
                    "election": e.id,
                    "from": frm,
                    "to": to,
                    "by": "committee",
                },
            )

        phase("draft", "candidacy")
        append_entry(
            s,
            e.id,
            {"type": "lists_published", "election": e.id, "system": "list", "groups": GROUPS},
        )
        phase("candidacy", "lists_published")
        append_entry(
            s,
            e.id,
            {
                "type": "roll_frozen",
                "election": e.id,
                "by": "committee",
                "commitment": "00" * 32,
                "counts": {
                    "kg1": {"voters": 12, "may_vote": 10, "may_stand": 10},
                    "kg2": {"voters": 2, "may_vote": 2, "may_stand": 2},
                },
            },
        )
        append_entry(
            s,
            e.id,
            {
                "type": "keys",
                "election": e.id,
                "issuer_keys": {
                    "kg1": blindrsa.public_key_to_jwk(issuer),
                    "kg2": blindrsa.public_key_to_jwk(blindrsa.generate_private_key()),
                },
                "sealing_key": b64e(pk),
                "trustees": {"k": k, "n": n},
                "ballot_size": size,
                "log_key": __import__("api.log.tree", fromlist=["x"])
                .log_verifier(s, e.id)
                .key_string,
            },
        )
        append_entry(s, e.id, booth_entry(e.id))  # as the voting hook (api.voting.booth) does
        phase("lists_published", "voting")
        election.status = "voting"
        s.add(election)
        # Issuances and ballots wait in the pool, as the voting routes leave them; the close
        # flushes them into the log (api.log.pool).
        for v, choice in enumerate(votes):
            pool_entries(
                s,
                e.id,
                [
                    {
                        "type": "issuance",
                        "election": e.id,
                        "group": "kg1",
                        "pseudonym": secrets.token_hex(16),
                    }
                ],
            )
            sk_c = credential.generate_key()
            pk_c = credential.public_key_bytes(sk_c)
            prefix = secrets.token_bytes(32)
            sig = issuer.sign(prefix + pk_c, PSS, hashes.SHA384())
            plans = [["b2"], choice] if v == 0 else [choice]
            for seq, sel in enumerate(plans, start=1):
                plain = {"election": e.id, "group": "kg1", "selections": sel}
                ct = sealing.seal(pk, sealing.encode_ballot(plain, size), e.id, "kg1")
                entry = {
                    "type": "ballot",
                    "election": e.id,
                    "group": "kg1",
                    "credential": b64e(pk_c),
                    "prefix": b64e(prefix),
                    "issuer_sig": b64e(sig),
                    "seq": seq,
                    "ciphertext": b64e(ct),
                }
                entry["signature"] = credential.sign_entry(sk_c, entry)
                pool_entries(s, e.id, [entry])
    return shares


def trustee(e: ElectionFixture, operator_headers: dict[str, str], name: str) -> dict[str, str]:
    r = e.client.post(
        e.url("/members"), json={"name": name, "trustee": True}, headers=operator_headers
    )
    assert r.status_code == 201, r.text
    return bearer(e.login(r.json()["access_code"]))


VOTES = [["a1"]] * 5 + [["a2"]] + [["b1"]] * 3 + [[]] + [["zz"]]


@pytest.fixture()
def closed(app, make_election, operator_headers):  # type: ignore[no-untyped-def]
    e = make_election(SETTINGS)
    shares = seed_voting(app, e, VOTES)
    t2 = trustee(e, operator_headers, "Trustee Twee")
    t3 = trustee(e, operator_headers, "Trustee Drie")
    r = e.transition("closed")
    assert r.status_code == 200, r.text
    return e, shares, [e.committee, t2, t3]


def test_shares_reconstruct_the_key_and_the_tally_publishes_the_result(closed) -> None:
    e, shares, trustees = closed
    r = e.client.post(
        e.url("/tally/shares"), json={"share": shares[0].to_text()}, headers=trustees[0]
    )
    assert r.status_code == 200, r.text
    assert r.json()["received"] == 1 and r.json()["k"] == 2 and r.json()["status"] == "closed"
    st = e.client.get(e.url("/tally")).json()
    assert st["received"] == 1 and st["indices"] == [1]
    r = e.client.get(e.url("/results"))
    assert r.status_code == 409 and r.json()["type"] == "/problems/not-tallied"
    # a printed share with line breaks and spaces still loads
    text = shares[2].to_text()
    wrapped = "\n".join(text[i : i + 40] for i in range(0, len(text), 40))
    r = e.client.post(e.url("/tally/shares"), json={"share": wrapped}, headers=trustees[2])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "tallied" and body["result_index"] is not None

    res = e.client.get(e.url("/results")).json()
    g = res["result"]["groups"][0]
    assert {x["list"]: x["seats"] for x in g["lists"]} == {"fnv": 2, "vrij": 1}
    assert g["ballots"] == {
        "total": 11,
        "valid": 9,
        "blank": 1,
        "invalid": 1,
        "invalid_reasons": [{"reason": "unknown candidate zz", "count": 1}],
    }
    assert res["result"]["groups"][1]["vote_held"] is False
    assert res["names"]["candidates"]["a1"] == "A. Jansen"
    log = e.log()
    types = [x["type"] for x in log]
    assert types[-3:] == ["decryption_key", "result", "phase_changed"]
    assert log[-1]["to"] == "tallied" and log[-3]["shares_used"] == [1, 3]

    html = e.client.get(e.url("/results/page"))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "<svg" in html.text and "Opvolgers" in html.text and "A. Jansen" in html.text
    assert (
        "stembus verify" in html.text
        and "http" not in html.text.split("<style>")[1].split("</style>")[0]
    )

    rec = e.client.get(e.url("/record"))
    assert rec.status_code == 200
    lines = rec.content.splitlines(keepends=True)
    report = verify_record(lambda: iter(lines))
    assert report.ok, [str(f) for f in report.failures]
    assert report.result_checked and report.entries == len(log)


def test_a_wrong_share_is_named_and_another_subset_is_tried(closed) -> None:
    e, shares, trustees = closed
    good = shares[1]
    forged = shamir.Share(e.id, 1, 2, 3, (shares[0].value + 1) % shamir.PRIME)
    r = e.client.post(e.url("/tally/shares"), json={"share": forged.to_text()}, headers=trustees[0])
    assert r.status_code == 200
    r = e.client.post(e.url("/tally/shares"), json={"share": good.to_text()}, headers=trustees[1])
    body = r.json()
    assert body["status"] == "closed" and "do not reconstruct" in body["message"]
    assert str(forged.value) not in r.text and f"{forged.value:x}" not in r.text
    r = e.client.post(
        e.url("/tally/shares"), json={"share": shares[2].to_text()}, headers=trustees[2]
    )
    body = r.json()
    assert body["status"] == "tallied", body
    assert body["bad_shares"] == [{"index": 1, "reason": "inconsistent with the recovered key"}]


def test_share_problems(closed, make_election) -> None:
    e, shares, trustees = closed
    url = e.url("/tally/shares")
    r = e.client.post(url, json={"share": "stembus-share-v1:nonsense"}, headers=trustees[0])
    assert r.status_code == 422 and r.json()["type"] == "/problems/invalid-share"
    bad_sum = shares[0].to_text()[:-1] + ("0" if shares[0].to_text()[-1] != "0" else "1")
    r = e.client.post(url, json={"share": bad_sum}, headers=trustees[0])
    assert r.status_code == 422 and "checksum" in r.json()["detail"]
    other = shamir.split(b"\1" * 32, 2, 3, "anotherelection")[0]
    r = e.client.post(url, json={"share": other.to_text()}, headers=trustees[0])
    assert r.status_code == 422 and "another election" in r.json()["detail"]
    wrong_kn = shamir.split(b"\1" * 32, 3, 5, e.id)[0]
    r = e.client.post(url, json={"share": wrong_kn.to_text()}, headers=trustees[0])
    assert r.status_code == 422
    assert (
        e.client.post(url, json={"share": shares[0].to_text()}, headers=trustees[0]).status_code
        == 200
    )
    r = e.client.post(url, json={"share": shares[0].to_text()}, headers=trustees[1])
    assert r.status_code == 409 and r.json()["type"] == "/problems/share-index-taken"
    voting = make_election(SETTINGS)
    r = voting.client.post(
        voting.url("/tally/shares"), json={"share": shares[0].to_text()}, headers=voting.committee
    )
    assert r.status_code == 409 and r.json()["type"] == "/problems/shares-not-accepted"


def test_voting_closes_at_the_scheduled_end(app, make_election) -> None:
    e = make_election(SETTINGS)
    seed_voting(app, e, VOTES[:2], end=datetime.now(UTC) - timedelta(minutes=1))
    assert e.client.get(e.url()).json()["status"] == "voting"
    closed = tally_service.close_due_elections(app.state.engine, app.state.settings)
    assert e.id in closed
    assert e.client.get(e.url()).json()["status"] == "closed"
    last = e.log()[-1]
    assert last == {
        "type": "phase_changed",
        "election": e.id,
        "from": "voting",
        "to": "closed",
        "by": "system",
    }
    # The committee's audit trail names the scheduler, not a member, as the one who closed.
    [closing] = e.client.get(
        e.url("/audit"), params={"action": "phase_changed"}, headers=e.committee
    ).json()["items"][:1]
    assert closing["actor"] == {"role": "system", "member_id": None, "name": None}
    assert closing["details"] == {"from": "voting", "to": "closed"}


def test_lazy_close_when_the_tally_status_is_read(app, make_election) -> None:
    e = make_election(SETTINGS)
    seed_voting(app, e, VOTES[:1], end=datetime.now(UTC) - timedelta(seconds=1))
    assert e.client.get(e.url("/tally")).json()["status"] == "closed"
