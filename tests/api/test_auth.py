"""Tokens and access codes: every forged, expired or misdirected token is refused."""

from __future__ import annotations

import time

from jose import jwt

from api.auth.codes import normalize_code
from api.auth.tokens import AUDIENCE, derive_key, issue_token
from tests.conftest import bearer


def _claims(settings, **over):
    now = int(time.time())
    c = {
        "iss": settings.issuer,
        "aud": AUDIENCE,
        "sub": "operator",
        "roles": ["operator"],
        "iat": now,
        "exp": now + 600,
    }
    c.update(over)
    return c


def _status(client, token):
    return client.get("/api/v1/elections", headers=bearer(token)).status_code


def test_valid_operator_token(client, settings):
    token = jwt.encode(_claims(settings), derive_key(settings, "jwt"), algorithm="HS256")
    assert _status(client, token) == 200


def test_alg_none_refused(client, settings):
    import base64
    import json

    def b64(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    token = b64({"alg": "none", "typ": "JWT"}) + "." + b64(_claims(settings)) + "."
    r = client.get("/api/v1/elections", headers=bearer(token))
    assert r.status_code == 401
    assert r.json()["type"] == "/problems/unauthenticated"


def test_wrong_algorithm_refused(client, settings):
    token = jwt.encode(_claims(settings), derive_key(settings, "jwt"), algorithm="HS512")
    assert _status(client, token) == 401


def test_wrong_key_refused(client, settings):
    token = jwt.encode(_claims(settings), b"another-key" * 4, algorithm="HS256")
    assert _status(client, token) == 401


def test_wrong_audience_and_issuer_refused(client, settings):
    key = derive_key(settings, "jwt")
    assert (
        _status(client, jwt.encode(_claims(settings, aud="other"), key, algorithm="HS256")) == 401
    )
    assert (
        _status(client, jwt.encode(_claims(settings, iss="https://evil"), key, algorithm="HS256"))
        == 401
    )


def test_expired_token_refused(client, settings):
    now = int(time.time())
    token = jwt.encode(
        _claims(settings, iat=now - 7200, exp=now - 3600),
        derive_key(settings, "jwt"),
        algorithm="HS256",
    )
    assert _status(client, token) == 401


def test_missing_and_garbage_token(client):
    assert client.get("/api/v1/elections").status_code == 401
    assert client.get("/api/v1/elections", headers=bearer("garbage")).status_code == 401


def test_token_of_another_election_refused(make_election):
    a, b = make_election(), make_election()
    r = a.client.post(b.url("/transitions"), json={"to": "nomination"}, headers=a.committee)
    assert r.status_code == 403 and r.json()["type"] == "/problems/forbidden"
    assert a.transition("nomination").status_code == 200


def test_committee_token_cannot_act_as_operator(election):
    assert election.client.get("/api/v1/elections", headers=election.committee).status_code == 403


def test_voter_token_cannot_transition(election, settings):
    token, _ = issue_token(
        settings,
        subject="voter:1",
        roles={"voter"},
        election_id=election.id,
        minutes=5,
        holder_id=1,
    )
    r = election.client.post(
        election.url("/transitions"), json={"to": "nomination"}, headers=bearer(token)
    )
    assert r.status_code == 403


def test_code_normalization():
    assert normalize_code("abcd-efgh-jkmn-pqrs-tvwx") == "ABCDEFGHJKMNPQRSTVWX"
    assert normalize_code("ABCD EFGH JKMN PQRS TVWO") == "ABCDEFGHJKMNPQRSTVW0"
    assert normalize_code("too-short") is None
    assert normalize_code("ABCD-EFGH-JKMN-PQRS-TVW!") is None


def test_login_with_code_any_case_and_regenerate(election, operator_headers):
    code = election.member_code
    r = election.client.post(election.url("/login"), json={"code": code.lower().replace("-", " ")})
    assert r.status_code == 200
    assert sorted(r.json()["roles"]) == ["committee", "trustee"]
    members = election.client.get(election.url("/members"), headers=election.committee).json()
    mid = members["items"][0]["id"]
    r = election.client.post(election.url(f"/members/{mid}/code"), headers=operator_headers)
    assert r.status_code == 200
    new = r.json()["access_code"]
    assert new != code
    assert election.client.post(election.url("/login"), json={"code": code}).status_code == 401
    assert election.client.post(election.url("/login"), json={"code": new}).status_code == 200


def test_login_rate_limited(make_election):
    e = make_election()
    for _ in range(5):  # login_max_failures=5 in the test settings
        r = e.client.post(e.url("/login"), json={"code": "AAAA-AAAA-AAAA-AAAA-AAAA"})
        assert r.status_code == 401
    r = e.client.post(e.url("/login"), json={"code": e.member_code})
    assert r.status_code == 429
    assert r.json()["type"] == "/problems/rate-limited"
    assert int(r.headers["Retry-After"]) >= 1


def test_code_stored_only_hashed(election, app):
    from sqlmodel import Session, select

    from api.auth.models import AccessCode

    with Session(app.state.engine) as s:
        rows = s.exec(select(AccessCode).where(AccessCode.election_id == election.id)).all()
    assert rows
    norm = normalize_code(election.member_code).encode()
    assert all(norm not in r.code_hash and len(r.code_hash) == 32 for r in rows)


def test_new_codes_are_well_formed_and_distinct():
    from api.auth.codes import ALPHABET, new_code

    made = [new_code() for _ in range(2000)]
    assert len(set(made)) == len(made)
    for code in made:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4, 4]
        assert normalize_code(code) == code.replace("-", "")
    # every symbol of the alphabet shows up in every position (uniform 5 bits per character)
    for pos in range(20):
        assert {c.replace("-", "")[pos] for c in made} == set(ALPHABET)


def test_login_unknown_election_and_a_code_of_another_election(make_election):
    e1, e2 = make_election(), make_election()
    r = e1.client.post("/api/v1/elections/nosuchelection/login", json={"code": e1.member_code})
    assert r.status_code == 404 and r.json()["type"] == "/problems/not-found"
    r = e2.client.post(e2.url("/login"), json={"code": e1.member_code})
    assert r.status_code == 401 and r.json()["type"] == "/problems/invalid-access-code"
    assert e1.client.post(e1.url("/login"), json={"code": e1.member_code}).status_code == 200


def test_login_throttle_window_passes_and_counts_only_failures(make_election, app):
    from datetime import UTC, datetime, timedelta

    from sqlmodel import Session, select

    from api.auth.models import LoginThrottle

    e = make_election()
    bad = {"code": "AAAA-AAAA-AAAA-AAAA-AAAA"}
    for _ in range(4):
        assert e.client.post(e.url("/login"), json=bad).status_code == 401
    # Successes in between neither block nor reset nor add to the count.
    for _ in range(3):
        assert e.client.post(e.url("/login"), json={"code": e.member_code}).status_code == 200
    assert e.client.post(e.url("/login"), json=bad).status_code == 401  # the fifth failure
    assert e.client.post(e.url("/login"), json={"code": e.member_code}).status_code == 429
    with Session(app.state.engine) as s:
        row = s.exec(select(LoginThrottle).where(LoginThrottle.election_id == e.id)).one()
        assert row.failures == 5
        row.window_start = datetime.now(UTC) - timedelta(seconds=901)  # the window has passed
        s.add(row)
        s.commit()
    assert e.client.post(e.url("/login"), json={"code": e.member_code}).status_code == 200
    assert e.client.post(e.url("/login"), json=bad).status_code == 401
    with Session(app.state.engine) as s:
        row = s.exec(select(LoginThrottle).where(LoginThrottle.election_id == e.id)).one()
        assert row.failures == 1  # a new window, counted from this failure
