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


# --------------------------------------------------------------------------- the whole page

import base64  # noqa: E402
import hashlib  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from html.parser import HTMLParser  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from api.tally import page  # noqa: E402
from rules.counting import count_works_council_group  # noqa: E402
from rules.explain import pick_lang  # noqa: E402
from rules.lot import Lot  # noqa: E402

ROOT = bytes(range(32))


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.styles = 0
        self.attrs: list[tuple[str, str | None]] = []
        self._skip = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs += attrs
        self._skip = tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip = False

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> tuple[str, list[tuple[str, str | None]]]:
    p = _Text()
    p.feed(html)
    return " ".join(" ".join(p.parts).split()), p.attrs


def group_def(lists: dict[str, list[str]], seats: int) -> dict[str, Any]:
    return {
        "group": "kg",
        "seats": seats,
        "vote_held": True,
        "system": "list",
        "lists": [
            {
                "id": lid,
                "name": lid,
                "kind": "union",
                "candidates": [{"id": c, "name": c, "position": i + 1} for i, c in enumerate(cs)],
            }
            for lid, cs in lists.items()
        ],
    }


def result_of(
    lists: dict[str, list[str]], votes: dict[str, int], seats: int, **settings: Any
) -> dict[str, Any]:
    ballots = [(True, None, [c]) for c, n in votes.items() for _ in range(n)]
    lot = Lot(ROOT)
    g = count_works_council_group(group_def(lists, seats), ballots, lot=lot, **settings)
    return {
        "kind": "works_council",
        "groups": [g.to_dict()],
        "turnout": [
            {"group": "kg", "eligible": 400, "issued": len(ballots), "voted": len(ballots)}
        ],
        "lot_checkpoint": {"size": 99, "root": ROOT.hex()},
        "lot": lot.to_dict(),
    }


NAMES = {
    "groups": {"kg": "Productie"},
    "lists": {"l1": "FNV", "l2": "CNV", "l3": "De Unie"},
    "candidates": {
        "c1": "Anna de Vries",
        "c2": "Bram Jansen",
        "c3": "Carla Bakker",
        "c4": "Daan Visser",
        "c5": "Eva Smit",
    },
    "questions": {},
}


def render(result: dict[str, Any], lang: str = "nl") -> str:
    return page.render(
        name="OR-verkiezing 2027",
        organisation="Acme B.V.",
        result=result,
        names=NAMES,
        record_url="https://stembus.test/api/v1/elections/x/record",
        result_index=42,
        lang=lang,  # type: ignore[arg-type]
        determined_at=datetime(2027, 3, 12, 15, 30, tzinfo=UTC),
        voting=(datetime(2027, 3, 1, 8, tzinfo=UTC), datetime(2027, 3, 12, 14, tzinfo=UTC)),
    )


def test_threshold_exclusion_is_named_and_explained() -> None:
    # 2 seats, quota 170, threshold 51/100 of it = 86 7/10 votes: CNV (68) is below it and
    # takes no residual seat by remainder, though its remainder is not far from FNV's 102; the
    # page says so in words.
    lists = {"l1": ["c1", "c2", "c3"], "l2": ["c4", "c5"]}
    res = result_of(lists, {"c1": 272, "c4": 68}, 2, remainder_threshold="51/100")
    assert res["groups"][0]["apportionment"]["lists"][1]["meets_threshold"] is False
    for lang, words in (
        ("nl", ("CNV haalde(n) de drempel van 51/100 van de kiesdeler", "grootste overschotten")),
        ("en", ("CNV did not reach the remainder threshold of 51/100", "largest remainders")),
    ):
        text, _ = visible(render(res, lang))
        assert all(w in text for w in words), text
        assert "onder de drempel" in text if lang == "nl" else "below the threshold" in text


def test_names_never_ids_and_the_tables_and_the_preference_explanation() -> None:
    # FNV 2 seats; c2 (list order) is elected above c3 who has more votes but is under the
    # preference threshold; c1 passes it.
    lists = {"l1": ["c1", "c2", "c3"], "l2": ["c4", "c5"]}
    res = result_of(lists, {"c1": 50, "c2": 1, "c3": 9, "c4": 30}, 3)
    for lang in ("nl", "en"):
        text, _ = visible(render(res, lang))
        for ident in ("l1", "l2", "c1", "c2", "c3", "c4", "c5", "kg"):
            assert f" {ident} " not in f" {text} ", (ident, text)
        assert "Anna de Vries" in text and "FNV" in text and "Productie" in text
        head = (
            ("Volle zetels", "Overschot", "Restzetels")
            if lang == "nl"
            else (
                "Full seats",
                "Remainder",
                "Residual seats",
            )
        )
        assert all(h in text.replace("\u00ad", "") for h in head)
        assert ("voorkeursdrempel" if lang == "nl" else "preference threshold") in text
        assert ("lijstvolgorde" if lang == "nl" else "list order") in text
        assert ("Kiesdeler" if lang == "nl" else "Quota") in text
        assert ("12 maart 2027" if lang == "nl" else "12 March 2027") in text  # date
        assert "1 " + ("maart" if lang == "nl" else "March") + " 2027 09:00" in text  # period
        assert "Opkomst" in text if lang == "nl" else "Turnout" in text


def test_the_lot_with_its_seed_and_how_to_recheck_it() -> None:
    lists = {"l1": ["c1", "c2"], "l2": ["c4", "c5"]}
    res = result_of(lists, {"c1": 10, "c4": 10}, 1)  # a tie for the only seat: the lot
    assert res["lot"]["draws"]
    for lang in ("nl", "en"):
        text, _ = visible(render(res, lang))
        assert "stembus/lot/v1" in text and ROOT.hex() in text and "stembus verify" in text
        assert ("Trekking 1" if lang == "nl" else "Draw 1") in text
        assert ("loting 1 geeft deze zetel aan" if lang == "nl" else "lot draw 1 gives") in text


def test_strict_csp_no_inline_style_no_foreign_asset_and_print_rules() -> None:
    lists = {"l1": ["c1", "c2"], "l2": ["c4", "c5"]}
    html = render(result_of(lists, {"c1": 10, "c4": 7}, 2))
    _, attrs = visible(html)
    assert not [a for a in attrs if a[0] == "style"]
    assert not [v for k, v in attrs if k in ("src", "srcset") and v]
    css = html.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in page.CSP and "default-src 'none'" in page.CSP
    assert "@page{size:A4" in css and "break-inside:avoid" in css
    assert "@media (max-width:480px)" in css and "overflow-x:auto" in css


@pytest.mark.parametrize(
    ("query", "header", "lang"),
    [
        (None, None, "nl"),
        ("en", "nl", "en"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "de-DE, en;q=0.5, nl;q=0.8", "nl"),
        (None, "fr", "nl"),
        ("nl", "en", "nl"),
    ],
)
def test_language_choice(query: str | None, header: str | None, lang: str) -> None:
    assert pick_lang(query, header) == lang


def test_before_the_tally_a_page_that_says_when_results_come(make_election) -> None:  # type: ignore[no-untyped-def]
    e = make_election({"seats": 3})
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    r = e.client.get(e.url("/results/page"), headers=browser)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "De uitslag is er nog niet" in r.text and "nog niet begonnen" in r.text
    assert r.headers["content-security-policy"] == page.CSP
    r = e.client.get(e.url("/results/page"), params={"lang": "en"}, headers=browser)
    assert "The result is not there yet" in r.text and r.headers["content-language"] == "en"
    # The JSON route still answers with its problem.
    r = e.client.get(e.url("/results"))
    assert r.status_code == 409 and r.json()["type"] == "/problems/not-tallied"


def test_a_browser_opening_the_json_results_gets_the_page(make_election) -> None:  # type: ignore[no-untyped-def]
    e = make_election({"seats": 3})
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    r = e.client.get(e.url("/results"), headers=browser, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == e.url("/results/page")
    r = e.client.get(e.url("/results"), headers=browser)
    assert r.status_code == 200 and "De uitslag is er nog niet" in r.text


def test_highest_averages_shows_the_averages_and_names_the_method() -> None:
    lists = {"l1": ["c1", "c2", "c3"], "l2": ["c4", "c5"]}
    # 10 valid, 3 seats: quota 10/3, full seats FNV 2 (7 votes), CNV 0 (3 votes); the residual
    # seat by averages: FNV 7/3 = 2 1/3, CNV 3/1 = 3 → CNV.
    res = result_of(lists, {"c1": 7, "c4": 3}, 3, residual_method="highest_averages")
    text, _ = visible(render(res, "nl"))
    assert "Gemid\u00addelde" in text or "Gemiddelde" in text
    assert "grootste gemiddelden (d'Hondt)" in text
    assert "2 1/3" in text and "CNV heeft het grootste gemiddelde 3" in text
    assert res["groups"][0]["lists"][1]["seats"] == 1


def test_invalid_ballots_are_explained_in_dutch() -> None:
    assert page.reason_text("unknown candidate zz", "nl") == "onbekende kandidaat"
    assert page.reason_text("too many selections: 2 > 1", "nl") == "te veel keuzes"
    assert page.reason_text("something new", "nl") == "ongeldig stembiljet"
    assert page.reason_text("unknown candidate zz", "en") == "unknown candidate zz"
