"""Hypothesis properties of the apportionment (issue 6 item 9, docs/rules.md)."""

import math
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rules.apportionment import LotRequired, apportion_seats
from rules.lot import Lot

ROOT = bytes(range(32))
FEW = settings(max_examples=150, deadline=None)

votes_st = st.lists(st.integers(0, 400), min_size=1, max_size=6).map(
    lambda vs: {f"l{i}": v for i, v in enumerate(vs)}
)
methods = st.sampled_from(["largest_remainder", "highest_averages"])
thresholds = st.sampled_from([Fraction(0), Fraction(3, 4), Fraction(1)])


@FEW
@given(votes_st, st.integers(1, 25), methods, thresholds)
def test_seats_add_up_with_enough_candidates(votes, seats, method, threshold) -> None:
    assume(sum(votes.values()) > 0)
    a = apportion_seats(votes, seats, {k: seats for k in votes}, method, threshold, lot=Lot(ROOT))
    assert sum(a.seats_per_list.values()) == seats
    assert a.vacant_seats == 0


@FEW
@given(votes_st, st.integers(1, 25), methods, thresholds, st.integers(0, 6))
def test_seats_never_exceed_candidates(votes, seats, method, threshold, cands) -> None:
    a = apportion_seats(votes, seats, {k: cands for k in votes}, method, threshold, lot=Lot(ROOT))
    assert all(s <= cands for s in a.seats_per_list.values())
    assert sum(a.seats_per_list.values()) + a.vacant_seats == seats
    with_votes = [k for k, v in votes.items() if v > 0]
    assert sum(a.seats_per_list.values()) == min(seats, cands * len(with_votes))


@FEW
@given(votes_st, st.integers(1, 25), st.data())
def test_largest_remainder_threshold_zero_within_quota_bounds(votes, seats, data) -> None:
    assume(sum(votes.values()) > 0)
    a = apportion_seats(votes, seats, {k: seats for k in votes}, lot=Lot(ROOT))
    for k, v in votes.items():
        exact = Fraction(v) / a.quota
        assert math.floor(exact) <= a.seats_per_list[k] <= math.ceil(exact)


@FEW
@given(votes_st, st.integers(1, 25), methods, st.integers(1, 300), st.data())
def test_monotone_in_own_votes(votes, seats, method, extra, data) -> None:
    """A list never loses a seat when only its own votes grow (threshold 0, no lot ties)."""
    assume(sum(votes.values()) > 0)
    lid = data.draw(st.sampled_from(sorted(votes)))
    more = dict(votes)
    more[lid] += extra
    cands = {k: seats for k in votes}
    try:
        before = apportion_seats(votes, seats, cands, method)
        after = apportion_seats(more, seats, cands, method)
    except LotRequired:
        assume(False)
        return
    assert after.seats_per_list[lid] >= before.seats_per_list[lid]


def dhondt(votes: dict[str, int], seats: int) -> dict[str, int]:
    got = dict.fromkeys(votes, 0)
    for _ in range(seats):
        best = max(votes, key=lambda k: Fraction(votes[k], got[k] + 1))
        got[best] += 1
    return got


@FEW
@given(votes_st, st.integers(1, 25))
def test_full_seats_plus_highest_averages_is_plain_dhondt(votes, seats) -> None:
    assume(sum(votes.values()) > 0)
    try:
        a = apportion_seats(votes, seats, {k: seats for k in votes}, "highest_averages")
    except LotRequired:
        assume(False)
        return
    assert a.seats_per_list == dhondt(votes, seats)


@FEW
@given(votes_st, st.integers(1, 25), methods, thresholds)
def test_deterministic(votes, seats, method, threshold) -> None:
    def run() -> dict:
        return apportion_seats(
            votes, seats, {k: 3 for k in votes}, method, threshold, lot=Lot(ROOT)
        ).to_dict()

    assert run() == run()
