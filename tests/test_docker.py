"""Safe by default: what of the image and the compose file can be checked without a Docker
engine (their text, parsed), and the refusal to start with a weak secret (a real process)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "docker" / "Dockerfile").read_text()


def _instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def test_image_runs_in_production_mode_without_migrating():
    lines = _instructions()
    env = " ".join(ln for ln in lines if ln.startswith("ENV "))
    assert "STEMBUS_MODE=production" in env
    [cmd] = [ln for ln in lines if ln.startswith("CMD ")]
    assert '"serve"' in cmd and '"--no-migrate"' in cmd
    assert "STEMBUS_SECRET" not in env  # no secret baked into the image


def test_image_installs_pinned_and_not_editable():
    installs = [ln for ln in _instructions() if "pip install" in ln]
    assert installs and all(" -e " not in ln and "--editable" not in ln for ln in installs)
    assert any("-c constraints.txt" in ln for ln in installs)
    assert any(ln.startswith("COPY docker/constraints.txt") for ln in _instructions())
    pins = {}
    for ln in (ROOT / "docker" / "constraints.txt").read_text().splitlines():
        if ln and not ln.startswith("#"):
            name, _, version = ln.partition("==")
            assert version, f"not pinned: {ln}"
            pins[name.lower()] = version
    for r in requires("stembus") or []:
        req = Requirement(r)
        if req.marker is not None and "extra" in str(req.marker):
            continue  # the test extra is not in the image
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not pinned in docker/constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (name, pins[name])


def test_dockerignore_keeps_secrets_and_state_out_of_the_context():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".env", "data", "*.sqlite3"):
        assert entry in ignored, entry


def test_compose_migrates_once_restarts_and_takes_the_password_from_the_environment():
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    services = compose["services"]
    db, api, migrate = services["db"], services["api"], services["migrate"]
    assert migrate["command"] == ["stembus", "migrate"]
    assert migrate.get("restart", "no") == "no"  # one shot
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "migrate" not in " ".join(api.get("command", []))
    for s in (db, api):
        assert s["restart"] in ("always", "unless-stopped")
    password = db["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${STEMBUS_DB_PASSWORD:?"), password
    for s in (api, migrate):
        url = s["environment"]["STEMBUS_DATABASE_URL"]
        assert ":${STEMBUS_DB_PASSWORD}@" in url, url
        assert s["environment"]["STEMBUS_SECRET"].startswith("${STEMBUS_SECRET:?")
        assert s["environment"]["STEMBUS_MODE"] == "production"


def _start(secret: str | None, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STEMBUS_MODE": "production", "STEMBUS_DATA_DIR": str(tmp_path)}
    env.pop("STEMBUS_SECRET", None)
    if secret is not None:
        env["STEMBUS_SECRET"] = secret
    return subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--port", "1"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_strong_secret(tmp_path: Path):
    for secret in (None, "a" * 32, "changeme" * 4):
        got = _start(secret, tmp_path)
        out = got.stdout + got.stderr
        assert got.returncode == 2, out
        assert "refusing to start" in out and "STEMBUS_SECRET" in out
        assert "secrets.token_urlsafe(48)" in out  # how to make one
        assert "Traceback" not in out
    assert not (tmp_path / "stembus.sqlite3").exists()  # refused before touching a database
