"""A Node voter written from docs/client-protocol.md (tests/js/voter.mjs, with the libraries the
guide names, pinned by tests/js/package-lock.json) against a real `stembus serve`: credential,
seal, cast, promise, identical retry, re-vote, receipt — so the guide cannot drift from the code.

The libraries are installed with `npm ci` from the npm registry on first use; the test skips
only when Node.js or npm is not installed (CI and this machine have Node 20).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth.tokens import issue_token
from api.settings import Settings
from crypto import sealing
from crypto.canonical import b64d
from tests.api.test_voting_support import CONSULTATION, close_voting, voting_election
from tests.conftest import DB_ENV, ElectionFixture, bearer

HERE = Path(__file__).resolve().parent
SECRET = "node-voter-secret-" + "n" * 40

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="Node.js and npm are not installed: the Node voter (tests/js) cannot run",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[str]:
    if not (HERE / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, timeout=300)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "STEMBUS_SECRET": SECRET,
        "STEMBUS_PUBLIC_BASE_URL": base,
        "STEMBUS_DATA_DIR": str(tmp_path_factory.mktemp("node-data")),
        "STEMBUS_DATABASE_URL": database_url,  # the session's database (SQLite or PostgreSQL)
    }
    env.pop(DB_ENV, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, "stembus serve exited"
            assert time.monotonic() < deadline, "stembus serve did not become ready"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _node(*args: str) -> Any:
    r = subprocess.run(
        ["node", str(HERE / "voter.mjs"), *args],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr + r.stdout
    return json.loads(r.stdout)


def test_a_node_voter_from_the_guide(server: str) -> None:
    settings = Settings(secret=SECRET, public_base_url=server)
    token, _ = issue_token(
        settings, subject="operator", roles={"operator"}, election_id=None, minutes=30
    )
    with httpx.Client(base_url=server, timeout=30) as http:
        ve = voting_election(None, lambda body: ElectionFixture(http, bearer(token), body), 2)  # type: ignore[arg-type]
        assert ve.e.data["kind"] == CONSULTATION["kind"]
        code = next(iter(ve.codes.values()))
        first = {"q1": ["yes"], "q2": ["fiets"]}
        final = {"q1": ["no"], "q2": ["sport", "kinderopvang"]}
        got = _node("vote", server, ve.id, code, json.dumps(first), json.dumps(final))
        assert [c["seq"] for c in got["casts"]] == [1, 2]
        close_voting(ve)
        for cast in got["casts"]:
            receipt = _node("receipt", server, ve.id, cast["entry_hash"])
            assert receipt["size"] > receipt["index"]
        # What the Node voter sealed is what the tally will read: its final ballot opens to
        # `final` with the election's sealing key, and it is the credential's highest seq.
        ballots = [x for x in ve.e.log() if x["type"] == "ballot"]
        mine = [b for b in ballots if b["credential"] == got["credential"]]
        assert sorted(b["seq"] for b in mine) == [1, 2]
        last = max(mine, key=lambda b: b["seq"])
        padded = sealing.open_ballot(
            ve.sealing_private, b64d(last["ciphertext"]), ve.id, last["group"], ballot_size=None
        )
        assert sealing.decode_ballot(padded) == {
            "election": ve.id,
            "group": got["group"],
            "selections": final,
        }
