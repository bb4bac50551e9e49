"""The questions editor of a consultation in the console (/console, settings), in a real Chromium
against a real `stembus serve`, each result checked through the API, with axe-core (WCAG 2.1
A/AA) 0 violations on each view: one question of each rule entered and saved; an invalid
question answered by the API's error at that question, nothing saved; reordering with the
keyboard alone; and the person system's stored order shown in the lists section."""

from __future__ import annotations

from typing import Any

import httpx

from tests.realserver import Server
from tests.web.test_booth import Watch, clean, heading
from tests.web.test_console import API, login_api, section
from tests.web.test_console_more import Keys, new_election


def log_in(page: Any, server: Server, eid: str, code: str, title: str) -> None:
    page.goto(f"{server.base}/console")
    heading(page, "Console voor commissie en beheerder")
    page.fill("input[name=election]", eid)
    page.fill("input[name=code]", code)
    page.click("button:has-text('Inloggen') >> nth=0")
    heading(page, title)


def q(i: int) -> str:
    return f"ol.questions > li[data-q='{i}']"


def add_question(page: Any, i: int, text: str, rule: str) -> None:
    page.click("button:text-is('Vraag toevoegen')")
    page.wait_for_selector(f"{q(i)} textarea")
    page.fill(f"{q(i)} textarea", text)
    page.select_option(f"{q(i)} select[data-field=rule]", rule)


def options(page: Any, i: int, texts: list[str]) -> None:
    sel = f"{q(i)} ol.options input"
    while page.locator(sel).count() < len(texts):
        page.click(f"{q(i)} button:text-is('Antwoord toevoegen')")
    for n, text in enumerate(texts):
        page.locator(sel).nth(n).fill(text)


def saved(page: Any) -> None:
    try:
        page.wait_for_selector("#live:has-text('De regels zijn bewaard.')", state="attached")
    except Exception as exc:
        raise AssertionError(page.inner_text(".outcome")) from exc
    page.wait_for_selector("h2:text-is('Vragen')")


def settings(http: httpx.Client, eid: str, chair: dict[str, str]) -> dict[str, Any]:
    r = http.get(f"{API}/elections/{eid}", headers=chair)
    assert r.status_code == 200, r.text
    got: dict[str, Any] = r.json()["settings"]
    return got


def test_the_committee_enters_one_question_of_each_rule(
    server: Server, browser: Any, axe_source: str
) -> None:
    http = httpx.Client(base_url=server.base, timeout=30)
    eid, code = new_election(http, "Raadpleging kantine", {"kind": "consultation"})
    chair = login_api(http, eid, code)
    page = browser.new_page()
    watch = Watch(page)
    log_in(page, server, eid, code, "Raadpleging kantine")
    section(page, eid, "Regels", "Regels")
    page.wait_for_selector("h2:text-is('Vragen')")
    clean(page, axe_source)

    add_question(page, 0, "Welke soep wilt u?", "single")
    options(page, 0, ["Tomaat", "Erwten"])
    add_question(page, 1, "Welke broodjes?", "up_to_k")
    options(page, 1, ["Kaas", "Ham", "Ei"])
    page.fill(f"{q(1)} input[data-field=max_choices]", "2")
    add_question(page, 2, "Moet de kantine 's avonds open?", "yes_no_abstain")
    page.check(f"{q(2)} input[data-field=required]")
    add_question(page, 3, "Hoe tevreden bent u?", "scale")
    page.fill(f"{q(3)} input[data-field=scale_min]", "-2")
    page.fill(f"{q(3)} input[data-field=scale_max]", "2")
    page.fill(f"{q(3)} input[data-field=min_label]", "Ontevreden")
    page.fill(f"{q(3)} input[data-field=max_label]", "Tevreden")
    add_question(page, 4, "Zet de menu's op volgorde", "ranking")
    options(page, 4, ["Vis", "Vlees", "Vega"])
    assert "Condorcet" in page.inner_text(q(4))
    add_question(page, 5, "Wat mist u?", "open")
    page.fill(f"{q(5)} input[data-field=max_length]", "200")
    assert "kan verraden wie het schreef" in page.inner_text(q(5))
    # An answer and a question added and taken away again leave nothing behind.
    options(page, 0, ["Tomaat", "Erwten", "Groente"])
    page.click(f"{q(0)} button[aria-label='Vraag 1, antwoord 3 weghalen']")
    assert page.locator(f"{q(0)} ol.options input").count() == 2
    add_question(page, 6, "Weg ermee", "single")
    page.click("button[aria-label='Vraag 7 verwijderen']")
    assert page.locator("ol.questions > li").count() == 6
    page.fill("label:text-is('Kleinste groep met eigen uitslag') ~ input", "12")
    clean(page, axe_source)

    page.click("button:text-is('Regels bewaren')")
    saved(page)
    clean(page, axe_source)
    st = settings(http, eid, chair)
    assert st["min_group_size"] == 12
    got = [
        {k: x[k] for k in ("id", "text", "rule", "required", "max_choices", "options")}
        | (
            {k: x[k] for k in ("scale_min", "scale_max", "min_label", "max_label")}
            if x["rule"] == "scale"
            else {}
        )
        | ({"max_length": x["max_length"]} if x["rule"] == "open" else {})
        for x in st["questions"]
    ]
    opts = lambda *ts: [{"id": f"o{n}", "text": t} for n, t in enumerate(ts, start=1)]  # noqa: E731
    assert got == [
        {"id": "v1", "text": "Welke soep wilt u?", "rule": "single", "required": False,
         "max_choices": 1, "options": opts("Tomaat", "Erwten")},
        {"id": "v2", "text": "Welke broodjes?", "rule": "up_to_k", "required": False,
         "max_choices": 2, "options": opts("Kaas", "Ham", "Ei")},
        {"id": "v3", "text": "Moet de kantine 's avonds open?", "rule": "yes_no_abstain",
         "required": True, "max_choices": 1,
         "options": [{"id": "yes", "text": "Ja"}, {"id": "no", "text": "Nee"},
                     {"id": "abstain", "text": "Onthouding"}]},
        {"id": "v4", "text": "Hoe tevreden bent u?", "rule": "scale", "required": False,
         "max_choices": 1, "options": [], "scale_min": -2, "scale_max": 2,
         "min_label": "Ontevreden", "max_label": "Tevreden"},
        {"id": "v5", "text": "Zet de menu's op volgorde", "rule": "ranking", "required": False,
         "max_choices": 1, "options": opts("Vis", "Vlees", "Vega")},
        {"id": "v6", "text": "Wat mist u?", "rule": "open", "required": False,
         "max_choices": 1, "options": [], "max_length": 200},
    ]  # fmt: skip
    # The saved questions read back into the editor as they were entered (a fresh page).
    page.reload()
    heading(page, "Regels")
    page.wait_for_selector(f"{q(5)} input[data-field=max_length]")
    assert page.input_value(f"{q(0)} textarea") == "Welke soep wilt u?"
    assert page.input_value(f"{q(3)} input[data-field=scale_min]") == "-2"
    assert page.input_value(f"{q(5)} input[data-field=max_length]") == "200"
    assert page.input_value(f"{q(1)} input[data-field=max_choices]") == "2"
    assert page.is_checked(f"{q(2)} input[data-field=required]")
    assert watch.errors == []


def test_an_invalid_question_shows_the_api_error_there_and_saves_nothing(
    server: Server, browser: Any, axe_source: str
) -> None:
    http = httpx.Client(base_url=server.base, timeout=30)
    eid, code = new_election(http, "Raadpleging fout", {"kind": "consultation"})
    chair = login_api(http, eid, code)
    page = browser.new_page()
    log_in(page, server, eid, code, "Raadpleging fout")
    section(page, eid, "Regels", "Regels")
    add_question(page, 0, "Goede vraag", "single")
    options(page, 0, ["Ja hoor", "Nee hoor"])
    add_question(page, 1, "Hoe tevreden?", "scale")
    page.fill(f"{q(1)} input[data-field=scale_min]", "3")
    page.fill(f"{q(1)} input[data-field=scale_max]", "3")
    add_question(page, 2, "Welke twee?", "up_to_k")
    options(page, 2, ["A", "B"])
    page.fill(f"{q(2)} input[data-field=max_choices]", "3")
    page.click("button:text-is('Regels bewaren')")

    page.wait_for_selector(f"{q(1)} .q-errors li")
    assert "scale_max must be above scale_min" in page.inner_text(f"{q(1)} .q-errors")
    assert "Het hoogste punt moet boven het laagste liggen." in page.inner_text(q(1))
    assert "Er mogen niet meer keuzes zijn dan antwoorden." in page.inner_text(q(2))
    assert "max_choices exceeds the number of options" in page.inner_text(f"{q(2)} .q-errors")
    assert page.inner_text(f"{q(0)} .q-errors") == ""
    # The focus goes to the first question in error, which names it.
    assert page.evaluate(
        f'() => document.querySelector("{q(1)} .q-errors").contains(document.activeElement)'
    )
    assert "Vraag 2 is niet in orde" in page.inner_text(f"{q(1)} .q-errors")
    clean(page, axe_source)
    assert settings(http, eid, chair)["questions"] == []

    # Corrected, it saves, and the errors are gone.
    page.fill(f"{q(1)} input[data-field=scale_max]", "7")
    page.fill(f"{q(2)} input[data-field=max_choices]", "2")
    page.click("button:text-is('Regels bewaren')")
    saved(page)
    assert page.locator(".q-errors li").count() == 0
    assert [x["rule"] for x in settings(http, eid, chair)["questions"]] == [
        "single",
        "scale",
        "up_to_k",
    ]


def test_reordering_questions_with_the_keyboard_alone_at_390_px(
    server: Server, browser: Any, axe_source: str
) -> None:
    http = httpx.Client(base_url=server.base, timeout=30)
    own = [
        {"id": "yes", "text": "Voor"},
        {"id": "no", "text": "Tegen"},
        {"id": "abstain", "text": "Blanco"},
    ]
    yna = [
        {"id": x, "text": f"Vraag {x}?", "rule": "yes_no_abstain", "options": own}
        for x in ("a", "b", "c")
    ]
    eid, code = new_election(
        http, "Raadpleging volgorde", {"kind": "consultation", "questions": yna}
    )
    chair = login_api(http, eid, code)
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: no horizontal scroll
    keys = Keys(page)
    log_in(page, server, eid, code, "Raadpleging volgorde")
    section(page, eid, "Regels", "Regels")
    clean(page, axe_source)
    assert page.locator("button[data-act=up]").first.is_disabled()

    keys.tab_to(f"{q(0)} button[data-act=down]")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{q(1)}[data-id=a]")
    # The focus follows the question moved: its "down" again, which moves it once more.
    assert (
        page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Vraag 2 omlaag"
    )
    page.keyboard.press("Space")
    page.wait_for_selector(f"{q(2)}[data-id=a]")
    # Last now: "down" is disabled, so the focus is on its "up".
    assert (
        page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Vraag 3 omhoog"
    )
    keys.focus_kept()
    clean(page, axe_source)
    keys.tab_to("button", "Regels bewaren")
    page.keyboard.press("Enter")
    saved(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('ol.questions > li')]"
        ".map(x => x.dataset.id).join() === 'b,c,a'"
    )
    got = settings(http, eid, chair)["questions"]
    assert [x["id"] for x in got] == ["b", "c", "a"]
    # The texts of yes/no/abstain made through the API stay as they were.
    assert all(x["options"] == own for x in got)


def test_the_lists_section_shows_the_stored_person_order(
    server: Server, browser: Any, axe_source: str
) -> None:
    http = httpx.Client(base_url=server.base, timeout=30)
    eid, code = new_election(http, "OR-verkiezing volgorde", {"voting_system": "person"})
    chair = login_api(http, eid, code)
    r = http.put(f"{API}/elections/{eid}/lists/person-order", json={"order": "lot"}, headers=chair)
    assert r.status_code == 200
    page = browser.new_page()
    log_in(page, server, eid, code, "OR-verkiezing volgorde")
    section(page, eid, "Lijsten", "Lijsten")
    page.wait_for_selector("[data-stored-order=lot]")
    assert page.input_value("label:text-is('Volgorde van de kandidaten') ~ select") == "lot"
    assert "Bewaarde volgorde: Door loting." in page.inner_text("main")
    clean(page, axe_source)
