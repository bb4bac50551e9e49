"""Backup and restore (README "Backup and restore"): a backup taken mid-voting — ballots and
issuances still waiting in their pools (api.log.pool) — is restored into a fresh database; the
election resumes there, closes, is tallied, and its record verifies with every promise made
before the backup kept.

SQLite: the sqlite3 online backup API (what the sqlite3 shell's `.backup` runs). PostgreSQL:
the real `pg_dump -Fc` and `pg_restore` of the server's installation, against the run's database.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from api.log.models import PooledEntry
from api.main import create_app
from api.settings import Settings
from cli.client import StembusClient
from crypto import shamir
from rules.record import verify_record
from tests.api.test_voting_support import voting_election
from tests.conftest import DB_ENV, _pg_admin, bearer


def _pg_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as libpq takes it (no driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _backup_and_restore(source_url: str, tmp_path: Path) -> str:
    """Back up the database at `source_url` as an operator would, restore it into a new
    database, and return that one's URL."""
    u = make_url(source_url)
    if u.get_backend_name() == "sqlite":
        backup = tmp_path / "backup.sqlite3"
        src = sqlite3.connect(str(u.database))
        dst = sqlite3.connect(str(backup))
        with dst:
            src.backup(dst)  # online: consistent while the service writes
        src.close()
        dst.close()
        restored = tmp_path / "restored.sqlite3"
        shutil.copyfile(backup, restored)  # restoring = putting the file in place
        return f"sqlite:///{restored}"
    pg_dump, pg_restore = _pg_tool("pg_dump"), _pg_tool("pg_restore")
    if not pg_dump or not pg_restore:
        pytest.skip("pg_dump/pg_restore not installed (PostgreSQL client binaries)")
    dump = tmp_path / "stembus.dump"
    subprocess.run(  # noqa: S603 - fixed binaries and arguments
        [pg_dump, "--format=custom", "--no-owner", f"--file={dump}", _libpq(source_url)],
        check=True,
        capture_output=True,
    )
    name = f"stembus_restored_{secrets.token_hex(6)}"
    with _pg_admin(os.environ[DB_ENV]) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    target = u.set(database=name).render_as_string(hide_password=False)
    subprocess.run(  # noqa: S603
        [pg_restore, "--no-owner", "--exit-on-error", f"--dbname={_libpq(target)}", str(dump)],
        check=True,
        capture_output=True,
    )
    return target


def _drop(url: str) -> None:
    u = make_url(url)
    if u.get_backend_name() == "postgresql":
        with _pg_admin(os.environ[DB_ENV]) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')


def _pooled(engine: Any, election_id: str) -> int:
    with Session(engine) as s:
        return int(
            s.execute(
                select(func.count())
                .select_from(PooledEntry)
                .where(PooledEntry.election_id == election_id)
            ).scalar_one()
        )


def test_a_backup_taken_mid_voting_restores_resumes_and_verifies(
    app, client, make_election, settings: Settings, tmp_path: Path
) -> None:
    ve = voting_election(app, make_election, n_voters=6, trustees=("Trustee",))
    sdk = StembusClient(http=client)
    codes = list(ve.codes.values())
    before = [sdk.vote(ve.id, code, {"q1": ["yes"]}) for code in codes[:3]]
    sdk.revote(before[0][0], {"q1": ["no"]})
    # Nothing appended yet: 3 issuances and 4 ballots wait in the pool (fewer than 2·20).
    assert _pooled(app.state.engine, ve.id) == 7
    assert not [x for x in ve.e.log() if x["type"] in ("issuance", "ballot")]
    size_at_backup = client.get(ve.e.url("/log/checkpoint")).json()["size"]

    restored_url = _backup_and_restore(settings.sqlalchemy_url, tmp_path)
    try:
        copy = create_app(settings.model_copy(update={"database_url": restored_url}))
        try:
            assert _pooled(copy.state.engine, ve.id) == 7  # the pool survived the backup
            with TestClient(copy, raise_server_exceptions=False) as c2:
                _resume_close_tally_verify(c2, ve, codes, before, size_at_backup)
        finally:
            copy.state.engine.dispose()
    finally:
        _drop(restored_url)
    # The original database is untouched by all this: its election still votes.
    assert client.get(ve.e.url()).json()["status"] == "voting"


def _resume_close_tally_verify(
    c2: TestClient,
    ve: Any,
    codes: list[str],
    before: list[Any],
    size_at_backup: int,
) -> None:
    url = ve.e.url
    # The same log, the same key: the restored service goes on from the backed-up checkpoint.
    assert c2.get(url("/log/checkpoint")).json()["size"] == size_at_backup
    sdk2 = StembusClient(http=c2)
    after = [sdk2.vote(ve.id, code, {"q1": ["abstain"]}) for code in codes[3:]]
    committee = bearer(_login(c2, ve.id, ve.e.member_code))
    r = c2.post(url("/transitions"), json={"to": "closed"}, headers=committee)
    assert r.status_code == 200, r.text
    # Tally with 2 of 3 shares of the sealing key: the committee member and another trustee.
    other = bearer(_login(c2, ve.id, ve.trustee_codes[0]))
    shares = shamir.split(ve.sealing_private, 2, 3, ve.id)
    for share, who in ((shares[0], committee), (shares[1], other)):
        r = c2.post(url("/tally/shares"), json={"share": share.to_text()}, headers=who)
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "tallied", r.text
    result = c2.get(url("/results")).json()["result"]
    assert result["ballots"]["credentials"] == 6 and result["ballots"]["entries"] == 7
    q1 = {o["option"]: o["count"] for o in result["consultation"]["questions"][0]["options"]}
    assert q1 == {"yes": 2, "no": 1, "abstain": 3}, q1  # the re-vote before the backup counts

    record = c2.get(url("/record")).content
    # Every promise, made before the backup (one re-vote among them) or after the restore.
    promises = [p["promise"] for cred, _ in before + after for p in cred.promises]
    assert len(promises) == 7
    report = verify_record(lambda: iter(record.splitlines(keepends=True)), promises=promises)
    assert report.ok, [str(f) for f in report.failures]
    assert report.result_checked and report.passed["promise"] == len(promises)


def _login(c: TestClient, election_id: str, code: str) -> str:
    r = c.post(f"/api/v1/elections/{election_id}/login", json={"code": code})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])
