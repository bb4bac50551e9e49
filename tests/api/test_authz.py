"""Authorization per role for every route of the API.

Each module in tests/api/authz/ declares `RULES = {(METHOD, path template): allowed roles}`;
this test fails when a route of the app has no rule, so a new route cannot skip the table.
A refused role must get 401 (no token) or 403; an allowed one must get past authorization
(any status but 401/403; an empty body then usually gives 422, which changes nothing).
A token of another election is refused on every election-scoped route that is not public.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

from api.auth.tokens import issue_token
from tests.api import authz
from tests.conftest import ElectionFixture, bearer

ROLES = ("anonymous", "operator", "committee", "trustee", "voter", "submitter")


def _rules() -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for mod in pkgutil.iter_modules(authz.__path__):
        rules = importlib.import_module(f"{authz.__name__}.{mod.name}").RULES
        dup = set(out) & set(rules)
        assert not dup, f"routes declared twice: {dup}"
        out.update({k: set(v) for k, v in rules.items()})
    return out


RULES = _rules()


def _routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    spec = app.openapi()
    return sorted(
        (m.upper(), p) for p, ops in spec["paths"].items() for m in ops if p.startswith("/api/")
    )


def test_every_route_has_a_rule(app):
    missing = [r for r in _routes(app) if r not in RULES]
    assert not missing, f"add these routes to tests/api/authz/: {missing}"
    stale = [r for r in RULES if r not in _routes(app)]
    assert not stale, f"rules for routes that no longer exist: {stale}"


def _token(settings, role: str, election_id: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    token, _ = issue_token(
        settings,
        subject=f"{role}:1",
        roles={role},
        election_id=None if role == "operator" else election_id,
        minutes=5,
        holder_id=1,
    )
    return bearer(token)


def _fill(path: str, election_id: str) -> str:
    path = path.replace("{election_id}", election_id)
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture(scope="module")
def two_elections(app, operator_headers):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        yield ElectionFixture(c, operator_headers), ElectionFixture(c, operator_headers)


@pytest.mark.parametrize("route", sorted(RULES), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_authorization_per_role(route, app, settings, two_elections):
    method, template = route
    a, b = two_elections
    url = _fill(template, a.id)
    allowed = RULES[route]
    for role in ROLES:
        r = a.client.request(method, url, json={}, headers=_token(settings, role, a.id))
        if role in allowed:
            assert r.status_code not in (401, 403), (role, r.status_code, r.text)
        else:
            expected = 401 if role == "anonymous" else 403
            assert r.status_code == expected, (role, r.status_code, r.text)
    if "{election_id}" in template and "anonymous" not in allowed:
        scoped = allowed - {"operator", "anonymous"}
        for role in scoped:
            r = a.client.request(method, url, json={}, headers=_token(settings, role, b.id))
            assert r.status_code == 403, ("token of another election", role, r.status_code)


@pytest.fixture(scope="module")
def dead_tokens(app, operator_headers):  # type: ignore[no-untyped-def]
    """A committee token whose code was regenerated, and an election that was cancelled."""
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        live = ElectionFixture(c, operator_headers)
        revoked = live.committee
        [m] = c.get(live.url("/members"), headers=revoked).json()["items"]
        r = c.post(live.url(f"/members/{m['id']}/code"), headers=operator_headers)
        assert r.status_code == 200, r.text
        ended = ElectionFixture(c, operator_headers)
        r = c.post(ended.url("/cancel"), json={"reason": "test"}, headers=ended.committee)
        assert r.status_code == 200, r.text
        yield live, revoked, ended


# The credential routes check the token in their own read, after FastAPI validated the body
# (api.deps, VoterCodeCheckedLaterDep): they need a body of the right shape to get there.
_VALID_BODIES = {
    ("POST", "/api/v1/elections/{election_id}/voting/credential"): {
        "blinded_msg": "AQ" + "A" * 340 + "==",  # 256 bytes
    },
}


def _is_revoked(r, what) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 401, (what, r.status_code, r.text)
    assert r.json()["type"] == "/problems/token-revoked", (what, r.text)


@pytest.mark.parametrize("route", sorted(RULES), ids=lambda r: f"{r[0]} {r[1]}")
def test_dead_tokens_are_refused_per_role(route, settings, dead_tokens):
    """A token that died with its code, and every role's token of a cancelled election, gets
    401 token-revoked on every election-scoped route the role may otherwise call; a role
    that may not call it still gets 403, as before."""
    method, template = route
    allowed = RULES[route]
    scoped = allowed - {"operator", "anonymous"}
    if "{election_id}" not in template or "anonymous" in allowed or not scoped:
        return  # public, or not election-scoped: no token of an election matters here
    live, revoked, ended = dead_tokens
    body = _VALID_BODIES.get(route, {})
    if "committee" in scoped:
        r = live.client.request(method, _fill(template, live.id), json=body, headers=revoked)
        _is_revoked(r, "regenerated code")
    for role in ROLES:
        if role in ("anonymous", "operator"):
            continue
        r = ended.client.request(
            method, _fill(template, ended.id), json=body, headers=_token(settings, role, ended.id)
        )
        if role in scoped:
            _is_revoked(r, f"{role} of a cancelled election")
        else:
            assert r.status_code == 403, (role, r.status_code, r.text)
