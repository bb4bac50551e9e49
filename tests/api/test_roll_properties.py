"""Properties of the pure roll code: a roll written as CSV or JSON parses back to the same rows,
and the commitment depends on the roll's content, not on the order of its rows."""

from __future__ import annotations

import json
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from api.roll.commitment import roll_commitment
from api.roll.importer import RollRow, parse_roll
from tests.api.test_roll_support import to_csv

GROUPS = {"kantoor", "productie"}
text = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)
rows_strategy = st.lists(
    st.builds(
        RollRow,
        employee_number=st.from_regex(r"[A-Z0-9]{1,10}", fullmatch=True),
        name=text,
        email=st.one_of(st.none(), st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.nl", fullmatch=True)),
        kiesgroep=st.sampled_from(sorted(GROUPS)),
        employment_start=st.dates(min_value=date(1970, 1, 1), max_value=date(2030, 12, 31)),
        agency_worker=st.booleans(),
    ),
    min_size=1,
    max_size=30,
    unique_by=lambda r: r.employee_number,
)


def _dicts(rows: list[RollRow]) -> list[dict[str, object]]:
    return [
        {
            "employee_number": r.employee_number,
            "name": r.name,
            "email": r.email or "",
            "kiesgroep": r.kiesgroep,
            "employment_start": r.employment_start.isoformat(),
            "agency_worker": "ja" if r.agency_worker else "nee",
        }
        for r in rows
    ]


@settings(max_examples=60, deadline=None)
@given(rows_strategy)
def test_csv_and_json_round_trip(rows):
    assert parse_roll(to_csv(_dicts(rows)), "csv", GROUPS) == rows
    assert parse_roll(to_csv(_dicts(rows), sep=";"), "csv", GROUPS) == rows
    assert parse_roll(json.dumps(_dicts(rows)).encode(), "json", GROUPS) == rows


@settings(max_examples=60, deadline=None)
@given(rows_strategy, st.randoms(use_true_random=False))
def test_commitment_ignores_row_order_but_not_content(rows, rnd):
    tuples = [
        (r.employee_number, r.name, r.kiesgroep, r.employment_start, r.agency_worker, True, True)
        for r in rows
    ]
    shuffled = list(tuples)
    rnd.shuffle(shuffled)
    assert roll_commitment("e1", tuples) == roll_commitment("e1", shuffled)
    assert roll_commitment("e1", tuples) != roll_commitment("e2", tuples)
    first = tuples[0]
    changed = [(*first[:5], False, first[6]), *tuples[1:]]
    assert roll_commitment("e1", tuples) != roll_commitment("e1", changed)
