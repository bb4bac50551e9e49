"""What the first pass of issue 16 left untested, in a real Chromium against a real
`stembus serve`: the ballot's text contrast measured (≥ 7:1, WCAG AAA for the ballot), every
booth step at 200 % zoom, printing the proof of receipt, the registration / nomination /
candidacy pages exercised end to end and checked through the API, and the error pages a person
can meet in Dutch and English — with an axe-core scan (WCAG 2.1 A/AA, 0 violations) throughout.

One server and one Chromium for the module; each test takes its own browser context, so a
zoomed window and a normal one do not share a tab's sessionStorage. The server allows only
three wrong codes per window (STEMBUS_LOGIN_MAX_FAILURES=3), so the throttled login is reached
in three tries; throttling counts per client and election, and only one election here is sent
wrong codes."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.web.catalogue import ERRORS
from tests.api.test_voting_support import CONSULTATION, close_voting
from tests.realserver import Server
from tests.web.conftest import CHROMIUM, FLAGS, SECRET, axe, missing
from tests.web.measure import CUT_OFF, contrast, low
from tests.web.test_booth import Watch, heading, make_election
from tests.web.test_works_council import shape

API = "/api/v1"
MAX_FAILURES = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("web-gaps")
    env = {
        "STEMBUS_DATABASE_URL": database_url,
        "STEMBUS_SECRET": SECRET,
        "STEMBUS_DATA_DIR": str(data),
        "STEMBUS_LOG_LEVEL": "WARNING",
        "STEMBUS_LOGIN_MAX_FAILURES": str(MAX_FAILURES),
    }
    srv = Server(env, data / "server.log", migrate=False)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium as a Browser (not a persistent context), so that each test can open a
    context with its own viewport and device scale factor."""
    if not CHROMIUM.exists():
        missing("no /usr/bin/chromium (apt-get install -y chromium): browser tests skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright (the test extra) is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


def new_page(chromium: Any, **kw: Any) -> Any:
    options = {"locale": "nl-NL", "viewport": {"width": 1000, "height": 800}, **kw}
    return chromium.new_context(**options).new_page()


def scan(page: Any, axe_source: str) -> None:
    assert axe(page, axe_source) == []
    width = page.evaluate("() => document.documentElement.scrollWidth")
    view = page.evaluate("() => document.documentElement.clientWidth")
    assert width <= view, f"horizontal scroll: {width} > {view}"


# ------------------------------------------------------------------ 1. contrast, 4. printing


def test_ballot_and_review_text_is_at_least_7_to_1_and_the_promise_prints(
    server: Server, chromium: Any, axe_source: str
) -> None:
    ve = make_election(server, CONSULTATION, n_voters=2)
    code = next(iter(ve.codes.values()))
    page = new_page(chromium)
    watch = Watch(page)
    page.goto(f"{server.base}/elections/{ve.id}/vote#code={code}")
    page.wait_for_selector("#code")
    page.click("button[type=submit]")
    heading(page, "Beantwoord de vragen")
    ballot = contrast(page)
    tags = {m["tag"] for m in ballot}
    texts = " ".join(m["text"] for m in ballot)
    # The measurement reaches what the ballot is made of: legends, option labels, the count,
    # the buttons.
    assert {"legend", "label", "button"} <= tags, tags
    assert "Fietsplan" in texts and "Kinderopvang" in texts and "Verder" in texts
    assert any("count" in m["cls"] for m in ballot)
    assert low(ballot) == []
    # The measurement can fail: a grey count (#777 on white is 4.48:1) is caught.
    page.evaluate("() => { document.querySelector('.count').style.color = '#777'; }")
    caught = low(contrast(page))
    assert [m["cls"] for m in caught] == ["count"] and 4.4 < caught[0]["ratio"] < 4.6
    page.evaluate("() => { document.querySelector('.count').style.color = ''; }")
    # With the maximum reached: the disabled option's label; and the primary button hovered.
    page.check("label:has-text('Ja')")
    page.check("label:has-text('Fietsplan')")
    page.check("label:has-text('Sportschool')")
    assert page.is_disabled("input[value='kinderopvang']")
    page.hover("button:has-text('Verder')")
    full = contrast(page)
    assert any(m["text"] == "Kinderopvang" for m in full)
    assert low(full) == []
    scan(page, axe_source)
    page.click("button:has-text('Verder')")
    heading(page, "Controleer uw keuze")
    review = contrast(page)
    assert "Stem uitbrengen" in " ".join(m["text"] for m in review)
    assert low(review) == []
    page.hover("button:has-text('Keuze wijzigen')")
    assert low(contrast(page)) == []
    worst = min(m["ratio"] for m in ballot + full + review)
    assert worst >= 7.0
    print(f"\nlowest ballot/review text contrast: {worst:.2f}:1 over {len(full + review)} texts")
    # The proof of receipt, printed: the promise and the advice to keep it; no navigation,
    # no buttons, no download link.
    page.click("button:has-text('Stem uitbrengen')")
    heading(page, "Uw stem is uitgebracht")
    assert low(contrast(page)) == []
    promise = page.inner_text("#promise")
    page.emulate_media(media="print")
    assert page.evaluate("() => matchMedia('print').matches")
    assert page.is_visible("#promise") and page.inner_text("#promise") == promise
    assert page.is_visible("text=Bewaar dit bewijs")
    for hidden in ("header", "nav", "footer", "a[download]", "button:has-text('Printen')"):
        assert page.locator(hidden).count() > 0, hidden
        assert not page.locator(hidden).first.is_visible(), f"{hidden} is printed"
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1000
    page.emulate_media(media="screen")
    assert page.is_visible("header")
    assert watch.errors == []
    page.context.close()


# ------------------------------------------------------------------ 2. 200 % zoom


def test_every_booth_step_at_200_percent_zoom(
    server: Server, chromium: Any, axe_source: str
) -> None:
    """Browser zoom at 200 % in a 1280×800 window lays the page out in a 640×400 CSS-pixel
    viewport drawn at two device pixels per CSS pixel: media queries, `vw` and line wrapping all
    see 640 px. A context with viewport 640×400 and device_scale_factor=2 is exactly that (and
    window.devicePixelRatio says 2, as under real zoom). CSS `zoom: 2` on the page would not
    be: the viewport stays 1280 px wide for media queries and the layout is scaled, not
    reflowed. Every step: axe 0 violations, no horizontal scroll, nothing cut off sideways, and
    the buttons that move on (Verder, Stem uitbrengen) reachable by scrolling and not covered."""
    ve = make_election(server, CONSULTATION, n_voters=2)
    code = next(iter(ve.codes.values()))
    page = new_page(chromium, viewport={"width": 640, "height": 400}, device_scale_factor=2)
    watch = Watch(page)
    assert page.evaluate("() => [innerWidth, innerHeight, devicePixelRatio]") == [640, 400, 2]

    def usable(button: str | None = None) -> None:
        scan(page, axe_source)
        assert page.evaluate(CUT_OFF) == []
        if button is None:
            return
        b = page.locator(button)
        b.evaluate("el => el.scrollIntoView({block: 'center'})")
        box = b.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 640
        assert box["y"] >= 0 and box["y"] + box["height"] <= 400
        on_top = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('button')?.textContent",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert on_top == b.inner_text()

    page.goto(f"{server.base}/elections/{ve.id}")
    heading(page, ve.e.data["name"])
    usable("button:has-text('Inloggen')")
    page.fill("#code", code)
    page.click("button:has-text('Inloggen')")
    page.wait_for_selector("a:has-text('Stemmen')")
    usable()
    page.click("a:has-text('Stemmen')")
    heading(page, "Beantwoord de vragen")
    usable("button:has-text('Verder')")
    page.check("label:has-text('Ja')")
    page.check("label:has-text('Fietsplan')")
    page.check("label:has-text('Kinderopvang')")
    usable("button:has-text('Verder')")
    page.click("button:has-text('Verder')")
    heading(page, "Controleer uw keuze")
    usable("button:has-text('Stem uitbrengen')")
    page.click("button:has-text('Stem uitbrengen')")
    heading(page, "Uw stem is uitgebracht")
    usable("button:has-text('Opnieuw stemmen')")
    # The proof's long lines wrap inside the window instead of running out of it.
    assert page.evaluate(
        "() => { const p = document.querySelector('#promise');"
        " return p.scrollWidth <= p.clientWidth; }"
    )
    page.goto(f"{server.base}/elections/{ve.id}/receipt")
    heading(page, "Ontvangstbewijs controleren")
    usable("button:has-text('Controleren')")
    assert watch.errors == []
    close_voting(ve)
    ballots = [x for x in ve.e.log() if x["type"] == "ballot"]
    assert len(ballots) == 1
    page.context.close()


# ------------------------------------------------------------------ 3. the voter's own pages


def login(page: Any, base: str, eid: str, code: str, path: str) -> None:
    page.goto(f"{base}/elections/{eid}{path}")
    page.wait_for_selector("#code")
    page.fill("#code", code)
    page.click("button[type=submit]")
    page.wait_for_selector("#code", state="detached")  # logged in: the page itself follows


def test_objection_nomination_and_consent_end_to_end(
    server: Server, chromium: Any, axe_source: str
) -> None:
    s = shape(server, {"seats": 3})
    s.roll({f"V{i}": "all" for i in range(1, 6)})
    s.to("nomination")
    me = {n: s.login(s.codes[n]) for n in ("V1", "V2", "V3", "V4")}
    page = new_page(chromium)
    watch = Watch(page)

    # My registration: an objection until the roll is frozen.
    login(page, server.base, s.id, s.codes["V1"], "/registration")
    heading(page, "Mijn inschrijving")
    assert "U mag stemmen." in page.inner_text("main")
    scan(page, axe_source)
    page.click("button:has-text('Bezwaar indienen')")  # empty: nothing is sent
    assert page.evaluate("() => document.activeElement.id") == "objection"
    assert s.ok(s.c.get(s.url("/me/registration"), headers=me["V1"]))["objections"] == []
    page.fill("#objection", "Ik ben sinds maart 2014 in dienst, niet 2015.")
    page.click("button:has-text('Bezwaar indienen')")
    page.wait_for_selector("text=Uw bezwaren")
    assert "Ik ben sinds maart 2014 in dienst, niet 2015. (in behandeling)" in page.inner_text(
        "main"
    )
    scan(page, axe_source)
    mine = s.ok(s.c.get(s.url("/me/registration"), headers=me["V1"]))["objections"]
    assert [(o["text"], o["status"]) for o in mine] == [
        ("Ik ben sinds maart 2014 in dienst, niet 2015.", "open")
    ]
    committee = s.ok(s.c.get(s.url("/roll/objections"), headers=s.chair))["items"]
    assert [o["text"] for o in committee] == ["Ik ben sinds maart 2014 in dienst, niet 2015."]
    s.ok(s.c.post(s.url("/roll/freeze"), headers=s.chair))
    page.reload()
    heading(page, "Mijn inschrijving")
    assert "De lijst van kiezers ligt vast" in page.inner_text("main")
    assert page.locator("#objection").count() == 0
    scan(page, axe_source)
    r = s.c.post(s.url("/me/objections"), json={"text": "Nog een."}, headers=me["V1"])
    assert r.status_code == 409 and r.json()["type"].endswith("/roll-frozen"), r.text

    # Nominating a colleague, and the count of nominations received.
    page.goto(f"{server.base}/elections/{s.id}/nominations")
    heading(page, "Collega's voordragen")
    main = page.inner_text("main")
    assert "Niemand heeft u (nog) voorgedragen." in main and "U hebt 0 van" in main
    scan(page, axe_source)
    page.fill("#q", "niemand-heet-zo")
    page.click("button:has-text('Zoeken')")
    page.wait_for_selector("text=Geen collega gevonden.")
    page.fill("#q", "naam v2")
    page.click("button:has-text('Zoeken')")
    page.wait_for_selector("button:has-text('Naam V2 voordragen')")
    assert page.locator("#results li").count() == 1
    scan(page, axe_source)
    page.fill("label:has-text('Waarom draagt u Naam V2') >> xpath=../textarea", "Goede collega")
    page.click("button:has-text('Naam V2 voordragen')")
    page.wait_for_selector("text=U hebt 1 van")
    scan(page, axe_source)
    v1 = s.ok(s.c.get(s.url("/me/nominations"), headers=me["V1"]))
    assert v1["made"] == 1 and [c["name"] for c in v1["nominated"]] == ["Naam V2"]
    # A second colleague nominates V2 too (through the API); V2 sees the count, not the names.
    s.ok(s.c.post(s.url("/nominations"), json={"nominee_id": s.ids["V2"]}, headers=me["V3"]), 201)
    assert s.ok(s.c.get(s.url("/me/nominations"), headers=me["V2"]))["received"] == 2
    page.context.close()
    page = new_page(chromium)
    login(page, server.base, s.id, s.codes["V2"], "/nominations?lang=en")
    heading(page, "Nominate colleagues")
    main = page.inner_text("main")
    assert "2 colleagues have nominated you." in main
    assert "Naam V1" not in main and "Naam V3" not in main
    scan(page, axe_source)
    page.context.close()

    # Consenting to and declining a candidacy.
    s.to("candidacy")
    sub = s.ok(
        s.c.post(s.url("/submitters"), json={"union": "FNV", "name": "B"}, headers=s.chair), 201
    )
    union = s.login(sub["access_code"])
    body = {"kiesgroep": "all", "name": "FNV"}
    lst = s.ok(s.c.post(s.url("/lists"), json=body, headers=union), 201)
    s.ok(
        s.c.put(
            s.url(f"/lists/{lst['id']}/candidates"),
            json={"voter_ids": [s.ids["V3"], s.ids["V4"]]},
            headers=union,
        )
    )

    def consent(number: str) -> list[Any]:
        items = s.ok(s.c.get(s.url("/me/candidacies"), headers=me[number]))["items"]
        return [c["consent"] for c in items]

    assert consent("V3") == [None] and consent("V4") == [None]
    page = new_page(chromium)
    watch = Watch(page)
    login(page, server.base, s.id, s.codes["V3"], "/candidacies")
    heading(page, "Mijn kandidatuur")
    main = page.inner_text("main")
    assert "Lijst FNV, plaats 1" in main and "U hebt nog niet gezegd of u meedoet." in main
    scan(page, axe_source)
    page.click("button:has-text('Ik doe mee op deze lijst')")
    page.wait_for_selector("main p:text-is('U doet mee.')")
    scan(page, axe_source)
    assert consent("V3") == [True]
    page.context.close()
    page = new_page(chromium)
    login(page, server.base, s.id, s.codes["V4"], "/candidacies?lang=en")
    heading(page, "My candidacy")
    assert "List FNV, position 2" in page.inner_text("main")
    page.click("button:has-text('I do not stand')")
    page.wait_for_selector("main p:text-is('You do not stand.')")
    scan(page, axe_source)
    assert consent("V4") == [False]
    assert consent("V3") == [True]
    assert watch.errors == []
    page.context.close()


# ------------------------------------------------------------------ 5. error pages


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_error_pages_a_person_can_meet(
    server: Server, chromium: Any, axe_source: str, lang: str
) -> None:
    """404 and 422 are pages the server writes (an address that is not right); 401, 429 and a
    wrong phase are met in the booth, which talks to the API and says it in words; each is
    checked for its plain words and scanned."""
    page = new_page(chromium, locale="nl-NL" if lang == "nl" else "en-GB")
    for path, status in (("/elections/nope", 404), ("/elections/bad%20id/vote", 422)):
        response = page.goto(f"{server.base}{path}")
        assert response is not None and response.status == status
        assert response.headers["content-type"].startswith("text/html")
        title, text = ERRORS[status][lang]  # type: ignore[index]
        heading(page, title)
        assert page.evaluate("() => document.documentElement.lang") == lang
        assert text in page.inner_text("main")
        assert "problem" not in page.content()
        scan(page, axe_source)
    # A wrong phase: the booth before voting opens.
    s = shape(server, {"seats": 3})
    s.roll({"V1": "all", "V2": "all"})
    s.to("nomination")
    page.goto(f"{server.base}/elections/{s.id}/vote")
    heading(page, "Stemmen" if lang == "nl" else "Vote")
    words = {"nl": "U kunt nu niet stemmen.", "en": "You cannot vote now."}[lang]
    assert words in page.inner_text("main")
    scan(page, axe_source)
    # 401 a wrong code, then 429 after too many.
    page.goto(f"{server.base}/elections/{s.id}")
    page.wait_for_selector("#code")
    wrong = {"nl": "Deze code klopt niet.", "en": "This code is not right."}[lang]
    slow = {"nl": "U hebt te vaak een verkeerde code ingevuld.", "en": "You entered a wrong code"}
    for _ in range(MAX_FAILURES):
        page.fill("#code", "AAAA-BBBB-CCCC-DDDD-EEEE")
        page.click("button[type=submit]")
        page.wait_for_selector("#login-error:not([hidden])")
        assert wrong in page.inner_text("#login-error")
        page.evaluate("() => { document.querySelector('#login-error').hidden = true; }")
    scan(page, axe_source)
    page.fill("#code", "AAAA-BBBB-CCCC-DDDD-EEEE")
    page.click("button[type=submit]")
    page.wait_for_selector(f"#login-error:has-text('{slow[lang]}')")
    assert page.get_attribute("#code", "aria-invalid") == "true"
    page.wait_for_selector("#login-error:not([hidden])")
    scan(page, axe_source)
    r = s.c.post(s.url("/login"), json={"code": s.codes["V1"]})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    page.context.close()


def test_an_outage_is_a_page_in_both_languages(
    tmp_path: Path, chromium: Any, axe_source: str
) -> None:
    """A server whose database cannot be opened: a person opening the invitation's address gets
    the 503 page with Retry-After, not a JSON problem or a stack trace."""
    with tempfile.TemporaryDirectory() as gone:
        url = f"sqlite:///{gone}/missing-dir/stembus.db"
    env = {
        "STEMBUS_DATABASE_URL": url,
        "STEMBUS_SECRET": SECRET,
        "STEMBUS_DATA_DIR": str(tmp_path),
        "STEMBUS_LOG_LEVEL": "WARNING",
    }
    srv = Server(env, tmp_path / "server.log", migrate=False)
    try:
        assert httpx.get(f"{srv.base}/readyz").status_code == 503
        for lang, locale in (("nl", "nl-NL"), ("en", "en-GB")):
            page = new_page(chromium, locale=locale)
            response = page.goto(f"{srv.base}/elections/abcdefgh")
            assert response is not None and response.status == 503
            assert int(response.headers["retry-after"]) > 0
            title, text = ERRORS[503][lang]  # type: ignore[index]
            heading(page, title)
            assert text in page.inner_text("main")
            scan(page, axe_source)
            page.context.close()
    finally:
        srv.stop()


def test_a_cast_refused_because_voting_closed_is_told_in_words(
    server: Server, chromium: Any, axe_source: str
) -> None:
    """Voting closes while the voter is on the review screen: the cast is refused (409
    voting-not-open) and the voter must be told so in Dutch, not left waiting."""
    ve = make_election(server, CONSULTATION, n_voters=2)
    code = next(iter(ve.codes.values()))
    page = new_page(chromium)
    page.goto(f"{server.base}/elections/{ve.id}/vote#code={code}")
    page.wait_for_selector("#code")
    page.click("button[type=submit]")
    heading(page, "Beantwoord de vragen")
    page.click("button:has-text('Verder')")
    heading(page, "Controleer uw keuze")
    close_voting(ve)
    with page.expect_response("**/ballots") as answer:
        page.click("button:has-text('Stem uitbrengen')")
    assert answer.value.status == 409
    try:
        page.wait_for_selector("[role=alert]", timeout=5_000)
        main = page.inner_text("main")
        assert "wordt verstuurd" not in main
        assert "Voting is not open" not in main  # the API's English title is not the words
        scan(page, axe_source)
    finally:
        page.context.close()
