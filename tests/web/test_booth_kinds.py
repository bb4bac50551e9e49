"""Every consultation question kind in the booth, in a real Chromium against a real `stembus
serve` (issue 18 item 5): a scale, a ranking and an open question, the scale required — voted
with the keyboard alone (the scale's radio group by arrow keys, the ranking's places by select,
the open answer typed with a line feed and an astral character, its limit counted in code points
as the server counts), the required question left blank refused in the booth, the
consultation-wide skip; axe-core at every step; after the close and the tally each decrypted
ballot is what its voter chose, and the results page shows the counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crypto import sealing
from crypto.canonical import b64d
from tests.realserver import Server
from tests.test_e2e_shapes import Shape
from tests.web.test_booth import Watch, clean, heading, tab_to
from tests.web.test_works_council import login, open_voting, shape, tally

QUESTIONS = [
    {
        "id": "q1",
        "text": "Hoe tevreden bent u over de OR?",
        "rule": "scale",
        "scale_min": 1,
        "scale_max": 5,
        "min_label": "zeer ontevreden",
        "max_label": "zeer tevreden",
        "required": True,
    },
    {
        "id": "q2",
        "text": "Wat moet de OR eerst aanpakken?",
        "rule": "ranking",
        "options": [
            {"id": "thuiswerk", "text": "Thuiswerken"},
            {"id": "parkeren", "text": "Parkeren"},
            {"id": "kantine", "text": "Kantine"},
        ],
    },
    {"id": "q3", "text": "Wilt u nog iets kwijt?", "rule": "open", "max_length": 20},
]
OPEN_TEXT = 'Meer overleg\nen "minder" 👍'  # 25 UTF-16 units, 24 code points: too long...
SENT_TEXT = 'Meer overleg\nen "min'  # ...so the booth keeps the first 20 code points


def focused(page: Any) -> str:
    return str(page.evaluate("() => document.activeElement.id"))


def my_credential(page: Any, election: str) -> str:
    state = page.evaluate(f"() => sessionStorage.getItem('stembus:{election}:booth')")
    return str(json.loads(state)["cred"]["credential"])


def decrypted(s: Shape) -> dict[str, dict[str, Any]]:
    """credential → the opened ballot's selections, with the key the tally published."""
    entries: list[dict[str, Any]] = []
    start: int | None = 0
    while start is not None:
        page = s.ok(s.c.get(s.url("/log/entries"), params={"start": start}))
        entries.extend(x["entry"] for x in page["entries"])
        start = page["next"]
    key = next(x for x in entries if x["type"] == "decryption_key")["sealing_private_key"]
    out = {}
    for b in (x for x in entries if x["type"] == "ballot"):
        padded = sealing.open_ballot(
            b64d(key), b64d(b["ciphertext"]), s.id, b["group"], ballot_size=None
        )
        out[b["credential"]] = sealing.decode_ballot(padded)["selections"]
    return out


def test_scale_ranking_open_by_keyboard_a_required_refusal_and_a_skip(
    server: Server, browser: Any, axe_source: str, tmp_path: Path
) -> None:
    s = shape(server, {"kind": "consultation", "questions": QUESTIONS})
    s.roll({"V1": "all", "V2": "all", "V3": "all"})
    s.publish([])
    shares = open_voting(s, tmp_path)
    creds: dict[str, str] = {}

    # V1: every kind, by keyboard alone.
    page = browser.new_page()
    watch = Watch(page)
    login(page, server.base, s, "V1", "/vote")
    heading(page, "Beantwoord de vragen")
    main = page.inner_text("main")
    assert "(verplicht)" in main and "Ik sla deze raadpleging over" in main
    assert "1 – zeer ontevreden" in main and "5 – zeer tevreden" in main
    assert "herkenbaar" in page.inner_text("#q2-warn")
    clean(page, axe_source)
    # The scale: a radio group, Space picks the first point, the arrows move along it.
    tab_to(page, "el.name === 'q0' && el.value === '1'")
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.is_checked("input[name='q0'][value='4']")
    # The ranking: place 1 by arrow key; place 2 skips the option already placed.
    tab_to(page, "el.id === 'q1-rank-1'")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#q1-rank-1") == "thuiswerk"
    tab_to(page, "el.id === 'q1-rank-2'")
    assert page.is_disabled("#q1-rank-2 option[value='thuiswerk']")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#q1-rank-2") == "kantine"
    assert "1. Thuiswerken, 2. Kantine" in page.inner_text("#q1-order")
    page.wait_for_function(
        "() => document.getElementById('live').textContent.includes('2. Kantine')"
    )
    # The open answer: a line feed, an astral character; cut at 20 code points, not UTF-16 units.
    tab_to(page, "el.id === 'q2-text'")
    page.keyboard.type("Meer overleg")
    page.keyboard.press("Enter")
    page.keyboard.insert_text('en "minder" 👍')
    assert page.input_value("#q2-text") == SENT_TEXT
    page.wait_for_function(
        "() => document.getElementById('q2-count').textContent.includes('maximum van 20')"
    )
    page.keyboard.press("Backspace")
    page.keyboard.insert_text("👍")  # 20 code points, 21 UTF-16 units: allowed
    want_open = SENT_TEXT[:-1] + "👍"
    assert page.input_value("#q2-text") == want_open
    clean(page, axe_source)
    tab_to(page, "el.type === 'submit'")
    page.keyboard.press("Enter")
    heading(page, "Controleer uw keuze")
    review = page.inner_text("main")
    assert "4 (op de schaal van 1, zeer ontevreden, tot 5, zeer tevreden)" in review
    assert "Thuiswerken\n" in review and "Kantine" in review and "daarna, gelijk" in review
    assert 'en "mi👍' in review
    clean(page, axe_source)
    tab_to(page, "el.textContent === 'Stem uitbrengen'")
    page.keyboard.press("Enter")
    heading(page, "Uw stem is uitgebracht")
    clean(page, axe_source)
    creds["V1"] = my_credential(page, s.id)
    assert watch.errors == []
    page.close()

    # V2: the required scale left blank is refused in the booth, the focus on the message.
    page = browser.new_page()
    watch = Watch(page)
    login(page, server.base, s, "V2", "/vote")
    heading(page, "Beantwoord de vragen")
    page.select_option("#q1-rank-1", "parkeren")
    page.click("button:has-text('Verder')")
    page.wait_for_selector("#q0-required:not([hidden])")
    assert focused(page) == "q0-required"
    assert "verplicht" in page.inner_text("#q0-required")
    assert page.is_visible("h1:has-text('Beantwoord de vragen')")
    clean(page, axe_source)
    page.check("input[name='q0'][value='2']")
    page.click("button:has-text('Verder')")
    heading(page, "Controleer uw keuze")
    page.click("button:has-text('Stem uitbrengen')")
    heading(page, "Uw stem is uitgebracht")
    creds["V2"] = my_credential(page, s.id)
    assert watch.errors == []
    page.close()

    # V3: the skip, a blank ballot, the review says so.
    page = browser.new_page()
    watch = Watch(page)
    login(page, server.base, s, "V3", "/vote")
    heading(page, "Beantwoord de vragen")
    page.click("button:has-text('Ik sla deze raadpleging over')")
    heading(page, "Controleer uw keuze")
    assert "U slaat deze raadpleging over: u stemt blanco" in page.inner_text("main")
    clean(page, axe_source)
    page.click("button:has-text('Stem uitbrengen')")
    heading(page, "Uw stem is uitgebracht")
    creds["V3"] = my_credential(page, s.id)
    assert watch.errors == []

    # After the close and the tally: each ballot opens to its voter's choice; the counts.
    tally(s, shares)
    ballots = decrypted(s)
    assert ballots[creds["V1"]] == {"q1": [4], "q2": ["thuiswerk", "kantine"], "q3": [want_open]}
    assert ballots[creds["V2"]] == {"q1": [2], "q2": ["parkeren"]}
    assert ballots[creds["V3"]] == {}
    res = s.ok(s.c.get(s.url("/results")))["result"]["consultation"]
    assert res["ballots"]["valid"] == 3 and res["ballots"]["skipped"] == 1
    scale, ranking, text = res["questions"]
    assert {p["point"]: p["count"] for p in scale["points"]} == {1: 0, 2: 1, 3: 0, 4: 1, 5: 0}
    assert {o["option"]: o["first"] for o in ranking["options"]} == {
        "thuiswerk": 1,
        "parkeren": 1,
        "kantine": 0,
    }
    assert text["answers"] == [want_open]
    page.goto(f"{server.base}/api/v1/elections/{s.id}/results/page?lang=nl")
    shown = page.inner_text("body")
    assert "5 (zeer tevreden)" in shown and "Thuiswerken" in shown and 'en "mi👍' in shown
    clean(page, axe_source)
    page.close()
