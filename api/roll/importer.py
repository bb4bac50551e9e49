"""Parsing and validating a roll file (CSV or JSON) into rows, with every error reported.

Columns (CSV header / JSON keys): `employee_number`, `name`, `email`, `kiesgroep`,
`employment_start` (ISO date, YYYY-MM-DD) and, optionally, `agency_worker` (true/false, ja/nee,
yes/no, 1/0; empty = false). `email` may be empty (that voter then gets no e-mail invitation).

**Unknown columns are rejected**, not ignored: a roll is personal data, and a column we would
silently drop (a BSN, a salary) should not have been sent at all; a misspelt column name
(`kiesgroup`) would otherwise lose data without anyone noticing.

CSV: UTF-8 (a BOM is accepted), comma or semicolon separated (Dutch spreadsheets export `;`),
header row first. `row` in an error is the line number in the file as a spreadsheet shows it
(header = row 1); for JSON it is the 1-based position in the list. Error reports never echo the
value (personal data); they name the row, the field and the reason.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from api.text import MSG as TEXT_MSG
from api.text import bad_text, without_bad_text

REQUIRED = ("employee_number", "name", "email", "kiesgroep", "employment_start")
OPTIONAL = ("agency_worker",)
COLUMNS = REQUIRED + OPTIONAL
MAX_ROWS = 200_000
MAX_BYTES = 20 * 1024 * 1024
MAX_REPORTED_ERRORS = 10_000
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_TRUE = {"true", "ja", "yes", "1", "j", "y"}
_FALSE = {"false", "nee", "no", "0", "n", ""}


@dataclass(frozen=True)
class RollRow:
    employee_number: str
    name: str
    email: str | None
    kiesgroep: str
    employment_start: date
    agency_worker: bool


class RollFileError(Exception):
    """The file as a whole cannot be read (encoding, header, size)."""

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class RollRowsError(Exception):
    def __init__(self, errors: list[dict[str, Any]], total: int) -> None:
        super().__init__(f"{total} errors")
        self.errors = errors
        self.total = total


def _records_csv(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RollFileError("the file is not UTF-8 text") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise RollFileError("the file is empty") from None
    header = [h.strip().lower() for h in header]
    _check_columns(header)
    out: list[tuple[int, dict[str, Any]]] = []
    try:
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue  # blank lines, as spreadsheets leave them at the end
            if len(out) >= MAX_ROWS:
                raise RollFileError(f"more than {MAX_ROWS} rows")
            line = reader.line_num
            if len(fields) != len(header):
                out.append((line, {"__width__": len(fields)}))
                continue
            out.append((line, dict(zip(header, fields, strict=True))))
    except csv.Error as e:
        raise RollFileError(f"the CSV cannot be read: {e}") from None
    return out


def _check_columns(header: list[str]) -> None:
    errors = []
    if len(set(header)) != len(header):
        errors.append({"row": 1, "field": None, "reason": "a column appears twice"})
    for h in header:
        if h not in COLUMNS:
            errors.append(
                {
                    "row": 1,
                    "field": h[:64],
                    "reason": "unknown column (unknown columns are "
                    "rejected so that no data is silently dropped)",
                }
            )
    for c in REQUIRED:
        if c not in header:
            errors.append({"row": 1, "field": c, "reason": "required column missing"})
    if errors:
        raise RollFileError(
            "the header is not valid; expected columns: " + ", ".join(COLUMNS), errors
        )


def _records_json(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise RollFileError("the body is not valid JSON") from None
    if not isinstance(doc, list):
        raise RollFileError("expected a JSON list of objects")
    if len(doc) > MAX_ROWS:
        raise RollFileError(f"more than {MAX_ROWS} rows")
    out: list[tuple[int, dict[str, Any]]] = []
    for i, obj in enumerate(doc, start=1):
        if not isinstance(obj, dict):
            out.append((i, {"__type__": True}))
            continue
        out.append((i, obj))
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip()


def _row(
    line: int, rec: dict[str, Any], groups: set[str], errors: list[dict[str, Any]]
) -> RollRow | None:
    def err(field: str | None, reason: str) -> None:
        errors.append({"row": line, "field": field, "reason": reason})

    if "__width__" in rec:
        err(None, f"{rec['__width__']} fields; the header has another number of columns")
        return None
    if "__type__" in rec:
        err(None, "not an object")
        return None
    n0 = len(errors)
    unknown = sorted(set(rec) - set(COLUMNS))
    for k in unknown:
        name = str(k)[:64].encode("utf-8", "backslashreplace").decode()
        err(name, "unknown field (unknown fields are rejected)")
    vals: dict[str, str] = {}
    for k in COLUMNS:
        raw = rec.get(k)
        t = (
            ("true" if raw else "false")
            if isinstance(raw, bool) and k == "agency_worker"
            else (_text(raw))
        )
        if t is None:
            err(k, "must be a string")
            t = ""
        elif bad_text(t):
            err(k, TEXT_MSG)
            t = without_bad_text(t)  # the field's other checks still run
        vals[k] = t
    if not vals["employee_number"]:
        err("employee_number", "required")
    elif len(vals["employee_number"]) > 64:
        err("employee_number", "longer than 64 characters")
    if not vals["name"]:
        err("name", "required")
    elif len(vals["name"]) > 200:
        err("name", "longer than 200 characters")
    email = vals["email"] or None
    if email is not None and (len(email) > 320 or not _EMAIL.match(email)):
        err("email", "not an e-mail address")
    if not vals["kiesgroep"]:
        err("kiesgroep", "required")
    elif vals["kiesgroep"] not in groups:
        err("kiesgroep", "not a kiesgroep of this election: " + ", ".join(sorted(groups)))
    start: date | None = None
    try:
        start = date.fromisoformat(vals["employment_start"])
        if len(vals["employment_start"]) != 10:
            raise ValueError
    except ValueError:
        err("employment_start", "not a date as YYYY-MM-DD")
    agency = False
    if vals["agency_worker"].lower() in _TRUE:
        agency = True
    elif vals["agency_worker"].lower() not in _FALSE:
        err("agency_worker", "expected true/false, ja/nee, yes/no or 1/0")
    if len(errors) > n0 or start is None:
        return None
    return RollRow(
        employee_number=vals["employee_number"],
        name=vals["name"],
        email=email,
        kiesgroep=vals["kiesgroep"],
        employment_start=start,
        agency_worker=agency,
    )


def parse_roll(data: bytes, fmt: str, groups: set[str]) -> list[RollRow]:
    """Every row of the file, or RollFileError / RollRowsError listing what is wrong."""
    if len(data) > MAX_BYTES:
        raise RollFileError(f"the file exceeds {MAX_BYTES // (1024 * 1024)} MB")
    records = _records_json(data) if fmt == "json" else _records_csv(data)
    if not records:
        raise RollFileError("the roll has no rows")
    errors: list[dict[str, Any]] = []
    rows: list[RollRow] = []
    first_line: dict[str, int] = {}
    for line, rec in records:
        row = _row(line, rec, groups, errors)
        if row is None:
            continue
        if row.employee_number in first_line:
            errors.append(
                {
                    "row": line,
                    "field": "employee_number",
                    "reason": f"duplicate of row {first_line[row.employee_number]}",
                }
            )
            continue
        first_line[row.employee_number] = line
        rows.append(row)
    if errors:
        raise RollRowsError(errors[:MAX_REPORTED_ERRORS], len(errors))
    return rows
