"""The booth's code pinned in the public log (issue 16 item 4; docs/protocol.md "The booth's
code"), against a real `stembus serve`: the ``booth_published`` entry names the SHA-256 of the
bytes the server really serves; `stembus verify-booth` passes on the honest server and fails —
naming the asset — behind a proxy that changes one byte of the script, with a wrong log key,
and before voting opened.
"""

from __future__ import annotations

import hashlib
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth.tokens import issue_token
from api.settings import Settings
from api.web.assets import booth_assets
from crypto import note
from tests.api.test_voting_support import VotingElection, voting_election
from tests.conftest import DB_ENV, ElectionFixture, bearer
from tests.realserver import ROOT, Server

SECRET = "booth-pin-secret-" + "b" * 40


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("booth-data")
    env = {
        "STEMBUS_DATABASE_URL": database_url,
        "STEMBUS_SECRET": SECRET,
        "STEMBUS_PUBLIC_BASE_URL": "https://stembus.test",
        "STEMBUS_DATA_DIR": str(data),
        DB_ENV: "",
    }
    srv = Server(env, data / "serve.log", migrate=False)
    try:
        yield srv
    finally:
        srv.stop()


def _election(server: Server, open_voting: bool = True) -> VotingElection:
    settings = Settings(secret=SECRET, public_base_url="https://stembus.test")
    token, _ = issue_token(
        settings, subject="operator", roles={"operator"}, election_id=None, minutes=30
    )
    http = httpx.Client(base_url=server.base, timeout=30)
    return voting_election(
        None,
        lambda body: ElectionFixture(http, bearer(token), body),  # type: ignore[arg-type]
        2,
        open_voting=open_voting,
    )


@pytest.fixture(scope="module")
def voting(server: Server) -> VotingElection:
    return _election(server)


def _log_key(server: Server, election: str) -> str:
    r = httpx.get(f"{server.base}/api/v1/elections/{election}/log/key")
    return str(r.json()["verifier_key"])


def _verify_booth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "verify-booth", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_entry_pins_what_the_server_serves(server: Server, voting: VotingElection) -> None:
    log = voting.e.log()
    types = [e["type"] for e in log]
    at = types.index("booth_published")
    assert log[at + 1]["type"] == "phase_changed" and log[at + 1]["to"] == "voting"
    assert types.count("booth_published") == 1
    entry = log[at]
    assert entry["by"] == "system"
    expected = {
        path.replace("{election}", voting.id): hashlib.sha256(data).hexdigest()
        for path, data in booth_assets().items()
    }
    assert entry["assets"] == expected
    assert {"/assets/booth.js", "/assets/booth.css"} <= set(expected)
    assert any(p.startswith(f"/elections/{voting.id}?lang=") for p in expected)
    for path, digest in entry["assets"].items():
        r = httpx.get(server.base + path)
        assert r.status_code == 200, path
        assert hashlib.sha256(r.content).hexdigest() == digest, path


def test_verify_booth_passes_on_the_honest_server(server: Server, voting: VotingElection) -> None:
    key = _log_key(server, voting.id)
    r = _verify_booth(f"{server.base}/elections/{voting.id}", "--log-key", key, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert '"ok": true' in r.stdout
    # without a pinned key it still checks, and says the key was the server's own
    r = _verify_booth(f"{server.base}/elections/{voting.id}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "BOOTH VERIFIED" in r.stdout and "pin it with --log-key" in r.stdout


def test_verify_booth_with_the_verified_record(
    server: Server, voting: VotingElection, tmp_path: Path
) -> None:
    rec = tmp_path / "record.jsonl"
    rec.write_bytes(httpx.get(f"{server.base}/api/v1/elections/{voting.id}/record").content)
    r = _verify_booth(f"{server.base}/elections/{voting.id}", "--record", str(rec))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "pinned in record" in r.stdout.replace("\n", " ")


class _Tamper(http.server.BaseHTTPRequestHandler):
    """A proxy that serves the real server's answers, but one changed byte in the script."""

    upstream = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        r = httpx.get(self.upstream + self.path)
        body = r.content
        if self.path.startswith("/assets/booth.js"):
            body = body.replace(b"credentials", b"credentialz", 1)
        self.send_response(r.status_code)
        self.send_header("Content-Type", r.headers.get("content-type", "text/plain"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_verify_booth_names_the_asset_a_proxy_changed(
    server: Server, voting: VotingElection
) -> None:
    handler = type("Tamper", (_Tamper,), {"upstream": server.base})
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{proxy.server_address[1]}"
        assert httpx.get(base + "/assets/booth.js").content != booth_assets()["/assets/booth.js"]
        key = _log_key(server, voting.id)
        r = _verify_booth(f"{base}/elections/{voting.id}", "--log-key", key)
        assert r.returncode == 1, r.stdout + r.stderr
        out = " ".join(r.stdout.split())
        assert "BOOTH NOT VERIFIED" in out
        assert "/assets/booth.js │ DIFFERENT" in out
        assert "/assets/booth.css │ same bytes" in out
    finally:
        proxy.shutdown()


def test_verify_booth_refuses_an_entry_not_signed_by_the_pinned_key(
    server: Server, voting: VotingElection
) -> None:
    other = note.Signer.generate(f"stembus.test/elections/{voting.id}").verifier_key
    r = _verify_booth(f"{server.base}/elections/{voting.id}", "--log-key", other)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "not proven in the signed log" in r.stderr


def test_verify_booth_before_voting_opened(server: Server) -> None:
    ve = _election(server, open_voting=False)
    assert "booth_published" not in [e["type"] for e in ve.e.log()]
    r = _verify_booth(f"{server.base}/elections/{ve.id}")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "voting has not opened" in r.stderr


def test_verify_booth_refuses_an_address_without_an_election() -> None:
    r = _verify_booth("https://stembus.test/")
    assert r.returncode == 2
    assert "/elections/<id>" in r.stderr
