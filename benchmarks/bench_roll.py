"""Benchmark of the voter roll: importing, re-importing and freezing a 100,000-row roll through
the HTTP API (the whole path: upload, parse, validate, eligibility, bulk insert, commit).

Run: ``python -m benchmarks.bench_roll`` (or ``python benchmarks/bench_roll.py``). SQLite always
(a fresh file in a temporary folder); PostgreSQL too when ``STEMBUS_BENCH_DATABASE_URL`` names a
server (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``): the run creates its own
database there and drops it afterwards. ``run(print_fn)`` returns the figures as dicts.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # allow running as a script from anywhere
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from api.auth.tokens import issue_token  # noqa: E402
from api.main import create_app  # noqa: E402
from api.migrate import upgrade  # noqa: E402
from api.settings import Settings  # noqa: E402

N = 100_000
SECRET = "bench-secret-" + "b" * 40


def roll_csv(n: int, changed_every: int = 0) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        ["employee_number", "name", "email", "kiesgroep", "employment_start", "agency_worker"]
    )
    for i in range(n):
        name = f"Medewerker {i}" + (
            " (gewijzigd)" if changed_every and i % changed_every == 0 else ""
        )
        group = ("kantoor", "productie", "logistiek")[i % 3]
        start = f"{2000 + i % 27}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        w.writerow(
            [f"E{i:07d}", name, f"mw{i}@acme.example", group, start, "ja" if i % 17 == 0 else "nee"]
        )
    return out.getvalue().encode()


def _bench_one(label: str, url: str, n: int, report: Callable[..., None]) -> None:
    upgrade(url)
    settings = Settings(
        database_url=url, secret=SECRET, public_base_url="https://bench.test", log_level="WARNING"
    )
    app = create_app(settings)
    op, _ = issue_token(
        settings, subject="operator", roles={"operator"}, election_id=None, minutes=30
    )
    with TestClient(app) as c:
        body = {
            "name": "Benchmark",
            "organisation": "Acme",
            "settings": {
                "seats": 15,
                "reference_date": "2027-03-01",
                "kiesgroepen": [
                    {"id": "kantoor", "name": "Kantoor", "seats": 5},
                    {"id": "productie", "name": "Productie", "seats": 5},
                    {"id": "logistiek", "name": "Logistiek", "seats": 5},
                ],
            },
        }
        auth = {"Authorization": f"Bearer {op}"}
        eid = c.post("/api/v1/elections", json=body, headers=auth).json()["id"]
        code = c.post(f"/api/v1/elections/{eid}/members", json={"name": "C"}, headers=auth).json()[
            "access_code"
        ]
        tok = c.post(f"/api/v1/elections/{eid}/login", json={"code": code}).json()
        h = {"Authorization": f"Bearer {tok['access_token']}", "Content-Type": "text/csv"}
        first, second = roll_csv(n), roll_csv(n, changed_every=10)

        def timed(name: str, fn: Callable[[], Any]) -> Any:
            t0 = time.perf_counter()
            r = fn()
            assert r.status_code == 200, r.text[:500]
            report(label, name, time.perf_counter() - t0)
            return r

        timed(
            f"import {n:,} rows (CSV, {len(first) / 1e6:.1f} MB)",
            lambda: c.post(f"/api/v1/elections/{eid}/roll/import", content=first, headers=h),
        )
        r = timed(
            f"re-import dry run ({n // 10:,} changed)",
            lambda: c.post(
                f"/api/v1/elections/{eid}/roll/import",
                content=second,
                headers=h,
                params={"dry_run": "true"},
            ),
        )
        assert r.json()["changed"] == n // 10
        timed(
            "re-import apply",
            lambda: c.post(f"/api/v1/elections/{eid}/roll/import", content=second, headers=h),
        )
        c.post(
            f"/api/v1/elections/{eid}/transitions",
            json={"to": "candidacy"},
            headers={"Authorization": h["Authorization"]},
        )
        timed(
            "freeze (recompute, commitment, log entry)",
            lambda: c.post(
                f"/api/v1/elections/{eid}/roll/freeze",
                headers={"Authorization": h["Authorization"]},
            ),
        )
        timed(
            "export invitations (new codes for every voter, CSV)",
            lambda: c.post(
                f"/api/v1/elections/{eid}/invitations/export",
                json={},
                headers={"Authorization": h["Authorization"]},
            ),
        )
    app.state.engine.dispose()


def run(print_fn: Callable[[str], None] = print, n: int = N) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []

    def report(db: str, name: str, seconds: float) -> None:
        results.append({"database": db, "name": name, "seconds": seconds})
        print_fn(f"{db:10s} {name:55s} {seconds:8.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        _bench_one("sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", n, report)
    server = os.environ.get("STEMBUS_BENCH_DATABASE_URL")
    if server:
        import psycopg

        u = make_url(server)
        name = f"stembus_bench_{secrets.token_hex(4)}"
        admin = dict(
            host=u.host or "127.0.0.1",
            port=u.port or 5432,
            user=u.username or "postgres",
            password=u.password,
            dbname=u.database or "postgres",
            autocommit=True,
        )
        with psycopg.connect(**admin) as conn:  # type: ignore[arg-type]
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            url = u.set(database=name).render_as_string(hide_password=False)
            _bench_one("postgresql", url, n, report)
        finally:
            with psycopg.connect(**admin) as conn:  # type: ignore[arg-type]
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        print_fn("(set STEMBUS_BENCH_DATABASE_URL for the PostgreSQL figures)")
    return results


if __name__ == "__main__":
    run()
