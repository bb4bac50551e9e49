import json
from fractions import Fraction

import pytest
import rfc8785

from rules.apportionment import (
    METHODS,
    LotRequired,
    apportion_seats,
    elect_candidates,
    elect_person_system,
    fraction_json,
)
from rules.explain import step_text
from rules.lot import Lot

ROOT = bytes(range(32))
E1 = {"FNV": 370, "CNV": 140, "Vrije lijst": 80, "Jansen": 20, "Vrolijk": 190}


def many(lists: dict[str, int], n: int = 25) -> dict[str, int]:
    return {k: n for k in lists}


@pytest.mark.parametrize("method", METHODS)
def test_e1(method: str) -> None:
    a = apportion_seats(E1, 15, many(E1), method=method)
    assert a.valid == 800
    assert a.quota == Fraction(160, 3)
    assert fraction_json(a.quota) == {"value": "160/3", "display": "53 1/3"}
    assert list(a.full_seats.values()) == [6, 2, 1, 0, 3]
    assert list(a.remainders.values()) == [
        Fraction(50),
        Fraction(100, 3),
        Fraction(80, 3),
        Fraction(20),
        Fraction(30),
    ]
    assert list(a.seats_per_list.values()) == [7, 3, 1, 0, 4]
    residual = [s for s in a.steps if s.kind == "residual_seat"]
    assert len(residual) == 3 and a.vacant_seats == 0


def test_e1_largest_remainder_steps_explain() -> None:
    a = apportion_seats(E1, 15, many(E1))
    steps = a.steps
    assert [s.chosen for s in steps] == ["FNV", "CNV", "Vrolijk"]
    assert [s.value for s in steps] == [Fraction(50), Fraction(100, 3), Fraction(30)]
    assert all(s.reason == "largest_remainder" for s in steps)
    # The standing before the second seat shows FNV already holding its residual seat.
    fnv = next(st for st in steps[1].standings if st.list_id == "FNV")
    assert fnv.seats == 7 and fnv.residual_seats == 1
    d = a.to_dict()
    assert d["quota"]["value"] == "160/3"
    assert d["steps"][1]["value"] == {"value": "100/3", "display": "33 1/3"}
    assert d["lists"][2]["remainder"] == {"value": "80/3", "display": "26 2/3"}


def test_e1_highest_averages_steps() -> None:
    a = apportion_seats(E1, 15, many(E1), method="highest_averages")
    assert [s.chosen for s in a.steps] == ["FNV", "Vrolijk", "CNV"]
    assert [s.value for s in a.steps] == [Fraction(370, 7), Fraction(190, 4), Fraction(140, 3)]
    assert all(s.reason == "highest_average" for s in a.steps)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("threshold", [Fraction(0), Fraction(3, 4)])
def test_e2(method: str, threshold: Fraction) -> None:
    votes = {"A": 420, "B": 350, "C": 230}
    a = apportion_seats(votes, 9, many(votes), method=method, remainder_threshold=threshold)
    assert a.full_seats == {"A": 3, "B": 3, "C": 2}
    assert a.remainders["A"] == Fraction(260, 3)  # 86 2/3
    assert a.seats_per_list == {"A": 4, "B": 3, "C": 2}


def test_threshold_three_quarters_excludes_small_list() -> None:
    votes = {"A": 600, "B": 250, "C": 100, "D": 50}
    plain = apportion_seats(votes, 9, many(votes))
    assert plain.seats_per_list == {"A": 5, "B": 2, "C": 1, "D": 1}
    a = apportion_seats(votes, 9, many(votes), remainder_threshold=Fraction(3, 4))
    assert a.threshold_votes == Fraction(250, 3)  # 3/4 of 1000/9
    assert a.meets_threshold == {"A": True, "B": True, "C": True, "D": False}
    assert [s.chosen for s in a.steps] == ["C", "A"]
    assert a.seats_per_list == {"A": 6, "B": 2, "C": 1, "D": 0}


def test_threshold_leftover_seats_by_highest_averages_among_qualified() -> None:
    votes = {"A": 520, "B": 160} | {f"s{i}": 40 for i in range(8)}
    a = apportion_seats(votes, 9, many(votes), remainder_threshold=Fraction(3, 4))
    assert [(s.phase, s.chosen) for s in a.steps] == [
        ("largest_remainder", "A"),
        ("largest_remainder", "B"),
        ("highest_averages", "A"),
        ("highest_averages", "A"),
    ]
    assert a.steps[2].value == Fraction(520, 6)
    assert a.seats_per_list["A"] == 7 and a.seats_per_list["B"] == 2
    assert sum(a.seats_per_list.values()) == 9


def test_threshold_met_by_none_all_lists_by_highest_averages_with_lot() -> None:
    votes = {f"l{i}": 100 for i in range(10)}
    lot = Lot(ROOT)
    a = apportion_seats(votes, 9, many(votes), remainder_threshold=Fraction(1), lot=lot)
    assert not any(a.meets_threshold.values())
    assert "no list met the remainder threshold" in a.notes[0]
    assert sum(a.seats_per_list.values()) == 9
    assert len(lot.draws) == 1 and lot.draws[0].k == 9
    assert all(s.reason == "lot" and s.lot_draw["number"] == 1 for s in a.steps)
    assert a.steps[0].options == list(votes) and len(a.steps[-1].options) == 2
    assert [s.chosen for s in a.steps] == list(lot.draws[0].chosen)


def test_tie_for_fewer_seats_needs_lot() -> None:
    votes = {"A": 100, "B": 100}
    with pytest.raises(LotRequired):
        apportion_seats(votes, 1, many(votes))
    lot = Lot(ROOT)
    a = apportion_seats(votes, 1, many(votes), lot=lot)
    step = a.steps[0]
    assert step.reason == "lot" and step.options == ["A", "B"]
    assert step.lot_draw == lot.draws[0].to_dict()
    assert a.seats_per_list[step.chosen] == 1
    again = apportion_seats(votes, 1, many(votes), lot=Lot(ROOT))
    assert again.to_dict() == a.to_dict()


def test_tie_for_as_many_seats_needs_no_lot() -> None:
    votes = {"A": 100, "B": 100, "C": 10}
    a = apportion_seats(votes, 2, many(votes))
    assert a.seats_per_list == {"A": 1, "B": 1, "C": 0}
    assert a.steps[0].options == ["A", "B"] and "no lot needed" in a.steps[0].note


def test_exhaustion_at_full_seats_gives_back_and_continues() -> None:
    votes = {"A": 900, "B": 100}
    a = apportion_seats(votes, 5, {"A": 2, "B": 5})
    given = a.steps[0]
    assert given.kind == "seat_given_back" and given.chosen == "A" and given.seats_given_back == 2
    assert [s.chosen for s in a.steps[1:]] == ["B", "B", "B"]
    assert a.steps[1].phase == "largest_remainder"
    assert a.steps[2].phase == "highest_averages"
    assert a.seats_per_list == {"A": 2, "B": 3}


def test_exhaustion_at_residual_seat() -> None:
    votes = {"A": 370, "B": 140, "C": 290}  # quota 800/15: full 6/2/5, remainders 50, 100/3, 10/3
    a = apportion_seats(votes, 15, {"A": 6, "B": 10, "C": 10})
    assert a.full_seats == {"A": 6, "B": 2, "C": 5}
    # A cannot take its residual seat: B and C take the two residual seats.
    assert a.seats_per_list == {"A": 6, "B": 3, "C": 6}
    assert "A" not in a.steps[0].options


def test_all_exhausted_leaves_seats_vacant() -> None:
    votes = {"A": 900, "B": 100}
    a = apportion_seats(votes, 5, {"A": 1, "B": 1})
    assert a.seats_per_list == {"A": 1, "B": 1}
    assert a.vacant_seats == 3
    assert a.steps[-1].kind == "vacant"


@pytest.mark.parametrize("method", METHODS)
def test_zero_valid_votes(method: str) -> None:
    a = apportion_seats({"A": 0, "B": 0}, 7, {"A": 5, "B": 5}, method=method, blank=4, invalid=1)
    assert a.quota is None and a.steps == []
    assert a.seats_per_list == {"A": 0, "B": 0} and a.vacant_seats == 7
    assert a.notes == ["no valid votes: no seats assigned, all seats vacant"]
    assert a.to_dict()["votes"] == {"valid": 0, "blank": 4, "invalid": 1}


def test_list_without_votes_gets_no_seat() -> None:
    votes = {"A": 10, "B": 0}
    a = apportion_seats(votes, 3, {"A": 1, "B": 5})
    assert a.seats_per_list == {"A": 1, "B": 0} and a.vacant_seats == 2


def test_to_dict_is_plain_json() -> None:
    a = apportion_seats(E1, 15, many(E1), lot=Lot(ROOT))
    d = a.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert rfc8785.dumps(d) == rfc8785.dumps(apportion_seats(E1, 15, many(E1)).to_dict())


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        apportion_seats({"A": 1}, 1, {"A": 1}, method="sainte_lague")
    with pytest.raises(ValueError):
        apportion_seats({"A": -1}, 1, {"A": 1})
    with pytest.raises(ValueError):
        apportion_seats({"A": 1}, 1, {})


# --------------------------------------------------------------------------- within a list


def test_preference_votes_elect_lower_candidate() -> None:
    cands = [("c1", 10), ("c2", 5), ("c3", 60), ("c4", 0)]
    r = elect_candidates(cands, 2, Fraction(100))
    assert r.threshold_votes == 50
    assert r.elected == ["c3", "c1"]
    assert r.successors == ["c2", "c4"]
    assert [s.reason for s in r.steps] == [
        "preference_votes",
        "list_order",
        "list_order",
        "list_order",
    ]


def test_preference_ties_follow_list_order_and_successors_same_order() -> None:
    cands = [("c1", 0), ("c2", 70), ("c3", 80), ("c4", 70), ("c5", 1)]
    r = elect_candidates(cands, 2, Fraction(100))
    assert r.elected == ["c3", "c2"]
    assert r.successors == ["c4", "c1", "c5"]


def test_preference_threshold_setting() -> None:
    cands = [("c1", 10), ("c2", 30)]
    assert elect_candidates(cands, 1, Fraction(100)).elected == ["c1"]
    assert elect_candidates(cands, 1, Fraction(100), Fraction(1, 4)).elected == ["c2"]


def test_elect_candidates_rejects_too_many_seats() -> None:
    with pytest.raises(ValueError):
        elect_candidates([("c1", 1)], 2, Fraction(1))


def test_person_system_tie_at_last_seat_by_lot() -> None:
    votes = {"a": 5, "b": 3, "c": 3, "d": 1, "e": 0}
    with pytest.raises(LotRequired):
        elect_person_system(votes, 2)
    lot = Lot(ROOT)
    r = elect_person_system(votes, 2, lot)
    assert r.elected[0] == "a"
    assert len(lot.draws) == 1 and sorted(lot.draws[0].options) == ["b", "c"]
    assert r.elected[1] == lot.draws[0].chosen[0]
    assert r.successors == [lot.draws[0].chosen[1], "d", "e"]
    assert r.steps[1].reason == "lot"


def test_person_system_plain_and_vacant() -> None:
    r = elect_person_system({"a": 1, "b": 7, "c": 3, "d": 0}, 2)
    assert r.elected == ["b", "c"] and r.successors == ["a", "d"]
    r = elect_person_system({"a": 2, "b": 0}, 3)
    assert r.elected == ["a"] and r.vacant_seats == 2 and r.successors == ["b"]


def test_zero_vote_list_takes_no_seat_given_back_and_the_note_says_why() -> None:
    # docs/rules.md "Zero votes": A 10 votes, 1 candidate; B 0 votes, 5 candidates; 3 seats.
    a = apportion_seats({"A": 10, "B": 0}, 3, {"A": 1, "B": 5})
    assert a.full_seats == {"A": 3, "B": 0}
    assert [s.kind for s in a.steps] == ["seat_given_back", "vacant"]
    assert a.seats_per_list == {"A": 1, "B": 0} and a.vacant_seats == 2
    note = a.steps[-1].note
    assert "no list has candidates left" not in note  # B has: it has no votes
    assert note.startswith("no list with votes has candidates left; B received no votes")
    assert note.endswith(": 2 seat(s) vacant")
    d = a.to_dict()["steps"][-1]
    assert step_text(d, "nl", 3, {"B": "Lijst B"}.get) == (
        "geen lijst met stemmen heeft nog kandidaten over; Lijst B kreeg geen stemmen en krijgt "
        "geen zetel (een lijst waarop niemand stemde heeft geen mandaat): 2 zetel(s) blijven vacant"
    )


def test_every_list_exhausted_the_note_says_so() -> None:
    a = apportion_seats({"A": 900, "B": 100}, 5, {"A": 1, "B": 1})
    assert a.steps[-1].note == "no list has candidates left to take a seat: 3 seat(s) vacant"


@pytest.mark.parametrize("method", METHODS)
def test_every_step_note_is_the_explained_english_text(method: str) -> None:
    votes = {"A": 30, "B": 30, "C": 10, "D": 0}
    a = apportion_seats(votes, 5, {"A": 1, "B": 9, "C": 9, "D": 2}, method=method, lot=Lot(ROOT))
    for s in a.to_dict()["steps"]:
        assert s["note"] == step_text(s, "en", 5)
        nl = step_text(s, "nl", 5)
        assert nl and nl != s["note"]
