"""The committee's linking attack, measured (issue 11; docs/protocol.md "Publication in shuffled
batches"): how many ballots can whoever holds every access code, the public log, the decryption
key and a dump of the database (with its system columns) link to their voter?

Voters vote one after another, each casting straight after obtaining the credential — the worst
case for order. Then voting closes and the attacker matches the k-th voter to the k-th new
credential by three orders: the public log's (issuance entries against ballots), the database's
issuance rows against its seq rows (PostgreSQL: xmin then ctid; SQLite: rowid), and the log rows'
physical order. A correct link, with the published decryption key, is that voter's vote. Chance
is about one in the size of a flush's run.

In process (the ASGI app over httpx), on a fresh SQLite file, or on PostgreSQL when
STEMBUS_TEST_DATABASE_URL names a server. Run: ``python -m benchmarks.attack_linking [--voters 160]
[--batch-size 20]``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def system_order(engine: Any, table: str, key: str, election_id: str) -> list[Any]:
    from sqlalchemy import text

    with engine.connect() as c:
        if engine.dialect.name == "postgresql":
            q = (
                f"SELECT {key}, xmin::text::bigint AS x, ctid FROM {table} "  # noqa: S608
                "WHERE election_id = :e ORDER BY x, ctid"
            )
        else:
            q = f"SELECT {key} FROM {table} WHERE election_id = :e ORDER BY rowid"  # noqa: S608
        return [r[0] for r in c.execute(text(q), {"e": election_id})]


def first_appearances(entries: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The issuance entries' pseudonyms and the ballots' new credentials, each in entry order."""
    issued = [x["pseudonym"] for x in entries if x["type"] == "issuance"]
    seen: list[str] = []
    for x in entries:
        if x["type"] == "ballot" and x["credential"] not in seen:
            seen.append(x["credential"])
    return issued, seen


def attack(voters: int, batch_size: int | None) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings
    from cli.client import StembusClient
    from tests.api.test_voting_support import CONSULTATION, voting_election
    from tests.conftest import ElectionFixture, bearer

    tmp = tempfile.mkdtemp(prefix="stembus-attack-")
    url = os.environ.get("STEMBUS_TEST_DATABASE_URL") or f"sqlite:///{tmp}/a.sqlite3"
    drop = None
    if url.startswith("postgresql"):
        from benchmarks.bench_flows import _pg_database

        url, drop = _pg_database(url)
    from api.migrate import upgrade

    upgrade(url)
    settings = Settings(
        database_url=url, secret="attack-" + "x" * 40, public_base_url="http://testserver"
    )
    from api.auth.tokens import issue_token

    app = create_app(settings)
    try:
        with TestClient(app) as client:
            token, _ = issue_token(
                settings, subject="operator", roles={"operator"}, election_id=None, minutes=30
            )
            op = bearer(token)
            body = dict(CONSULTATION)
            if batch_size is not None:
                body["batch_size"] = batch_size

            def make(s: dict[str, Any] | None = None) -> ElectionFixture:
                return ElectionFixture(client, op, s)

            ve = voting_election(app, make, n_voters=voters, settings=body)
            sdk = StembusClient(http=client)
            truth: dict[str, str] = {}
            by_voter: dict[int, str] = {}
            for code in ve.codes.values():
                token = sdk.login(ve.id, code)
                cred = sdk.obtain_credential(ve.id, token)
                st = sdk.credential_status(ve.id, token)
                me = client.get(ve.e.url("/me"), headers=bearer(token)).json()
                by_voter[int(me["subject"].split(":")[1])] = st["pseudonym"]
                sdk.cast(cred, {"q1": ["yes"]})
                truth[st["pseudonym"]] = cred.credential
            assert ve.e.transition("closed").status_code == 200
            log = ve.e.log()
            engine = app.state.engine
            issued, firsts = first_appearances(log)
            rows_v = [
                by_voter[v] for v in system_order(engine, "credential_issuance", "voter_id", ve.id)
            ]
            rows_c = [
                base64.b64encode(bytes(c)).decode()
                for c in system_order(engine, "ballot_seq", "credential", ve.id)
            ]
            physical = [
                json.loads(bytes(b)) for b in system_order(engine, "log_entry", "body", ve.id)
            ]
            p_issued, p_firsts = first_appearances(physical)
            hits = {}
            for name, (a, b) in {
                "log order": (issued, firsts),
                "issuance rows vs seq rows": (rows_v, rows_c),
                "log rows, physical order": (p_issued, p_firsts),
            }.items():
                hits[name] = sum(1 for p, c in zip(a, b, strict=False) if truth.get(p) == c)
            return {"voters": voters, "db": engine.dialect.name, "linked": hits}
    finally:
        app.state.engine.dispose()
        if drop is not None:
            drop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--voters", type=int, default=160)
    p.add_argument("--batch-size", type=int, default=None, help="default: the election default")
    a = p.parse_args()
    r = attack(a.voters, a.batch_size)
    for name, n in r["linked"].items():
        print(f"[{r['db']}] {name}: linked {n} of {r['voters']} ballots to their voter")


if __name__ == "__main__":
    main()
