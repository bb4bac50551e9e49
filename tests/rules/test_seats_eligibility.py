from datetime import date

import pytest

from rules.eligibility import apply_override, eligibility, months_of_service
from rules.seats import seats_for_headcount


@pytest.mark.parametrize(
    ("headcount", "seats"),
    [
        (1, 3),
        (49, 3),
        (50, 5),
        (99, 5),
        (100, 7),
        (199, 7),
        (200, 9),
        (399, 9),
        (400, 11),
        (599, 11),
        (600, 13),
        (999, 13),
        (1000, 15),
        (1999, 15),
        (2000, 17),
        (2999, 17),
        (3000, 19),
        (5999, 23),
        (6000, 25),
        (20000, 25),
    ],
)
def test_e8_seats_for_headcount(headcount: int, seats: int) -> None:
    assert seats_for_headcount(headcount) == seats


def test_seats_rejects_negative_and_non_int() -> None:
    with pytest.raises(ValueError):
        seats_for_headcount(-1)
    with pytest.raises(TypeError):
        seats_for_headcount(True)


@pytest.mark.parametrize(
    ("start", "ref", "months"),
    [
        (date(2024, 1, 15), date(2024, 4, 15), 3),
        (date(2024, 1, 15), date(2024, 4, 14), 2),
        (date(2024, 1, 31), date(2024, 4, 30), 3),
        (date(2024, 1, 31), date(2024, 2, 29), 1),
        (date(2023, 11, 30), date(2024, 2, 28), 2),
        (date(2023, 11, 30), date(2024, 2, 29), 3),
        (date(2024, 5, 1), date(2024, 4, 1), 0),
        (date(2022, 3, 10), date(2024, 3, 10), 24),
    ],
)
def test_months_of_service(start: date, ref: date, months: int) -> None:
    assert months_of_service(start, ref) == months


def test_employee_three_months() -> None:
    ref = date(2025, 6, 1)
    assert eligibility(date(2025, 3, 1), ref).may_vote
    r = eligibility(date(2025, 3, 2), ref)
    assert not r.may_vote and not r.may_stand
    assert "fewer than the 3 required" in r.reasons[0]


def test_settings_differ_for_vote_and_stand() -> None:
    r = eligibility(date(2025, 1, 1), date(2025, 6, 1), min_months_to_vote=3, min_months_to_stand=6)
    assert r.may_vote and not r.may_stand
    assert r.months_required_to_stand == 6


def test_agency_worker_needs_15_plus_3_months() -> None:
    ref = date(2025, 7, 1)
    assert not eligibility(date(2024, 2, 2), ref, agency_worker=True).may_vote  # 16 months
    r = eligibility(date(2024, 1, 1), ref, agency_worker=True)  # 18 months
    assert r.may_vote and r.may_stand and r.months_required_to_vote == 18
    assert "15 months as agency worker + 3 months" in r.reasons[0]
    assert not eligibility(date(2024, 1, 2), ref, agency_worker=True).may_vote  # 17 months


def test_override_needs_reason_and_is_recorded() -> None:
    r = eligibility(date(2025, 5, 1), date(2025, 6, 1))
    with pytest.raises(ValueError):
        apply_override(r, " ", may_vote=True)
    o = apply_override(r, "seconded from sister company", may_vote=True)
    assert o.may_vote and not o.may_stand and o.overridden
    assert o.reasons[-1] == "committee override: may vote: seconded from sister company"
    assert o.to_dict()["overridden"] is True
