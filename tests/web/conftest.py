"""Fixtures of the browser tests: one real `stembus serve` per module on the session's database,
one Chromium (Debian's /usr/bin/chromium, driven by Playwright for Python — never a downloaded
browser) per module, and axe-core from web/package-lock.json, injected into each page.

Outside CI a machine without Chromium, or without npm for axe-core, skips these tests with a
message; with CI=true a missing browser or npm fails them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.realserver import ROOT, Server

CHROMIUM = Path("/usr/bin/chromium")
WEB = ROOT / "web"
SECRET = "web-pages-secret-" + "w" * 40
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(what: str) -> None:
    if in_ci():
        pytest.fail(f"{what} (CI=true: the browser tests must run)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def axe_source() -> str:
    path = WEB / "node_modules" / "axe-core" / "axe.min.js"
    if not path.exists():
        if shutil.which("npm") is None:
            missing("npm is not installed: axe-core (web/package-lock.json) cannot be installed")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True, timeout=300)
    return path.read_text()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("web-data")
    env = {
        "STEMBUS_DATABASE_URL": database_url,
        "STEMBUS_SECRET": SECRET,
        "STEMBUS_DATA_DIR": str(data),
        "STEMBUS_LOG_LEVEL": "WARNING",
    }
    srv = Server(env, data / "server.log", migrate=False)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        missing("no /usr/bin/chromium (apt-get install -y chromium): browser tests skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright (the test extra) is not installed")
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1000, "height": 800},
            locale="nl-NL",  # Accept-Language: nl-NL — the pages pick Dutch from it
        )
        try:
            yield ctx
        finally:
            ctx.close()


def axe(page: Any, source: str) -> list[dict[str, Any]]:
    """The WCAG 2.1 A/AA violations axe-core finds on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Injected by the test through the DevTools protocol: the page's CSP is for the page.
        page.evaluate(source)
    result: dict[str, Any] = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in result["violations"]
    ]
