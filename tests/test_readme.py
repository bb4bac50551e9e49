"""The README is the front door: its commands must be the ones CI runs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = text.split("```sh\n")[1:3]
    return [b.split("\n```")[0].strip() for b in blocks]


def test_readme_starts_with_run_and_test_commands():
    run, test = _commands()
    assert "stembus serve" in run and "python3 -m venv .venv" in run
    assert test.endswith(".venv/bin/pytest")


def test_ci_runs_the_readme_test_command_on_both_databases():
    ci = (ROOT / ".ci" / "run").read_text()
    _, test = _commands()
    assert test in ci
    assert 'STEMBUS_TEST_DATABASE_URL="$pg_url" .venv/bin/pytest' in ci
