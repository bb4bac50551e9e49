"""The README's run command: `stembus serve` applies migrations and answers on /readyz."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_on_a_fresh_sqlite_database(tmp_path: Path):
    port = _free_port()
    env = {**os.environ, "STEMBUS_DATA_DIR": str(tmp_path / "data"), "STEMBUS_SECRET": "x" * 40}
    env.pop("STEMBUS_DATABASE_URL", None)
    env.pop("STEMBUS_PUBLIC_BASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    break
                time.sleep(0.3)
        assert ready is not None and ready.status_code == 200, (
            proc.stdout.read() if proc.poll() is not None else "server did not answer"
        )
        docs = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5)
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert (tmp_path / "data" / "stembus.sqlite3").exists()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/docs" in out
    # The default public base URL (localhost:8000) is not where it listens: it says so.
    said = " ".join(out.split())
    assert (
        "warning: STEMBUS_PUBLIC_BASE_URL is http://localhost:8000, but this server listens on "
        f"http://127.0.0.1:{port}"
    ) in said, out
