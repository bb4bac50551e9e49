"""The login throttle protects codes without locking out an office: only trusted proxies name
the client, a malformed X-Forwarded-For is ignored, typos that are no code at all do not count,
and the per-address budget lets 500 colleagues behind one address log in."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

from api.auth.clients import client_address
from api.main import create_app
from api.settings import Settings
from tests.api.test_roll_support import person, to_csv
from tests.conftest import ElectionFixture

WRONG = "AAAA-AAAA-AAAA-AAAA-AAAA"  # well formed, nobody's


def _request(peer: str, xff: list[str] | None = None) -> Request:
    headers = [(b"x-forwarded-for", v.encode()) for v in xff or []]
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_only_a_trusted_proxy_names_the_client():
    proxies = ("10.0.0.0/8", "::1")
    # An untrusted peer's header is ignored: it is the client.
    assert client_address(_request("203.0.113.9", ["198.51.100.1"]), proxies) == "203.0.113.9"
    assert client_address(_request("203.0.113.9", ["198.51.100.1"]), ()) == "203.0.113.9"
    # Through trusted proxies: the first untrusted address from the right.
    got = client_address(_request("10.0.0.2", ["198.51.100.7, 203.0.113.5, 10.1.1.1"]), proxies)
    assert got == "203.0.113.5"
    assert client_address(_request("::1", ["2001:db8::5"]), proxies) == "2001:db8::5"
    # Header lines are joined in order.
    got = client_address(_request("10.0.0.2", ["198.51.100.7", "203.0.113.6"]), proxies)
    assert got == "203.0.113.6"
    # Malformed: ignored as a whole, the proxy is the client.
    for bad in ("not-an-ip; DROP", "198.51.100.7, ,", "198.51.100.7:80", "", "1.2.3.999"):
        assert client_address(_request("10.0.0.2", [bad]), proxies) == "10.0.0.2", bad
    # Only proxies: the innermost one.
    assert client_address(_request("10.0.0.2", ["10.9.9.9"]), proxies) == "10.0.0.2"


def test_trusted_proxies_setting_is_validated():
    with pytest.raises(ValueError, match="STEMBUS_TRUSTED_PROXIES"):
        Settings(trusted_proxies=["not-a-network"])
    assert Settings(trusted_proxies=["10.0.0.0/8", "::1"]).trusted_proxies == ["10.0.0.0/8", "::1"]


@pytest.fixture(scope="module")
def proxied_app(settings: Settings) -> Iterator[FastAPI]:
    # The same database; the peer of every request is a trusted reverse proxy.
    app = create_app(settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]}))
    yield app
    app.state.engine.dispose()


def _login(c: TestClient, e: ElectionFixture, code: str, xff: str | None = None) -> int:
    headers = {"X-Forwarded-For": xff} if xff is not None else {}
    return c.post(e.url("/login"), json={"code": code}, headers=headers).status_code


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(
    proxied_app: FastAPI, operator_headers: dict[str, str]
):
    with TestClient(proxied_app, client=("127.0.0.1", 5000)) as c:
        e = ElectionFixture(c, operator_headers)
        for _ in range(5):  # login_max_failures=5 in the test settings
            assert _login(c, e, WRONG, "203.0.113.1") == 401
        assert _login(c, e, e.member_code, "203.0.113.1") == 429
        # Another client behind the same proxy is not locked out.
        assert _login(c, e, e.member_code, "203.0.113.2") == 200
        # A malformed header does not name a fresh client: it counts against the proxy.
        for _ in range(5):
            assert _login(c, e, WRONG, "not-an-ip; DROP") == 401
        assert _login(c, e, e.member_code, "garbage") == 429
        assert _login(c, e, e.member_code) == 429  # the proxy itself, no header


def test_a_random_forwarded_for_does_not_escape_the_budget(make_election):
    e = make_election()  # the peer is not a trusted proxy (no trusted proxies at all)
    for _ in range(5):
        ip = ".".join(str(random.randint(1, 254)) for _ in range(4))
        assert _login(e.client, e, WRONG, ip) == 401
    assert _login(e.client, e, e.member_code, "198.51.100.200") == 429


def test_typos_that_are_no_code_do_not_count(make_election):
    e = make_election()
    code = e.member_code
    typos = [code[:-1], code + "X", code.replace("-", "")[:19], "", code[:4], code + "-AAAA"]
    for t in typos * 3:
        r = e.client.post(e.url("/login"), json={"code": t or " "})
        assert r.status_code == 401 and r.json()["type"] == "/problems/invalid-access-code"
    assert _login(e.client, e, code) == 200


def test_500_colleagues_behind_one_address_with_typos_all_log_in(
    settings: Settings, operator_headers: dict[str, str]
):
    # The deployment's default budget (the test settings lower it to 5).
    default = Settings.model_fields["login_max_failures"].default
    app = create_app(settings.model_copy(update={"login_max_failures": default}))
    rng = random.Random(12)
    try:
        with TestClient(app) as c:  # every request from one address
            e = ElectionFixture(c, operator_headers)
            rows = [person(i) for i in range(1, 501)]
            r = c.post(
                e.url("/roll/import"),
                content=to_csv(rows),
                headers={**e.committee, "Content-Type": "text/csv"},
            )
            assert r.status_code == 200, r.text
            r = c.post(e.url("/invitations/export"), json={}, headers=e.committee)
            assert r.status_code == 200, r.text
            codes = [row["access_code"] for row in csv.DictReader(io.StringIO(r.text))]
            assert len(codes) == 500
            failures = 0
            for code in codes:
                roll = rng.random()
                if roll < 0.15:  # a wrong character: well formed, counted
                    i = rng.choice([i for i, ch in enumerate(code) if ch != "-"])
                    typo = code[:i] + ("Z" if code[i] != "Z" else "Y") + code[i + 1 :]
                    assert _login(c, e, typo) == 401
                    failures += 1
                elif roll < 0.35:  # a character left out: no code, not counted
                    assert _login(c, e, code[:-1]) == 401
                assert _login(c, e, code) == 200
            assert failures > 50
    finally:
        app.state.engine.dispose()
