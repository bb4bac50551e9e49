from fractions import Fraction

import pytest
import rfc8785

from rules.ballot import largest_ballot, max_ballot_size, validate_ballot
from rules.counting import count_consultation, count_works_council_group, percent_display
from rules.lot import Lot


def group(system: str = "list", vote_held: bool = True, seats: int = 3, vpv: int = 1) -> dict:
    return {
        "group": "kg1",
        "seats": seats,
        "vote_held": vote_held,
        "system": system,
        "votes_per_voter": vpv,
        "lists": [
            {
                "id": "l1",
                "name": "FNV",
                "kind": "union",
                "candidates": [
                    {"id": "c1", "name": "A. Jansen", "position": 1},
                    {"id": "c2", "name": "B. de Vries", "position": 2},
                    {"id": "c3", "name": "C. Bakker", "position": 3},
                ],
            },
            {
                "id": "l2",
                "name": "Vrije lijst",
                "kind": "free",
                "candidates": [
                    {"id": "c4", "name": "D. Smit", "position": 1},
                    {"id": "c5", "name": "E. Visser", "position": 2},
                ],
            },
        ],
    }


CONSULTATION = {
    "questions": [
        {
            "id": "q1",
            "text": "Thuiswerkbeleid?",
            "rule": "yes_no_abstain",
            "options": [{"id": "yes"}, {"id": "no"}, {"id": "abstain"}],
        },
        {
            "id": "q2",
            "text": "Welke dagen?",
            "rule": "up_to_k",
            "max_choices": 2,
            "options": [{"id": "mon"}, {"id": "tue"}, {"id": "wed"}],
        },
    ]
}


def ballot(sel: object, election: str = "e1", grp: str = "kg1") -> dict:
    return {"election": election, "group": grp, "selections": sel}


@pytest.mark.parametrize(
    ("plaintext", "reason"),
    [
        (ballot([]), None),
        (ballot(["c4"]), None),
        ("x", "not an object"),
        ({"election": "e1", "group": "kg1"}, "missing field selections"),
        (ballot([]) | {"extra": 1}, "unexpected field extra"),
        (ballot([], election="e2"), "wrong election"),
        (ballot([], grp="kg2"), "wrong group"),
        (ballot("c1"), "selections is not a list"),
        (ballot([1]), "selection is not a string"),
        (ballot(["c9"]), "unknown candidate c9"),
        (ballot(["c1", "c1"]), "duplicate selection c1"),
        (ballot(["c1", "c4"]), "too many selections: 2 > 1"),
    ],
)
def test_validate_list_ballot(plaintext: object, reason: str | None) -> None:
    assert validate_ballot(group(), "e1", "kg1", plaintext) == (reason is None, reason)


def test_validate_person_ballot_and_no_vote_group() -> None:
    g = group("person", vpv=3)
    assert validate_ballot(g, "e1", "kg1", ballot(["c1", "c4", "c5"])) == (True, None)
    assert validate_ballot(g, "e1", "kg1", ballot(["c1", "c2", "c3", "c4"])) == (
        False,
        "too many selections: 4 > 3",
    )
    assert validate_ballot(group(vote_held=False), "e1", "kg1", ballot([])) == (
        False,
        "no vote held in group kg1",
    )


@pytest.mark.parametrize(
    ("sel", "reason"),
    [
        ({}, None),
        ({"q1": ["yes"], "q2": []}, None),
        ({"q2": ["mon", "wed"]}, None),
        ([], "selections is not an object"),
        ({"q9": []}, "unknown question q9"),
        ({"q1": ["maybe"]}, "unknown option maybe for question q1"),
        ({"q1": ["yes", "no"]}, "too many selections for question q1: 2 > 1"),
        ({"q2": ["mon", "mon"]}, "duplicate selection mon for question q2"),
        ({"q2": "mon"}, "question q2 is not a list"),
    ],
)
def test_validate_consultation(sel: object, reason: str | None) -> None:
    assert validate_ballot(CONSULTATION, "e1", "all", ballot(sel, grp="all")) == (
        reason is None,
        reason,
    )


def test_max_ballot_size() -> None:
    g = group("person", vpv=2)
    big = largest_ballot(g, "e1")
    assert len(big["selections"]) == 2
    n = len(rfc8785.dumps(big))
    size = max_ballot_size([group(), g], "e1")
    assert size % 64 == 0 and n + 1 <= size < n + 65
    assert max_ballot_size({"groups": [g]}, "e1") == size
    long_id = group()
    long_id["lists"][0]["candidates"][0]["id"] = "x" * 70
    assert max_ballot_size(long_id, "e1") == 128  # 70 + 43 bytes of frame + 1 > 64
    c = largest_ballot(CONSULTATION, "e1")
    assert c["selections"] == {"q1": ["abstain"], "q2": ["mon", "tue"]}
    assert validate_ballot(CONSULTATION, "e1", "all", c) == (True, None)


def records(*sels: list[str], invalid: list[str] = ()) -> list:
    return [(True, None, s) for s in sels] + [(False, r, None) for r in invalid]


def test_count_list_system_with_preference_votes() -> None:
    # l1: c1 1, c3 3 → 4 votes; l2: c4 2; 2 blank, 2 invalid. 3 seats, quota 2.
    ballots = records(
        ["c1"],
        ["c3"],
        ["c3"],
        ["c3"],
        ["c4"],
        ["c4"],
        [],
        [],
        invalid=["wrong group", "unknown candidate c9"],
    )
    r = count_works_council_group(group(), ballots, lot=Lot(bytes(32)))
    assert (r.ballots_total, r.ballots_valid, r.blank, r.invalid) == (10, 6, 2, 2)
    assert r.apportionment is not None and r.apportionment.quota == 2
    assert r.seats_per_list == {"l1": 2, "l2": 1}
    l1 = r.lists[0]
    assert l1.election.elected == ["c3", "c1"] and l1.election.successors == ["c2"]
    assert r.elected == ["c3", "c1", "c4"]
    d = r.to_dict()
    assert d["ballots"]["invalid_reasons"] == [
        {"reason": "unknown candidate c9", "count": 1},
        {"reason": "wrong group", "count": 1},
    ]
    assert rfc8785.dumps(d) == rfc8785.dumps(
        count_works_council_group(group(), ballots, lot=Lot(bytes(32))).to_dict()
    )


def test_count_threshold_settings_as_strings() -> None:
    ballots = records(*[["c1"]] * 8, ["c4"])
    r = count_works_council_group(
        group(), ballots, remainder_threshold="3/4", preference_threshold="1/4"
    )
    assert r.settings["remainder_threshold"]["value"] == "3/4"
    assert r.seats_per_list == {"l1": 3, "l2": 0}


def test_count_person_system() -> None:
    g = group("person", seats=2, vpv=2)
    ballots = records(["c1", "c4"], ["c4", "c5"], ["c4"], ["c2", "c1"], [])
    r = count_works_council_group(g, ballots, lot=Lot(bytes(32)))
    assert r.person_election is not None
    assert r.elected == ["c4", "c1"]
    assert r.seats_per_list == {"l1": 1, "l2": 1}
    assert r.person_election.successors[0] in {"c2", "c5"}  # tied at 1 vote: lot order


def test_e7_no_vote_held() -> None:
    g = group(vote_held=False, seats=9)
    for lst in g["lists"]:
        lst["candidates"] += [
            {"id": f"{lst['id']}x{i}", "name": "X", "position": 10 + i} for i in range(2)
        ]
    g["lists"][1]["candidates"].pop()  # 8 candidates for 9 seats
    r = count_works_council_group(g, [])
    assert not r.vote_held and len(r.elected) == 8 and r.vacant_seats == 1
    assert "no vote held: 8 candidate(s) for 9 seat(s), all elected, 1 seat(s) vacant" in r.notes
    with pytest.raises(ValueError):
        count_works_council_group(group(vote_held=False, seats=2), [])


def test_count_zero_valid_votes() -> None:
    r = count_works_council_group(group(), records([], invalid=["not an object"]))
    assert r.elected == [] and r.vacant_seats == 3
    assert r.apportionment is not None and "no valid votes" in r.apportionment.notes[0]


def test_count_consultation_shares() -> None:
    ballots = [
        (True, None, {"q1": ["yes"], "q2": ["mon", "tue"]}),
        (True, None, {"q1": ["yes"], "q2": ["tue"]}),
        (True, None, {"q1": ["no"]}),
        (True, None, {"q1": [], "q2": ["wed"]}),
        (False, "wrong group", None),
    ]
    r = count_consultation(CONSULTATION, ballots)
    d = r.to_dict()
    assert d["ballots"] == {
        "total": 5,
        "valid": 4,
        "invalid": 1,
        "skipped": 0,
        "invalid_reasons": [{"reason": "wrong group", "count": 1}],
    }
    q1, q2 = d["questions"]
    assert (q1["answered"], q1["blank"]) == (3, 1)
    assert [o["count"] for o in q1["options"]] == [2, 1, 0]
    assert q1["options"][0]["share"] == {"value": "2/3", "display": "2/3"}
    assert q1["options"][0]["percent"] == "66.67"
    assert [o["count"] for o in q2["options"]] == [1, 2, 1]
    assert q2["options"][1]["percent"] == "66.67" and q2["blank"] == 1


def test_percent_display_rounds_half_up() -> None:
    assert percent_display(Fraction(1, 8)) == "12.50"
    assert percent_display(Fraction(1, 3)) == "33.33"
    assert percent_display(Fraction(1, 80000)) == "0.00"
    assert percent_display(Fraction(1, 20000)) == "0.01"
    assert percent_display(Fraction(1)) == "100.00"
