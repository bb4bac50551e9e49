"""The committed contract passes Redocly's recommended lint rules with no error.

Redocly CLI is pinned by openapi/lint/package-lock.json and installed with `npm ci` from the
npm registry on first use (CI and this machine have Node 20 and reach the registry)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = ROOT / "openapi" / "lint"


@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="Node.js and npm are not installed: Redocly CLI (openapi/lint) cannot run",
)
def test_redocly_lint_has_no_errors() -> None:
    redocly = LINT / "node_modules" / ".bin" / "redocly"
    if not redocly.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=LINT, check=True, timeout=300)
    r = subprocess.run(
        [str(redocly), "lint", str(ROOT / "openapi" / "openapi.json"), "--format=stylish"],
        cwd=LINT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "Your API description is valid" in out, out
