"""A database outage degrades cleanly: a real `stembus serve` on a PostgreSQL instance of this
test's own (the shared server is never stopped), stopped and started under load. Every failure
is a 503 problem with Retry-After that says what became of the request, /readyz follows the
database, the service recovers by itself, and stderr has one JSON line per failure: no
traceback, no SQL parameters."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth.tokens import issue_token
from api.settings import Settings
from tests.conftest import TEST_SECRET, bearer
from tests.realserver import Server, free_port, server_env

pytestmark = pytest.mark.slow

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
SECRET_NAME = "Geheime Naam"  # a member's name: must never reach the log


class OwnPostgres:
    """A throwaway PostgreSQL cluster (initdb into a temporary folder, as a non-root user)."""

    def __init__(self) -> None:
        self.bin = BIN[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="stembus-pg-"))
        self.data, self.sock = self.dir / "data", self.dir / "sock"
        self.sock.mkdir()
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.dir, self.user)
            shutil.chown(self.sock, self.user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        cmd = [f"{self.bin}/{tool}", *args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        # No pipes: the server that pg_ctl starts would inherit them and hold them open.
        subprocess.run(
            cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.dir / "postgres.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", log, "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture()
def own_postgres() -> Iterator[OwnPostgres]:
    if not BIN:
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin) on this machine")
    pg = OwnPostgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.destroy()


def _load(base: str, op: dict[str, str], eid: str, stop: threading.Event, out: list[Any]) -> None:
    with httpx.Client(base_url=base, timeout=30) as c:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if i % 2:
                    r = c.post(
                        f"/api/v1/elections/{eid}/members",
                        json={"name": f"{SECRET_NAME} {i}", "email": "geheim@acme.example"},
                        headers=op,
                    )
                else:
                    r = c.get(f"/api/v1/elections/{eid}")
            except httpx.TransportError as e:
                out.append(("transport", repr(e), {}, {}))
                continue
            body = r.json() if r.headers.get("content-type", "").endswith("json") else {}
            out.append((r.status_code, r.headers.get("content-type"), dict(r.headers), body))
            time.sleep(0.01)


def test_postgres_stop_and_start_under_load(
    own_postgres: OwnPostgres, tmp_path: Path, settings: Settings
):
    token, _ = issue_token(
        settings, subject="operator", roles={"operator"}, election_id=None, minutes=30
    )
    op = bearer(token)
    server = Server(server_env(own_postgres.url, TEST_SECRET, tmp_path), tmp_path / "server.log")
    try:
        body = {"name": "Storing", "organisation": "Acme B.V.", "settings": {"seats": 5}}
        r = httpx.post(f"{server.base}/api/v1/elections", json=body, headers=op)
        assert r.status_code == 201, r.text
        eid = r.json()["id"]
        assert httpx.get(f"{server.base}/readyz").status_code == 200

        stop, results = threading.Event(), []
        threads = [
            threading.Thread(target=_load, args=(server.base, op, eid, stop, results))
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        time.sleep(1.0)
        own_postgres.stop()
        time.sleep(1.5)
        down = httpx.get(f"{server.base}/readyz", timeout=10)
        time.sleep(1.5)
        own_postgres.start()
        # Recovery by itself: within a few seconds everything answers again.
        deadline, ready = time.monotonic() + 20, None
        while time.monotonic() < deadline:
            ready = httpx.get(f"{server.base}/readyz", timeout=10)
            if ready.status_code == 200:
                break
            time.sleep(0.2)
        time.sleep(1.5)  # load after the recovery
        stop.set()
        for t in threads:
            t.join(timeout=60)
        after = [
            httpx.post(
                f"{server.base}/api/v1/elections/{eid}/members", json={"name": "Na"}, headers=op
            ).status_code
            for _ in range(5)
        ]
    finally:
        server.stop()

    assert down.status_code == 503 and down.headers["retry-after"]
    assert down.json()["type"] == "/problems/not-ready"
    assert ready is not None and ready.status_code == 200
    assert after == [201] * 5
    statuses = Counter(r[0] for r in results)
    failures = [r for r in results if r[0] not in (200, 201)]
    assert failures, f"the outage was not noticed: {statuses}"
    for status, ctype, headers, problem in failures:
        assert status == 503, (status, ctype, problem, statuses)
        assert ctype == "application/problem+json"
        assert int(headers["retry-after"]) > 0
        assert problem["type"] == "/problems/service-unavailable"
        assert problem["outcome"] in ("not_applied", "unknown")
    # The log: one JSON line per failure, no traceback, no SQL parameters or personal data.
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log
    assert SECRET_NAME not in log and "geheim@acme.example" not in log
    events = []
    for line in log.splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    outage = [e for e in events if e.get("event") == "database-unavailable"]
    assert len(outage) == len(failures), (len(outage), len(failures))
