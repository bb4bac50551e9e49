"""Shared helpers for the roll, invitation, nomination, list and privacy tests (no tests here)."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.conftest import ElectionFixture, bearer

HEADER = ["employee_number", "name", "email", "kiesgroep", "employment_start", "agency_worker"]


def person(n: int, group: str = "all", start: str = "2020-01-01", agency: str = "nee") -> dict:
    return {
        "employee_number": f"E{n:05d}",
        "name": f"Medewerker{n:05d} Achternaam{n:05d}",
        "email": f"mw{n:05d}@acme.example",
        "kiesgroep": group,
        "employment_start": start,
        "agency_worker": agency,
    }


def to_csv(rows: list[dict[str, Any]], header: list[str] | None = None, sep: str = ",") -> bytes:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=header or HEADER, delimiter=sep, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return out.getvalue().encode()


def import_roll(e: ElectionFixture, rows: list[dict[str, Any]], dry_run: bool = False) -> Any:
    return e.client.post(
        e.url("/roll/import"),
        content=to_csv(rows),
        params={"dry_run": str(dry_run).lower()},
        headers={**e.committee, "Content-Type": "text/csv"},
    )


def voter_id(e: ElectionFixture, employee_number: str) -> int:
    r = e.client.get(e.url("/roll/voters"), params={"q": employee_number}, headers=e.committee)
    assert r.status_code == 200, r.text
    [item] = [v for v in r.json()["items"] if v["employee_number"] == employee_number]
    return int(item["id"])


def voter_code(e: ElectionFixture, employee_number: str) -> str:
    vid = voter_id(e, employee_number)
    r = e.client.post(e.url(f"/roll/voters/{vid}/code"), headers=e.committee)
    assert r.status_code == 200, r.text
    return str(r.json()["access_code"])


def voter_headers(e: ElectionFixture, employee_number: str) -> dict[str, str]:
    return bearer(e.login(voter_code(e, employee_number)))


def populated(e: ElectionFixture, n: int = 10, group: str = "all") -> list[dict[str, Any]]:
    rows = [person(i, group) for i in range(1, n + 1)]
    r = import_roll(e, rows)
    assert r.status_code == 200, r.text
    return rows
