"""The words of a result (rules/explain.py) in both languages, checked against the arithmetic."""

from __future__ import annotations

from fractions import Fraction

from rules.apportionment import apportion_seats
from rules.explain import excluded_text, method_text, no_vote_text, step_text
from rules.lot import Lot

NAMES = {"A": "FNV", "B": "CNV", "C": "Vrije lijst"}.get


def texts(a, seats: int, lang: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [step_text(s, lang, seats, NAMES) for s in a.to_dict()["steps"]]  # type: ignore[arg-type]


def test_seat_given_back_then_residual_seats() -> None:
    # A wins 3 full seats with 1 candidate: 2 back, then B and C take them by remainder.
    a = apportion_seats({"A": 60, "B": 15, "C": 5}, 4, {"A": 1, "B": 5, "C": 5})
    nl, en = texts(a, 4, "nl"), texts(a, 4, "en")
    assert nl[0] == (
        "lijst FNV behaalde 3 volle zetels maar heeft 1 kandidaten: 2 zetel(s) teruggegeven "
        "(lijstuitputting)"
    )
    assert en[0] == "list FNV won 3 full seats but has 1 candidates: 2 seat(s) given back"
    assert (
        nl[1] == "CNV heeft het grootste overschot 15"
        and en[1] == "CNV has the largest remainder 15"
    )
    assert a.seats_per_list == {"A": 1, "B": 2, "C": 1}


def test_a_lot_step_names_every_tied_list_and_the_draw() -> None:
    a = apportion_seats(
        {"A": 10, "B": 10, "C": 10}, 2, {"A": 5, "B": 5, "C": 5}, lot=Lot(bytes(32))
    )
    chosen = [NAMES(s.chosen) for s in a.steps]  # type: ignore[arg-type]
    nl = texts(a, 2, "nl")
    assert nl[0] == (
        "FNV, CNV en Vrije lijst hebben hetzelfde overschot 10 voor 2 zetel(s): loting 1 geeft "
        f"deze zetel aan {chosen[0]}"
    )
    assert texts(a, 2, "en")[1].endswith(f"lot draw 1 gives this seat to {chosen[1]}")


def test_widened_pool_is_said() -> None:
    # Threshold 3/4: only A (1 candidate) meets it; the other seats go by highest averages
    # among all lists, and the steps say why.
    a = apportion_seats(
        {"A": 70, "B": 20, "C": 10},
        3,
        {"A": 1, "B": 5, "C": 5},
        remainder_threshold=Fraction(3, 4),
        lot=Lot(bytes(32)),
    )
    en = texts(a, 3, "en")
    assert any("all lists considered" in t for t in en)
    assert any("alle lijsten meegeteld" in t for t in texts(a, 3, "nl"))
    d = a.to_dict()
    assert excluded_text(d, "en", NAMES) == (
        "CNV and Vrije lijst did not reach the remainder threshold of 3/4 of the quota "
        "(25 votes) and take(s) no residual seat by remainder."
    )
    assert "ten minste 3/4 van de kiesdeler (25 stemmen)" in method_text(d, "nl")


def test_method_texts_and_no_vote() -> None:
    a = apportion_seats({"A": 7, "B": 3}, 2, {"A": 2, "B": 2}, method="highest_averages")
    d = a.to_dict()
    assert "D'Hondt" in method_text(d, "en") and "d'Hondt" in method_text(d, "nl")
    assert excluded_text(d, "nl") is None
    g = {"seats": 9, "elected": ["c"] * 8, "vacant_seats": 1}
    assert no_vote_text(g, "en") == (
        "No vote was held: 8 candidates for 9 seats, so every candidate is elected without a "
        "vote (no more candidates than seats); 1 seat stays vacant."
    )
    assert "zonder stemming gekozen" in no_vote_text(g, "nl")


def test_no_list_met_the_threshold_is_said() -> None:
    from rules.counting import count_works_council_group
    from rules.explain import group_note_texts

    d = {
        "group": "g",
        "seats": 2,
        "lists": [
            {"id": x, "candidates": [{"id": f"{x}{i}", "position": i} for i in (1, 2)]}
            for x in ("A", "B", "C")
        ],
    }
    # quota 5/2, threshold the whole quota: no list reaches it.
    ballots = [(True, None, ["A1"])] * 2 + [(True, None, ["B1"])] * 2 + [(True, None, ["C1"])]
    g = count_works_council_group(d, ballots, remainder_threshold="1").to_dict()
    assert g["apportionment"]["notes"] == [
        "no list met the remainder threshold: residual seats by highest averages"
    ]
    assert group_note_texts(g, "nl") == [
        "Geen lijst haalde de drempel voor restzetels: de restzetels gaan volgens de grootste "
        "gemiddelden naar alle lijsten."
    ]
