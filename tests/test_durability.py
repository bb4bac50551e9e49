"""A write is answered only after it is durable: through a real `stembus serve` process (the
in-process client waits for the whole ASGI call, so it cannot see a commit that runs after the
response was sent). A burst of "create, then use at once" calls across routes, and kill -9 as
the 2xx arrives: not one acknowledged write may be missing afterwards."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from api.auth import codes
from api.auth.tokens import issue_token
from api.db import make_engine
from api.migrate import upgrade
from api.settings import Settings
from tests.conftest import DB_ENV, TEST_SECRET, bearer
from tests.realserver import Server, server_env

pytestmark = pytest.mark.slow


@pytest.fixture()
def server_db(tmp_path: Path, database_url: str) -> str:
    if os.environ.get(DB_ENV):
        return database_url  # this run's own PostgreSQL database
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture()
def operator(settings: Settings) -> dict[str, str]:
    token, _ = issue_token(
        settings, subject="operator", roles={"operator"}, election_id=None, minutes=30
    )
    return bearer(token)


@pytest.fixture()
def server(server_db: str, tmp_path: Path) -> Iterator[Server]:
    s = Server(server_env(server_db, TEST_SECRET, tmp_path), tmp_path / "server.log")
    yield s
    s.stop()


ROLL = (
    "employee_number,name,email,kiesgroep,employment_start\n"
    "E1,Anna de Vries,anna@acme.example,all,2020-01-01\n"
    "E2,Bram Jansen,bram@acme.example,all,2020-01-01\n"
    "E3,Cor Bakker,cor@acme.example,all,2020-01-01\n"
)


def _round(c: httpx.Client, op: dict[str, str], n: int) -> list[str]:
    """One election's life in create-then-use pairs; the failed pairs' names."""
    failed: list[str] = []
    body = {"name": f"OR {n}", "organisation": "Acme B.V.", "settings": {"seats": 5}}
    r = c.post("/api/v1/elections", json=body, headers=op)
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    if c.get(f"/api/v1/elections/{eid}").status_code != 200:
        failed.append("create election, then read it")
        return failed
    url = f"/api/v1/elections/{eid}"
    r = c.post(f"{url}/members", json={"name": "Lid", "trustee": True}, headers=op)
    assert r.status_code == 201, r.text
    member_id, code = r.json()["id"], r.json()["access_code"]
    r = c.post(f"{url}/login", json={"code": code})
    if r.status_code != 200:
        failed.append("add member, then log in")
        return failed
    committee = bearer(r.json()["access_token"])
    r = c.post(f"{url}/members/{member_id}/code", headers=committee)
    assert r.status_code == 200, r.text
    r = c.post(f"{url}/login", json={"code": r.json()["access_code"]})
    if r.status_code != 200:
        failed.append("regenerate a code, then log in with it")
        return failed
    committee = bearer(r.json()["access_token"])  # the old token died with the old code
    r = c.post(
        f"{url}/roll/import",
        content=ROLL,
        headers={**committee, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    r = c.get(f"{url}/roll", headers=committee)
    if r.status_code != 200 or r.json()["imports"] != 1:
        failed.append("import the roll, then read it")
    r = c.post(f"{url}/invitations/export", json={}, headers=committee)
    assert r.status_code == 200, r.text
    exported = r.text.splitlines()[1].split(",")[-1]
    if c.post(f"{url}/login", json={"code": exported}).status_code != 200:
        failed.append("export codes, then log in with one")
    r = c.post(f"{url}/transitions", json={"to": "nomination"}, headers=committee)
    assert r.status_code == 200, r.text
    # Acting in the new phase: the next transition is allowed only from `nomination`.
    r = c.post(f"{url}/transitions", json={"to": "candidacy"}, headers=committee)
    if r.status_code != 200:
        failed.append("open nominations, then move on from them")
    return failed


def test_burst_of_create_then_use_at_once(server: Server, operator: dict[str, str]):
    threads, rounds = 6, 8

    def worker(t: int) -> list[str]:
        out: list[str] = []
        with httpx.Client(base_url=server.base, timeout=60) as c:
            for i in range(rounds):
                out.extend(_round(c, operator, t * 1000 + i))
        return out

    with ThreadPoolExecutor(threads) as pool:
        failed = [f for fs in pool.map(worker, range(threads)) for f in fs]
    pairs = threads * rounds * 6
    assert not failed, f"{len(failed)} of up to {pairs} create-then-use pairs failed: {failed}"


def _raw_post(port: int, path: str, body: dict[str, Any], headers: dict[str, str]) -> bytes:
    data = json.dumps(body).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode() + data


def _answer(sock: socket.socket) -> tuple[int, dict[str, Any]] | None:
    """Read one whole HTTP/1.1 answer (Content-Length framed); None if the connection died
    before it was complete (not an acknowledgement)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines[1:])
    length = int({k.lower(): v for k, v in fields.items()}["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return int(lines[0].split()[1]), json.loads(rest[:length])


def _acknowledged_member(server: Server, operator: dict[str, str], eid: str) -> Any:
    """Add a member over a raw socket and kill -9 the server the moment the whole 201 is in:
    as close to "the 2xx arrives" as a client can get."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            _raw_post(server.port, f"/api/v1/elections/{eid}/members", {"name": "Lid"}, operator)
        )
        got = _answer(sock)
        server.kill9()
    assert got is not None and got[0] == 201, got
    return got[1]["id"], got[1]["access_code"]


def test_kill_9_as_the_201_arrives_loses_nothing(
    server_db: str, tmp_path: Path, operator: dict[str, str], settings: Settings
):
    env = server_env(server_db, TEST_SECRET, tmp_path)
    engine = make_engine(server_db)
    lost, acked_total = [], 0
    try:
        for n in range(10):
            server = Server(env, tmp_path / "server.log", migrate=n == 0)
            try:
                body = {"name": f"Kill {n}", "organisation": "Acme B.V.", "settings": {"seats": 5}}
                r = httpx.post(f"{server.base}/api/v1/elections", json=body, headers=operator)
                assert r.status_code == 201, r.text
                eid = r.json()["id"]
                acked = [_acknowledged_member(server, operator, eid)]
            finally:
                server.stop()
            acked_total += len(acked) + 1
            with engine.connect() as conn:
                if not conn.execute(
                    text("SELECT 1 FROM election WHERE id = :e"), {"e": eid}
                ).first():
                    lost.append(f"election {eid}")
                for member_id, code in acked:
                    got = conn.execute(
                        text(
                            "SELECT 1 FROM member m JOIN access_code a ON a.holder_id = m.id "
                            "AND a.holder_kind = 'member' AND a.election_id = m.election_id "
                            "WHERE m.id = :m AND a.code_hash = :h AND a.active"
                        ),
                        {"m": member_id, "h": codes.hash_code(settings, eid, code)},
                    ).first()
                    if got is None:
                        lost.append(f"member {member_id}")
    finally:
        engine.dispose()
    assert not lost, f"{len(lost)} of {acked_total} acknowledged writes lost: {lost}"


def test_a_real_server_takes_no_forwarded_for_from_an_untrusted_peer(
    server_db: str, tmp_path: Path, operator: dict[str, str]
):
    """From loopback, a random (or malformed) X-Forwarded-For must not buy a fresh budget:
    uvicorn's own proxy-header handling is off, and no proxy is trusted by default."""
    env = {**server_env(server_db, TEST_SECRET, tmp_path), "STEMBUS_LOGIN_MAX_FAILURES": "3"}
    server = Server(env, tmp_path / "server.log")
    try:
        body = {"name": "Throttle", "organisation": "Acme B.V.", "settings": {"seats": 5}}
        r = httpx.post(f"{server.base}/api/v1/elections", json=body, headers=operator)
        eid = r.json()["id"]
        r = httpx.post(
            f"{server.base}/api/v1/elections/{eid}/members", json={"name": "L"}, headers=operator
        )
        code = r.json()["access_code"]
        url = f"{server.base}/api/v1/elections/{eid}/login"
        spoofed = ["198.51.100.1", "198.51.100.2", "not-an-ip; DROP"]
        got = [
            httpx.post(
                url, json={"code": "AAAA-AAAA-AAAA-AAAA-AAAA"}, headers={"X-Forwarded-For": ip}
            ).status_code
            for ip in spoofed
        ]
        assert got == [401, 401, 401]
        r = httpx.post(url, json={"code": code}, headers={"X-Forwarded-For": "203.0.113.77"})
        assert r.status_code == 429, r.text
    finally:
        server.stop()
