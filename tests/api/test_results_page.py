"""The seat chart of the results page: every seat a dot, in list order, on the half circle."""

from __future__ import annotations

import re

from api.tally.page import seat_chart


def _dots(svg: str) -> list[tuple[float, float, float, str]]:
    return [
        (float(x), float(y), float(r), fill)
        for x, y, r, fill in re.findall(
            r'<circle cx="([\d.]+)" cy="([\d.]+)" r="(\d+)" fill="([^"]+)"', svg
        )
    ]


def test_every_seat_is_a_dot_inside_the_picture_in_list_order():
    for total in (2, 3, 7, 9, 13, 20, 21, 35):
        seats = [("#a00" if i < total // 2 else "#00a", f"seat {i}") for i in range(total)]
        dots = _dots(seat_chart(seats, "zetels"))
        assert len(dots) == total
        for x, y, r, _ in dots:
            assert r <= x <= 300 - r and r <= y <= 165 - r  # inside the viewBox
        # left to right: the first list's seats are the leftmost
        assert [d[3] for d in sorted(dots, key=lambda d: d[0])] == [s[0] for s in seats]
        assert f">{total}</text>" in seat_chart(seats, "zetels")


def test_one_seat_sits_just_above_the_number():
    svg = seat_chart([("#a00", "Lijst 1")], "één zetel")
    [(x, y, r, fill)] = _dots(svg)
    number_y = float(re.search(r'<text x="150" y="([\d.]+)"', svg).group(1))
    assert x == 150 and fill == "#a00"
    assert 0 < number_y - (y + r) < 30  # close above the number, not at the top of the arc


def test_no_seats_no_chart():
    assert seat_chart([], "geen zetels") == ""
