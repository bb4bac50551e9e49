"""The committed booth script (and the console's script and stylesheet) is exactly what
web/package-lock.json and web/src build: `npm ci` and the esbuild script in a temporary copy of
web/ must give api/web/static/booth.js, console.js and console.css byte for byte (issue 16: no
build step for users, and no unreviewable bytes). Skips without npm outside CI; with CI=true a
missing npm fails."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from api.web.assets import STATIC
from tests.realserver import ROOT
from tests.web.conftest import in_ci

WEB = ROOT / "web"


def test_the_committed_bundle_is_rebuilt_byte_for_byte(tmp_path: Path) -> None:
    if shutil.which("npm") is None or shutil.which("node") is None:
        if in_ci():
            pytest.fail("npm is not installed (CI=true: the bundle must be rebuilt)")
        pytest.skip("npm is not installed: the booth bundle cannot be rebuilt here")
    copy = tmp_path / "web"
    shutil.copytree(WEB, copy, ignore=shutil.ignore_patterns("node_modules"))
    # The output lands next to the copy, as ../api/web/static/booth.js does in the repository.
    (tmp_path / "api" / "web" / "static").mkdir(parents=True)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=copy,
        check=True,
        timeout=300,
        capture_output=True,
    )
    subprocess.run(["node", "build.mjs"], cwd=copy, check=True, timeout=120)
    # The booth, and the committee's and operator's console (issue 17).
    for name in ("booth.js", "console.js", "console.css"):
        built = (tmp_path / "api" / "web" / "static" / name).read_bytes()
        committed = (STATIC / name).read_bytes()
        assert built == committed, (
            f"api/web/static/{name} differs from a fresh build: "
            "run `cd web && npm ci && npm run build` and commit it"
        )
