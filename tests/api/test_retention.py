"""Retention: after the purge no personal datum of the roll, the committee or the submitters is
left in any table of the database (this module's own), while the log, the record and the results
stay verifiable."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlmodel import Session
from typer.testing import CliRunner

from api.auth.models import Member
from api.lists.models import Submitter
from api.main import create_app
from api.migrate import upgrade
from api.roll.models import Voter
from api.settings import Settings
from cli.main import app as cli_app
from rules.record import verify_record
from tests.api.test_voting_support import roll_csv
from tests.conftest import DB_ENV, TEST_SECRET, _pg_admin, bearer
from tests.db_scan import text_cells
from tests.test_e2e import ROLL, tallied  # noqa: F401 - the whole election, as a fixture


@pytest.fixture(scope="module")
def app(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """This module's own database, fresh from the migrations: the scan below reads every table
    whole, so no other test's election may stand in it (they share names with ours)."""
    server = os.environ.get(DB_ENV)
    if server:
        name = f"stembus_retention_{secrets.token_hex(6)}"
        with _pg_admin(server) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('retention') / 'stembus.sqlite3'}"
    upgrade(url)
    application = create_app(settings.model_copy(update={"database_url": url}))
    try:
        yield application
    finally:
        application.state.engine.dispose()
        if server:
            with _pg_admin(server) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Columns of these tables hold the public log: candidates' names stand there by law (the
# published lists), never anything else of the roll.
PUBLIC_LOG = {"log_entry", "log_checkpoint"}


def _personal_data(engine: Any, election_id: str) -> dict[str, list[str]]:
    """Every name, e-mail address and employee number of the election, as stored."""
    with Session(engine) as s:
        voters = list(s.exec(select(Voter).where(Voter.election_id == election_id)).scalars())
        members = list(s.exec(select(Member).where(Member.election_id == election_id)).scalars())
        subs = list(s.exec(select(Submitter).where(Submitter.election_id == election_id)).scalars())
    return {
        "names": [p.name for p in (*voters, *members, *subs) if p.name],
        "emails": [p.email for p in (*voters, *members, *subs) if p.email],
        "numbers": [v.employee_number for v in voters],
    }


def _strings(value: Any) -> list[str]:
    """The text a stored value holds: JSON walked to its string leaves, else the text itself."""
    if isinstance(value, bytes | memoryview):
        value = bytes(value).decode("latin-1")
    try:
        doc = json.loads(value)
    except ValueError:
        return [value]
    out: list[str] = []
    stack = [doc]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
        elif isinstance(x, str):
            out.append(x)
    return out


def _scan(engine: Any, data: dict[str, list[str]], allowed_in_log: set[str]) -> list[str]:
    """Every place in any table (reflected from the database itself, so a table no model knows
    is scanned too) where a personal datum stands."""
    found: list[str] = []
    for table, col, value in text_cells(engine):
        for text in _strings(value):
            low = text.lower()
            for name in data["names"]:
                if name.lower() in low and not (table in PUBLIC_LOG and name in allowed_in_log):
                    found.append(f"{table}.{col}: name {name!r}")
            for email in data["emails"]:
                if email.lower() in low:
                    found.append(f"{table}.{col}: e-mail {email!r}")
            for number in data["numbers"]:
                # A whole token: base64 and hex in the log hold any short string.
                if re.search(rf"(?<![A-Za-z0-9]){re.escape(number)}(?![A-Za-z0-9])", text):
                    found.append(f"{table}.{col}: number {number!r}")
    return found


def test_purge_leaves_no_personal_datum_and_the_record_verifies(
    app,
    client,
    operator_headers,
    tallied,  # noqa: F811
) -> None:
    f = tallied
    engine = app.state.engine
    data = _personal_data(engine, f.id)
    assert len(data["numbers"]) == len(ROLL) and len(data["emails"]) == len(ROLL)
    status = client.get(f.url("/status")).json()
    candidates = {
        c["name"] for g in status["groups"] for lst in g["lists"] for c in lst["candidates"]
    }
    # Before: the roll is everywhere it should be (the scan finds what it is looking for).
    before = _scan(engine, data, candidates)
    assert any("voter.name" in x for x in before) and any("voter.email" in x for x in before)
    assert any("voter.employee_number" in x for x in before)
    assert any("member.name" in x for x in before)
    # The audit trail names the committee member who decided and the voters decided about.
    assert any("audit_entry.actor_name" in x for x in before)
    assert any("audit_entry.details_json" in x for x in before)

    # The audit trail has the whole road, the scheduler's and the tally's steps as `system`.
    trail = client.get(f.url("/audit"), params={"limit": 500}, headers=f.chair).json()["items"]
    done = {x["action"]: x for x in trail}
    for action in ("election_created", "roll_imported", "list_accepted", "voting_prepared"):
        assert action in done, action
    assert done["tally_completed"]["actor"]["role"] == "system"
    assert trail[0]["action"] == "tally_completed"
    assert any(x["actor"]["name"] for x in trail)

    # Within the retention period (90 days by default): refused unless forced.
    state = client.get(f.url("/retention"), headers=operator_headers).json()
    assert state["status"] == "tallied" and state["retention_days"] == 90
    assert state["purged"] is False and state["retain_until"] > state["ended_at"]
    r = client.post(f.url("/retention/purge"), json={}, headers=operator_headers)
    assert r.status_code == 409 and r.json()["type"] == "/problems/retention-not-over"
    assert r.json()["retain_until"][:19] == state["retain_until"][:19]
    r = client.post(f.url("/retention/purge"), json={"force": True}, headers=f.chair)
    assert r.status_code == 403 and r.json()["type"] == "/problems/forbidden"
    record_before = client.get(f.url("/record")).content

    purged = client.post(f.url("/retention/purge"), json={"force": True}, headers=operator_headers)
    assert purged.status_code == 200, purged.text
    counts = purged.json()["counts"]
    assert counts["voters"] == len(ROLL) and counts["members"] == 3
    assert counts["access_codes"] >= len(ROLL) + 3 and counts["nominations"] > 0
    assert counts["credential_requests"] == 18

    # After: nothing of the roll, the committee or the submitters, anywhere, but the
    # candidates' names in the public log.
    assert _scan(engine, data, candidates) == []
    # The decisions stay, without names or reasons; the purge is the newest.
    after = client.get(f.url("/audit"), params={"limit": 500}, headers=operator_headers).json()
    assert after["total"] == len(trail) + 1
    assert after["items"][0]["action"] == "personal_data_purged"
    assert after["items"][0]["details"]["counts"] == counts
    assert [x["action"] for x in after["items"][1:]] == [x["action"] for x in trail]
    assert all(x["actor"]["name"] is None and x["reason"] is None for x in after["items"])
    assert [x["actor"]["member_id"] for x in after["items"][1:]] == [
        x["actor"]["member_id"] for x in trail
    ]
    # Old codes no longer log in; the state says purged; a second purge is refused.
    code = next(iter(f.codes.values()))
    r = client.post(f.url("/login"), json={"code": code})
    assert r.status_code == 401
    state = client.get(f.url("/retention"), headers=operator_headers).json()
    assert state["purged"] is True and state["purged_at_index"] == purged.json()["log_index"]
    r = client.post(f.url("/retention/purge"), json={"force": True}, headers=operator_headers)
    assert r.status_code == 409 and r.json()["type"] == "/problems/already-purged"

    # The log says so, with counts and the acting role only.
    last = client.get(f.url("/log/entries"), params={"start": state["purged_at_index"]}).json()
    entry = last["entries"][0]["entry"]
    assert entry == {
        "type": "personal_data_purged",
        "election": f.id,
        "counts": counts,
        "forced": True,
        "by": "operator",
    }
    # The record still verifies, the earlier one is a prefix of it, the results stay.
    record = client.get(f.url("/record")).content
    report = verify_record(lambda: iter(record.splitlines(keepends=True)))
    assert report.ok, [str(x) for x in report.failures]
    assert report.result_checked and report.passed["entry-order"] == report.entries
    old = verify_record(lambda: iter(record_before.splitlines(keepends=True)))
    assert old.ok and report.entries == old.entries + 1
    assert client.get(f.url("/results")).json() == f.results
    page = client.get(f.url("/results/page"))
    assert page.status_code == 200 and next(iter(candidates)) in page.text


def test_purge_is_refused_before_the_end_and_a_cancelled_election_purges_its_objections(
    app, client, make_election, operator_headers
) -> None:
    e = make_election({"seats": 3, "retention_days": 0})
    roll = roll_csv(3).replace(b",,all", b",kiezer@acme.example,all", 1)
    r = client.post(
        e.url("/roll/import"), content=roll, headers={**e.committee, "Content-Type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    export = client.post(e.url("/invitations/export"), json={}, headers=e.committee)
    code = next(csv.DictReader(io.StringIO(export.text)))["access_code"]
    voter = bearer(e.login(code))
    r = client.post(
        e.url("/me/objections"), json={"text": "Mijn kiesgroep klopt niet"}, headers=voter
    )
    assert r.status_code == 201, r.text
    # Not ended yet: refused, even forced.
    r = client.post(e.url("/retention/purge"), json={"force": True}, headers=operator_headers)
    assert r.status_code == 409 and r.json()["type"] == "/problems/election-not-ended"
    state = client.get(e.url("/retention"), headers=e.committee).json()
    assert state["ended_at"] is None and state["retain_until"] is None
    data = _personal_data(app.state.engine, e.id)
    assert "kiezer@acme.example" in data["emails"]
    r = client.post(e.url("/cancel"), json={"reason": "reglement gewijzigd"}, headers=e.committee)
    assert r.status_code == 200, r.text
    # retention_days 0: due at once, without force; `stembus purge --due` finds it.
    runner = CliRunner()
    env = {
        "STEMBUS_DATABASE_URL": app.state.settings.sqlalchemy_url,
        "STEMBUS_SECRET": TEST_SECRET,
        "STEMBUS_PUBLIC_BASE_URL": app.state.settings.public_base_url,
    }
    listed = runner.invoke(cli_app, ["purge", "--due", "--dry-run"], env=env)
    assert listed.exit_code == 0, listed.output
    assert e.id in listed.output
    done = runner.invoke(cli_app, ["purge", e.id], env=env)
    assert done.exit_code == 0, done.output
    assert "purged" in done.output and "objections 1" in done.output
    assert _scan(app.state.engine, data, set()) == []
    again = runner.invoke(cli_app, ["purge", e.id], env=env)
    assert again.exit_code == 3 and "already-purged" in again.output
    record = client.get(e.url("/record")).content
    report = verify_record(lambda: iter(record.splitlines(keepends=True)))
    assert report.ok, [str(x) for x in report.failures]
    assert e.log()[-1]["type"] == "personal_data_purged" and e.log()[-1]["forced"] is False
