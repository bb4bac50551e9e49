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


def _npm_ci() -> None:
    if not (LINT / "node_modules" / ".bin" / "tsc").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=LINT, check=True, timeout=300)


@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="Node.js and npm are not installed: openapi-typescript and tsc cannot run",
)
def test_typescript_types_are_generated_from_the_contract_and_compile_strictly(
    tmp_path: Path,
) -> None:
    """openapi/stembus.d.ts is what openapi-typescript (pinned in openapi/lint) makes of the
    committed contract, and a frontend's typed use of it (openapi/lint/check.ts) compiles under
    `tsc --strict`; a ballot with a mistyped member does not."""
    _npm_ci()
    bin_ = LINT / "node_modules" / ".bin"
    fresh = tmp_path / "stembus.d.ts"
    subprocess.run(
        [
            str(bin_ / "openapi-typescript"),
            str(ROOT / "openapi" / "openapi.json"),
            "-o",
            str(fresh),
        ],
        cwd=LINT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    committed = ROOT / "openapi" / "stembus.d.ts"
    assert fresh.read_text() == committed.read_text(), (
        "openapi/stembus.d.ts is stale: cd openapi/lint && "
        "./node_modules/.bin/openapi-typescript ../openapi.json -o ../stembus.d.ts"
    )
    tsc = [str(bin_ / "tsc"), "-p", str(LINT / "tsconfig.json")]
    r = subprocess.run(tsc, cwd=LINT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    # the check can fail: the same file with seq as a string is refused
    (tmp_path / "lint").mkdir()
    bad = (LINT / "check.ts").read_text().replace("seq: 1,", 'seq: "1",')
    assert 'seq: "1",' in bad
    (tmp_path / "lint" / "check.ts").write_text(bad)  # imports ../stembus: the fresh types
    flags = ["--strict", "--noEmit", "--target", "ES2022", "--module", "ES2022"]
    r = subprocess.run(
        [str(bin_ / "tsc"), *flags, "--moduleResolution", "Bundler", "lint/check.ts"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode != 0 and "check.ts(" in r.stdout and "number" in r.stdout, r.stdout
