"""The logs of a real `stembus serve` process, as an operator reads them on stderr: JSON lines
with the request id given back in `X-Request-ID`, no access line for the cast and receipt
routes, a failed login without its code, and no client address in any line (api.logs)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth.tokens import issue_token
from api.migrate import upgrade
from api.settings import Settings
from tests.conftest import DB_ENV, TEST_SECRET, bearer
from tests.realserver import Server, server_env

pytestmark = pytest.mark.slow

WRONG = "AAAA-AAAA-AAAA-AAAA-AAAA"  # well formed, nobody's
FORWARDED = "198.51.100.23"  # an address named by a header: never logged either


@pytest.fixture()
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    url = database_url
    if not os.environ.get(DB_ENV):
        url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
        upgrade(url)
    s = Server(server_env(url, TEST_SECRET, tmp_path), tmp_path / "server.log")
    yield s
    s.stop()


def _json_lines(log: Path) -> list[dict[str, Any]]:
    # The file also holds the console's start-up lines (stdout); the log lines are JSON.
    return [json.loads(ln) for ln in log.read_text().splitlines() if ln.startswith("{")]


def test_served_logs(server: Server, settings: Settings):
    token, _ = issue_token(
        settings, subject="operator", roles={"operator"}, election_id=None, minutes=30
    )
    op = bearer(token)
    fwd = {"X-Forwarded-For": FORWARDED}
    with httpx.Client(base_url=server.base, timeout=30, headers=fwd) as c:
        body = {"name": "OR 2027", "organisation": "Acme B.V.", "settings": {"seats": 5}}
        r = c.post("/api/v1/elections", json=body, headers={**op, "X-Request-ID": "create-1"})
        assert r.status_code == 201, r.text
        assert r.headers["X-Request-ID"] == "create-1"
        eid = r.json()["id"]
        url = f"/api/v1/elections/{eid}"
        r = c.post(f"{url}/members", json={"name": "Lid", "committee": True}, headers=op)
        assert r.status_code == 201, r.text
        code = r.json()["access_code"]
        made = c.post(f"{url}/login", json={"code": WRONG}).headers["X-Request-ID"]
        assert c.post(f"{url}/login", json={"code": code}).status_code == 200
        # The quiet routes: answered (with a request id), logged nowhere.
        r = c.post(f"{url}/ballots", json={"x": 1}, headers={"X-Request-ID": "quiet-1"})
        assert r.status_code in (409, 422) and r.headers["X-Request-ID"] == "quiet-1"
        r = c.get(f"{url}/receipts/{'ab' * 32}", headers={"X-Request-ID": "quiet-2"})
        assert r.status_code == 404 and r.headers["X-Request-ID"] == "quiet-2"
        r = c.post(f"{url}/log/receipts/check", json={}, headers={"X-Request-ID": "quiet-3"})
        assert r.status_code == 422 and r.headers["X-Request-ID"] == "quiet-3"
        assert c.get("/healthz", headers={"X-Request-ID": "last"}).status_code == 200
    server.stop()
    lines = _json_lines(server.log)
    access = [ln for ln in lines if ln["logger"] == "stembus.access"]
    probes = [a for a in access if a["route"] == "/healthz" and a["request_id"] != "last"]
    assert probes  # the start-up wait's readiness probes: logged as well
    access = [a for a in access if a not in probes]
    assert [(a["method"], a["route"], a["status"]) for a in access] == [
        ("POST", "/elections", 201),
        ("POST", "/elections/{election_id}/members", 201),
        ("POST", "/elections/{election_id}/login", 401),
        ("POST", "/elections/{election_id}/login", 200),
        ("GET", "/healthz", 200),
    ]
    assert access[0]["request_id"] == "create-1" and access[2]["request_id"] == made
    assert access[-1]["request_id"] == "last"
    assert all(a["election"] == eid for a in access[1:4])
    assert all(a["timestamp"].endswith("+00:00") and a["duration_ms"] >= 0 for a in access)
    (failed,) = [ln for ln in lines if ln.get("event") == "login-failed"]
    assert failed["reason"] == "wrong-code" and failed["request_id"] == made
    text = "\n".join(json.dumps(ln) for ln in lines)
    for absent in ("quiet-", "/ballots", "receipts", "ab" * 32, WRONG, code):
        assert absent not in text, absent
    for address in (FORWARDED, "127.0.0.1"):
        assert address not in text, address
