"""Background mail delivery through real `stembus serve` processes: mail queued while the mail
server is down, the service killed with -9 while it retries, then two service processes started
on the same database and the mail server brought up — every mail arrives exactly once, and the
code in each one logs in."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller

from api.auth.tokens import issue_token
from api.migrate import upgrade
from api.settings import Settings
from tests.api.test_invitations import Inbox
from tests.conftest import DB_ENV, TEST_SECRET, bearer
from tests.realserver import Server, free_port, server_env

pytestmark = pytest.mark.slow

N = 30


@pytest.fixture()
def server_db(tmp_path: Path, database_url: str) -> str:
    if os.environ.get(DB_ENV):
        return database_url  # this run's own PostgreSQL database
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    upgrade(url)
    return url


def _wait(what: str, check, timeout: float = 60):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.1)


def test_no_mail_lost_or_doubled_across_kill_9_and_two_processes(
    server_db: str, tmp_path: Path, settings: Settings
) -> None:
    smtp_port = free_port()  # nothing listens there yet: connection refused
    env = {
        **server_env(server_db, TEST_SECRET, tmp_path),
        "STEMBUS_SMTP_HOST": "127.0.0.1",
        "STEMBUS_SMTP_PORT": str(smtp_port),
        "STEMBUS_SMTP_SECURITY": "none",
        "STEMBUS_MAIL_POLL_SECONDS": "0.1",
        "STEMBUS_MAIL_RETRY_BASE_SECONDS": "0.2",
        "STEMBUS_MAIL_RETRY_MAX_SECONDS": "0.5",
        "STEMBUS_MAIL_MAX_ATTEMPTS": "50",
        "STEMBUS_MAIL_BATCH_SIZE": "4",
        "STEMBUS_MAIL_CLAIM_SECONDS": "3",
    }
    token, _ = issue_token(
        settings, subject="operator", roles={"operator"}, election_id=None, minutes=30
    )
    op = bearer(token)
    first = Server(env, tmp_path / "server1.log")
    servers: list[Server] = [first]
    controller: Controller | None = None
    try:
        with httpx.Client(base_url=first.base, timeout=30) as c:
            body = {"name": "OR 2027", "organisation": "Acme B.V.", "settings": {"seats": 5}}
            eid = c.post("/api/v1/elections", json=body, headers=op).json()["id"]
            url = f"/api/v1/elections/{eid}"
            r = c.post(f"{url}/members", json={"name": "Lid", "committee": True}, headers=op)
            member_code = r.json()["access_code"]
            committee = bearer(
                c.post(f"{url}/login", json={"code": member_code}).json()["access_token"]
            )
            roll = "employee_number,name,email,kiesgroep,employment_start\n" + "".join(
                f"E{i},Mw {i},mw{i}@acme.example,all,2020-01-01\n" for i in range(N)
            )
            r = c.post(
                f"{url}/roll/import",
                content=roll,
                headers={**committee, "Content-Type": "text/csv"},
            )
            assert r.status_code == 200, r.text
            r = c.post(f"{url}/invitations/send", json={}, headers=committee)
            assert r.status_code == 202 and r.json()["queued"] == N, r.text

            def status(client: httpx.Client) -> dict:  # type: ignore[type-arg]
                r = client.get(f"{url}/invitations/status", params={"limit": 500}, headers=op)
                assert r.status_code == 200, r.text
                return dict(r.json())

            # The worker tries, is refused, and keeps every mail queued with the reason.
            st = _wait(
                "retries",
                lambda: (s := status(c)) and all(x["attempts"] >= 2 for x in s["items"]) and s,
            )
            assert st["counts"] == {"queued": N, "sent": 0, "failed": 0}
            assert {x["reason"] for x in st["items"]} == {"connection refused"}
        first.kill9()
        # Two service processes on the same database, then the mail server comes up.
        servers += [Server(env, tmp_path / f"server{i}.log", migrate=False) for i in (2, 3)]
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        with httpx.Client(base_url=servers[1].base, timeout=30) as c:
            st = _wait("delivery", lambda: (s := status(c))["counts"]["sent"] == N and s)
            assert st["counts"] == {"queued": 0, "sent": N, "failed": 0}
            time.sleep(1)  # a straggler would arrive now
            sent_to = Counter(to[0] for to, _ in inbox.messages)
            assert sent_to == Counter(f"mw{i}@acme.example" for i in range(N)), sent_to
            for _, msg in inbox.messages[:5]:
                body = msg.get_payload(decode=True).decode()
                code = next(line.split()[-1] for line in body.splitlines() if "Code:" in line)
                assert c.post(f"{url}/login", json={"code": code}).status_code == 200
            issued, start = [], 0
            while start is not None:
                page = c.get(f"{url}/log/entries", params={"start": start}).json()
                issued += [e["entry"] for e in page["entries"]]
                start = page["next"]
            issued = [e for e in issued if e["type"] == "codes_issued"]
            assert sum(e["count"] for e in issued) == N
    finally:
        if controller is not None:
            controller.stop()
        for s in servers[1:]:
            s.stop()
        if first.proc.poll() is None:
            first.kill9()
