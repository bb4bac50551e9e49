"""`stembus ceremony` and `stembus trustee submit` against the API: one clear line per error with
the problem type and what to do, the documented exit codes, share files only after a successful
upload, and "no ceremony is needed" when no kiesgroep holds a vote."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import cli.ceremony as ceremony
from cli.main import app
from tests.test_e2e_shapes import Shape

runner = CliRunner()
URL = "http://testserver"


@pytest.fixture()
def over_the_app(client, monkeypatch):  # type: ignore[no-untyped-def]
    """The commands talk HTTP to the app under test (the transport, not our logic, replaced)."""
    monkeypatch.setattr(ceremony, "http_client", lambda timeout: contextlib.nullcontext(client))
    return client


def published(client: Any, operator: dict[str, str], contested: bool) -> Shape:
    s = Shape(client, operator, {"seats": 1 if contested else 3})
    s.roll({"A1": "all", "A2": "all", "A3": "all"})
    s.publish([("all", "FNV", ["A1", "A2"])])
    return s


def error_line(output: str) -> str:
    lines = [x for x in output.splitlines() if "error:" in x]
    assert len(lines) == 1, output
    return lines[0]


def ceremony_args(s: Shape, out: Path, code: str) -> list[str]:
    return ["ceremony", "--election", s.id, "-k", "2", "-n", "3", "--out", str(out)] + [
        "--url",
        URL,
        "--code",
        code,
    ]


def test_no_ceremony_is_needed_when_no_kiesgroep_holds_a_vote(
    over_the_app, operator_headers, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    s = published(over_the_app, operator_headers, contested=False)
    out = tmp_path / "shares"
    r = runner.invoke(app, ceremony_args(s, out, s.member_codes[0]))
    assert r.exit_code == 0, r.output
    assert "No ceremony is needed" in r.output and '"to": "tallied"' in r.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_failed_upload_leaves_no_share_files(
    over_the_app, operator_headers, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    s = published(over_the_app, operator_headers, contested=True)
    out = tmp_path / "shares"
    r = runner.invoke(app, ceremony_args(s, out, "WRONG-CODE-1234"))
    assert r.exit_code == ceremony.EXIT_SERVICE == 3, r.output
    line = error_line(r.output)
    assert "/problems/invalid-access-code" in line and "HTTP 401" in line
    assert "what to do:" in line and "Traceback" not in r.output
    assert list(tmp_path.iterdir()) == []  # no share files, no staging folder


def test_shares_appear_after_the_upload_and_a_second_ceremony_is_refused(
    over_the_app, operator_headers, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    s = published(over_the_app, operator_headers, contested=True)
    out = tmp_path / "shares"
    r = runner.invoke(app, ceremony_args(s, out, s.member_codes[0]))
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == sorted(ceremony.share_names(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shares"]  # staging folder gone
    keys = [
        e for e in s.c.get(s.url("/log/entries")).json()["entries"] if e["entry"]["type"] == "keys"
    ]
    assert len(keys) == 1
    # The same folder again: refused before anything is made (usage), files untouched.
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    r = runner.invoke(app, ceremony_args(s, out, s.member_codes[0]))
    assert r.exit_code == ceremony.EXIT_USAGE == 2 and "exists already" in error_line(r.output)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # Another folder: the service refuses (keys exist); no orphan shares are written.
    other = tmp_path / "other"
    r = runner.invoke(app, ceremony_args(s, other, s.member_codes[0]))
    assert r.exit_code == 3
    assert "/problems/keys-already-prepared" in error_line(r.output)
    assert not other.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["shares"]


def test_trustee_submit_errors(over_the_app, operator_headers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s = published(over_the_app, operator_headers, contested=True)
    public, files = ceremony.make_ceremony(s.id, 2, 3, tmp_path / "shares")
    share = next(f for f in files if f.suffix == ".json")
    code = s.member_codes[0]

    def submit(path: Path, url: str = URL) -> Any:
        return runner.invoke(app, ["trustee", "submit", str(path), "--url", url, "--code", code])

    # Voting has not even opened: the service refuses, with what to do.
    r = submit(share)
    assert r.exit_code == 3, r.output
    line = error_line(r.output)
    assert "/problems/shares-not-accepted" in line and "after voting has closed" in line
    # A missing file is a usage error; a damaged share fails its check (exit 1).
    r = submit(tmp_path / "nope.json")
    assert r.exit_code == 2 and "cannot read" in error_line(r.output)
    damaged = tmp_path / "damaged.txt"
    text = ceremony.read_share(share)
    damaged.write_text(text[:-3] + ("AAA" if not text.endswith("AAA") else "BBB"))
    r = submit(damaged)
    assert r.exit_code == 1 and "fails its check" in error_line(r.output)


def test_an_unreachable_service_is_exit_4(tmp_path: Path) -> None:
    _, files = ceremony.make_ceremony("verk2027", 2, 3, tmp_path / "shares")
    share = next(f for f in files if f.suffix == ".json")
    # Port 9 (discard) on this machine: nothing listens, the connection is refused.
    args = ["trustee", "submit", str(share), "--url", "http://127.0.0.1:9", "--code", "x" * 12]
    r = runner.invoke(app, args)
    assert r.exit_code == ceremony.EXIT_UNREACHABLE == 4, r.output
    assert "cannot reach http://127.0.0.1:9" in error_line(r.output)
    r = runner.invoke(app, ceremony_args_for("verk2027", tmp_path / "new", "http://127.0.0.1:9"))
    assert r.exit_code == 4 and not (tmp_path / "new").exists()


def ceremony_args_for(election: str, out: Path, url: str) -> list[str]:
    return ["ceremony", "--election", election, "--out", str(out), "--url", url, "--code", "x"]


def test_a_lost_answer_to_the_upload_keeps_the_shares(
    client, operator_headers, monkeypatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The keys reach the service but the answer is lost on the way back (a network fault,
    injected in the transport): the shares are kept in the staging folder, and the message says
    how to tell whether they are the ones."""
    import json

    import httpx

    class LosesTheKeysAnswer:
        def request(self, method: str, url: str, **kw: Any) -> Any:
            r = client.request(method, url, **kw)
            if url.endswith("/voting/keys"):
                raise httpx.ReadTimeout("the answer was lost")
            return r

    monkeypatch.setattr(
        ceremony, "http_client", lambda timeout: contextlib.nullcontext(LosesTheKeysAnswer())
    )
    s = published(client, operator_headers, contested=True)
    out = tmp_path / "shares"
    r = runner.invoke(app, ceremony_args(s, out, s.member_codes[0]))
    assert r.exit_code == 4, r.output
    line = error_line(r.output)
    assert "the upload may have reached the service" in line
    [staging] = [p for p in tmp_path.iterdir() if p.name.startswith(".shares-staging-")]
    assert sorted(p.name for p in staging.iterdir()) == sorted(ceremony.share_names(3))
    assert not out.exists()
    keys = [
        e["entry"]
        for e in client.get(s.url("/log/entries")).json()["entries"]
        if e["entry"]["type"] == "keys"
    ]
    share = json.loads((staging / "trustee-1-of-3.json").read_text())
    assert keys[0]["sealing_key"] == share["sealing_key"] and share["sealing_key"] in line
