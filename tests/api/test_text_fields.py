"""Every text field refuses NUL and lone surrogates with a 422 naming the field (on SQLite and
PostgreSQL alike: PostgreSQL cannot store NUL, and a lone surrogate has no UTF-8 at all), and
CSV exports neutralise formulas (OWASP, CSV injection)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.api.test_roll_support import person, to_csv
from tests.conftest import ElectionFixture

BAD = ["\u0000", "\ud800", "\udfff"]


def _raw(body: object) -> bytes:
    return json.dumps(body, ensure_ascii=True).encode()  # lone surrogates as \u escapes


def _names_the_field(r, loc: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"] == "/problems/validation-error"
    assert [e["loc"] for e in problem["errors"]] == [loc]
    assert "NUL" in problem["errors"][0]["msg"]


def _json_operations(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    out = []
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content and path.startswith("/api/"):
                out.append((method.upper(), path))
    return sorted(out)


def test_every_json_body_refuses_bad_text_before_anything_else(app, election):
    ops = _json_operations(app)
    assert len(ops) > 20
    for method, template in ops:
        url = template.replace("{election_id}", election.id)
        url = url.replace("{", "").replace("}", "")  # other ids: any value, refused first
        url = "".join(ch if ch.isascii() else "x" for ch in url)
        for bad in BAD:
            body = {"name": f"a{bad}b"}
            if template.endswith("/roll/import"):
                continue  # the roll's rows are checked row by row (below)
            r = election.client.request(
                method, url, content=_raw(body), headers={"Content-Type": "application/json"}
            )
            _names_the_field(r, ["body", "name"])


@pytest.mark.parametrize("bad", BAD)
def test_nested_fields_and_keys_are_named(election, operator_headers, bad):
    body = {
        "name": "OR",
        "organisation": "Acme",
        "settings": {"kiesgroepen": [{"id": "a", "name": f"Productie{bad}", "seats": 3}]},
    }
    r = election.client.post(
        "/api/v1/elections",
        content=_raw(body),
        headers={**operator_headers, "Content-Type": "application/json"},
    )
    _names_the_field(r, ["body", "settings", "kiesgroepen", "0", "name"])
    r = election.client.post(
        election.url("/cancel"),
        content=_raw({f"re{bad}ason": "x"}),
        headers={**election.committee, "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"][0] == "body"


def test_names_with_nul_are_refused_on_the_database_path_too(election, operator_headers):
    # Through a real route into the database (PostgreSQL answered 500 for these).
    for url, body, headers in (
        ("/api/v1/elections", {"name": "OR\u0000", "organisation": "Acme"}, operator_headers),
        (election.url("/members"), {"name": "Lid\u0000"}, operator_headers),
        (election.url("/cancel"), {"reason": "reden\ud800"}, election.committee),
    ):
        r = election.client.post(
            url, content=_raw(body), headers={**headers, "Content-Type": "application/json"}
        )
        field = next(iter(body))
        _names_the_field(r, ["body", field])


def test_path_and_query_refuse_nul(election):
    _names_the_field(election.client.get("/api/v1/elections/ab%00cd"), ["path", "election_id"])
    r = election.client.get(election.url("/log/entries"), params={"start": "1\u0000"})
    _names_the_field(r, ["query", "start"])


def test_a_surrogate_pair_is_a_character_and_welcome(election, operator_headers):
    body = {"name": "OR 2027 \ud83d\uddf3", "organisation": "Acme", "settings": {"seats": 5}}
    r = election.client.post(
        "/api/v1/elections",
        content=_raw(body),
        headers={**operator_headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "OR 2027 \U0001f5f3"


def _import(e: ElectionFixture, content: bytes, ctype: str):  # type: ignore[no-untyped-def]
    return e.client.post(
        e.url("/roll/import"), content=content, headers={**e.committee, "Content-Type": ctype}
    )


@pytest.mark.parametrize("bad", BAD)
def test_roll_import_names_row_and_field(election, bad):
    rows = [person(1), {**person(2), "name": f"Anna{bad}"}, {**person(3), "email": f"a{bad}@b.nl"}]
    r = _import(election, _raw(rows), "application/json")
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "/problems/roll-invalid"
    got = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert (2, "name") in got and (3, "email") in got
    assert all("NUL" in e["reason"] for e in r.json()["errors"] if e["field"] == "name")
    bad_key = [{**person(1), f"naam{bad}": "x"}]
    r = _import(election, _raw(bad_key), "application/json")
    assert r.status_code == 422 and r.json()["type"] == "/problems/roll-invalid", r.text


def test_csv_roll_with_nul_names_row_and_field(election):
    content = to_csv([person(1), {**person(2), "name": "Bram\u0000Jansen"}])
    r = _import(election, content, "text/csv")
    assert r.status_code == 422 and r.json()["type"] == "/problems/roll-invalid", r.text
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {(3, "name")}


def test_code_export_neutralises_formulas(election):
    risky = ['=HYPERLINK("http://x")', "+31 6 1234", "-2+3", "@SUM(A1)", "=1;2", "Anna"]
    rows = [{**person(i + 1), "name": name} for i, name in enumerate(risky)]
    rows[1]["employee_number"] = "=E2"
    assert _import(election, to_csv(rows), "text/csv").status_code == 200
    r = election.client.post(
        election.url("/invitations/export"), json={}, headers=election.committee
    )
    assert r.status_code == 200
    out = list(csv.DictReader(io.StringIO(r.text)))
    names = {row["name"] for row in out}
    assert names == {"'" + n for n in risky[:-1]} | {"Anna"}
    assert "'=E2" in {row["employee_number"] for row in out}
    for row in out:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
