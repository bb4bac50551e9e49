"""CORS on every answer a browser frontend can read (STEMBUS_CORS_ORIGINS set): successes,
redirects and every problem status, the 413 that api.problems rewrites and the 500 of an
unexpected error included, so a frontend always reads the problem document."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from api.voting.endpoints import MAX_BALLOT_BODY
from tests.conftest import ElectionFixture

ORIGIN = "https://frontend.example"
OTHER = "https://elsewhere.example"


@pytest.fixture(scope="module")
def cors_app(settings: Settings):  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update={"cors_origins": [ORIGIN]}))

    @app.get("/boom", include_in_schema=False)
    def boom() -> None:  # an unexpected error, as any bug would raise it
        raise RuntimeError("boom")

    yield app
    app.state.engine.dispose()


@pytest.fixture()
def cors(cors_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(cors_app, raise_server_exceptions=False, headers={"Origin": ORIGIN}) as c:
        yield c


def _election(c: TestClient, operator_headers: dict[str, str]) -> ElectionFixture:
    return ElectionFixture(c, operator_headers)


def _429(c: TestClient, op: dict[str, str]) -> Any:
    e = _election(c, op)
    r = None
    for _ in range(10):
        # a well-formed wrong code counts (login_max_failures=5 in the test settings)
        r = c.post(e.url("/login"), json={"code": "AAAA-AAAA-AAAA-AAAA-AAAA"})
        if r.status_code == 429:
            break
    return r


CASES: dict[int, Callable[[TestClient, dict[str, str]], Any]] = {
    200: lambda c, op: c.get("/problems"),
    201: lambda c, op: c.post(
        "/api/v1/elections",
        json={"name": "OR 2027", "organisation": "Acme", "settings": {"seats": 9}},
        headers=op,
    ),
    303: lambda c, op: c.get(
        _election(c, op).url("/results"), headers={"Accept": "text/html"}, follow_redirects=False
    ),
    400: lambda c, op: c.post(
        "/api/v1/elections",
        content=b"{not json",
        headers={**op, "Content-Type": "application/json"},
    ),
    401: lambda c, op: c.post("/api/v1/elections", json={}),
    403: lambda c, op: c.post("/api/v1/elections", json={}, headers=_election(c, op).committee),
    404: lambda c, op: c.get("/api/v1/elections/no-such-election/status"),
    405: lambda c, op: c.delete("/problems"),
    409: lambda c, op: _election(c, op).transition("tallied"),
    413: lambda c, op: c.post(
        _election(c, op).url("/ballots"),
        content=b" " * (MAX_BALLOT_BODY + 1),
        headers={"Content-Type": "application/json"},
    ),
    415: lambda c, op: (
        lambda e: c.post(
            e.url("/roll/import"), content=b"x", headers={**e.committee, "Content-Type": "text/xml"}
        )
    )(_election(c, op)),
    422: lambda c, op: c.post("/api/v1/elections", json={}, headers=op),
    429: _429,
    500: lambda c, op: c.get("/boom"),
}


@pytest.mark.parametrize("status", sorted(CASES))
def test_every_status_carries_cors_headers(cors, operator_headers, status):
    r = CASES[status](cors, operator_headers)
    assert r.status_code == status, r.text
    assert r.headers.get("access-control-allow-origin") == ORIGIN
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"location", "retry-after", "www-authenticate"} <= exposed
    if status >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == status


def test_a_413_declared_up_front_carries_cors_headers(cors, operator_headers):
    e = _election(cors, operator_headers)
    r = cors.post(
        e.url("/ballots"),
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": str(10**9)},
    )
    assert r.status_code == 413
    assert r.headers.get("access-control-allow-origin") == ORIGIN


def test_preflight_of_the_anonymous_ballot_route(cors, operator_headers):
    e = _election(cors, operator_headers)
    r = cors.options(
        e.url("/ballots"),
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in r.headers  # no cookies, ever


def test_no_cors_headers_for_another_origin_or_without_configuration(cors, client):
    r = cors.get("/problems", headers={"Origin": OTHER})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    r = client.get("/problems", headers={"Origin": ORIGIN})  # STEMBUS_CORS_ORIGINS unset
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
