"""A real `stembus serve` process for tests that the in-process client cannot make honest: it
waits for the whole ASGI call, so a commit that runs after the response was sent looks durable.
(No tests here.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`stembus serve` in its own process group (kill -9 reaches every process of it)."""

    def __init__(self, env: Mapping[str, str], log: Path, *, migrate: bool = True) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        args = [sys.executable, "-m", "cli", "serve", "--port", str(self.port)]
        if not migrate:
            args.append("--no-migrate")
        self._out = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args,
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("server did not answer within 60 s")

    def kill9(self, *, wait: bool = True) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if wait:
            self.proc.wait(timeout=20)
            self._out.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()
        self._out.close()


def server_env(database_url: str, secret: str, data_dir: Path) -> dict[str, str]:
    return {
        "STEMBUS_DATABASE_URL": database_url,
        "STEMBUS_SECRET": secret,
        "STEMBUS_PUBLIC_BASE_URL": "https://stembus.test",
        "STEMBUS_DATA_DIR": str(data_dir),
        "STEMBUS_LOG_LEVEL": "INFO",
    }
