"""Number of works council seats derived from headcount (WOR art. 6(1), docs/rules.md "Seats")."""

from __future__ import annotations

#: (lower bound of headcount, seats) for the fixed part of the WOR art. 6(1) table.
_TABLE: tuple[tuple[int, int], ...] = (
    (1000, 15),
    (600, 13),
    (400, 11),
    (200, 9),
    (100, 7),
    (50, 5),
    (0, 3),
)

MAX_SEATS = 25


def seats_for_headcount(n: int) -> int:
    """Seats for a company with ``n`` persons working in it (WOR art. 6(1)).

    ``< 50: 3 · 50–99: 5 · 100–199: 7 · 200–399: 9 · 400–599: 11 · 600–999: 13 ·
    1000–1999: 15``, then two more for each further 1000, at most 25. The committee may set
    another number directly (with the employer's consent); that is not this function's concern.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("headcount must be an int")
    if n < 0:
        raise ValueError("headcount must not be negative")
    if n >= 2000:
        return min(MAX_SEATS, 15 + 2 * ((n - 1000) // 1000))
    for lower, seats in _TABLE:
        if n >= lower:
            return seats
    raise AssertionError("unreachable")  # pragma: no cover
