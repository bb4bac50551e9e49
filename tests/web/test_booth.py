"""The voting booth in a real Chromium against a real `stembus serve` (issue 16): invitation
link → login → credential → ballot → review → cast → promise, a reload mid-way, a re-vote, a
second kiesgroep voted with the keyboard alone at 390 px, and after the close the receipt check
and the results page — with an axe-core scan (WCAG 2.1 A/AA, 0 violations) of every step, and
what the browser sent checked: the cast carries no token and no cookie, and the sealed ballot
opens to what the voter chose."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.auth.tokens import issue_token
from api.settings import Settings
from crypto import sealing
from crypto.canonical import b64d
from tests.api.test_voting_support import (
    CONSULTATION,
    TWO_GROUPS,
    VotingElection,
    close_voting,
    roll_csv_groups,
    voting_election,
)
from tests.conftest import ElectionFixture, bearer
from tests.realserver import Server
from tests.web.conftest import SECRET, axe


def make_election(server: Server, settings: dict[str, Any], **kw: Any) -> VotingElection:
    token, _ = issue_token(
        Settings(secret=SECRET),
        subject="operator",
        roles={"operator"},
        election_id=None,
        minutes=30,
    )
    http = httpx.Client(base_url=server.base, timeout=30)
    return voting_election(
        None,
        lambda body: ElectionFixture(http, bearer(token), body),  # type: ignore[arg-type]
        settings=settings,
        **kw,
    )


class Watch:
    """What a page does that a test must see: console errors (a CSP violation is one), and the
    headers of every ballot cast."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.casts: list[dict[str, str]] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", self._request)

    def _console(self, m: Any) -> None:
        # A refused request (the wrong code's 401) is logged as a failed resource: expected.
        # Anything else — a CSP violation, an exception — is an error of the page.
        if m.type == "error" and not m.text.startswith("Failed to load resource"):
            self.errors.append(m.text)

    def _request(self, r: Any) -> None:
        if r.method == "POST" and r.url.endswith("/ballots"):
            self.casts.append(r.all_headers())


def heading(page: Any, text: str) -> None:
    page.wait_for_selector(f"h1:has-text('{text}')", timeout=30_000)


def clean(page: Any, axe_source: str) -> None:
    assert axe(page, axe_source) == []
    width = page.evaluate("() => document.documentElement.scrollWidth")
    view = page.evaluate("() => window.innerWidth")
    assert width <= view, f"horizontal scroll: {width} > {view}"


def last_ballot(ve: VotingElection) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    ballots = [x for x in ve.e.log() if x["type"] == "ballot"]
    return ballots, ballots[-1]


def opened(ve: VotingElection, entry: dict[str, Any]) -> dict[str, Any]:
    padded = sealing.open_ballot(
        ve.sealing_private, b64d(entry["ciphertext"]), ve.id, entry["group"], ballot_size=None
    )
    return sealing.decode_ballot(padded)  # type: ignore[no-any-return]


def test_a_consultation_in_the_booth_with_a_reload_and_a_revote(
    server: Server, browser: Any, axe_source: str
) -> None:
    ve = make_election(server, CONSULTATION, n_voters=3)
    code = next(iter(ve.codes.values()))
    page = browser.new_page()
    watch = Watch(page)
    # The invitation's address; the code typed as the mail gives it.
    page.goto(f"{server.base}/elections/{ve.id}")
    heading(page, ve.e.data["name"])
    assert page.evaluate("() => document.documentElement.lang") == "nl"
    assert "Stemmen is open" in page.inner_text("main")
    clean(page, axe_source)
    page.fill("#code", "AAAA-BBBB-CCCC-DDDD-EEEE")
    page.click("button:has-text('Inloggen')")
    page.wait_for_selector("#login-error:not([hidden])")
    assert "klopt niet" in page.inner_text("#login-error")
    clean(page, axe_source)
    page.fill("#code", code)
    page.click("button:has-text('Inloggen')")
    page.click("a:has-text('Stemmen')")
    # The credential is settled before the ballot shows.
    heading(page, "Beantwoord de vragen")
    assert "Uw stemsleutel is klaar" in page.inner_text("main")
    clean(page, axe_source)
    page.check("label:has-text('Ja')")
    page.check("label:has-text('Fietsplan')")
    page.check("label:has-text('Sportschool')")
    # An over-vote cannot be made: the third box is disabled, and the count says why.
    assert page.is_disabled("input[value='kinderopvang']")
    assert "het maximum" in page.inner_text("#q1-count")
    clean(page, axe_source)
    page.click("button:has-text('Verder')")
    heading(page, "Controleer uw keuze")
    review = page.inner_text("main")
    assert "Ja" in review and "Fietsplan, Sportschool" in review
    clean(page, axe_source)
    # A reload mid-way: the same credential (no second issuance), the choices kept.
    page.reload()
    heading(page, "Beantwoord de vragen")
    assert page.is_checked("input[value='yes']") and page.is_checked("input[value='sport']")
    page.click("button:has-text('Verder')")
    heading(page, "Controleer uw keuze")
    page.click("button:has-text('Stem uitbrengen')")
    heading(page, "Uw stem is uitgebracht")
    promise = page.inner_text("#promise")
    assert promise.startswith("stembus/ballot-promise/v1\n")
    assert "kunnen het u niet opnieuw laten zien" in page.inner_text("main")
    assert page.is_visible("a[download]:has-text('Bewijs van ontvangst downloaden')")
    clean(page, axe_source)
    # A re-vote, explained on the same page.
    assert "Alleen uw laatste stem telt" in page.inner_text("main")
    page.click("button:has-text('Opnieuw stemmen')")
    heading(page, "Beantwoord de vragen")
    page.check("label:has-text('Nee')")
    page.uncheck("label:has-text('Fietsplan')")
    page.uncheck("label:has-text('Sportschool')")
    page.click("button:has-text('Verder')")
    heading(page, "Controleer uw keuze")
    assert "niet alle vragen beantwoord" in page.inner_text("main")
    page.click("button:has-text('Stem uitbrengen')")
    heading(page, "Uw stem is uitgebracht")
    second = page.inner_text("#promise")
    assert second != promise
    # The casts sent no token and no cookie.
    assert len(watch.casts) == 2
    for headers in watch.casts:
        assert "authorization" not in headers and "cookie" not in headers
    assert watch.errors == []
    # After the close: both ballots in the log, the last opens to the voter's last choice; the
    # receipt check finds the promise's ballot, and the results page is linked.
    close_voting(ve)
    ballots, last = last_ballot(ve)
    mine = [b for b in ballots if b["credential"] == last["credential"]]
    assert sorted(b["seq"] for b in mine) == [1, 2]
    final = max(mine, key=lambda b: b["seq"])
    assert opened(ve, final)["selections"] == {"q1": ["no"]}
    page.goto(f"{server.base}/elections/{ve.id}/receipt")
    heading(page, "Ontvangstbewijs controleren")
    clean(page, axe_source)
    page.fill("#proof-text", promise)
    page.click("button:has-text('Controleren')")
    page.wait_for_selector("#check-result .note")
    assert "In orde" in page.inner_text("#check-result")
    clean(page, axe_source)
    page.fill(
        "#proof-text", promise.replace("stembus/ballot-promise/v1", "stembus/ballot-promise/v2")
    )
    page.click("button:has-text('Controleren')")
    page.wait_for_selector("#check-result .note.bad")
    page.goto(f"{server.base}/elections/{ve.id}")
    heading(page, ve.e.data["name"])
    href = page.get_attribute("a:has-text('De uitslag')", "href")
    assert href == f"/api/v1/elections/{ve.id}/results/page?lang=nl"
    page.close()


def tab_to(page: Any, test: str, limit: int = 40) -> None:
    """Press Tab until the focused element passes `test` (a JS expression on `el`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!({test}); }}"):
            return
    raise AssertionError(f"Tab never reached {test}")


def test_a_second_kiesgroep_with_the_keyboard_alone_at_390_px_in_english(
    server: Server, browser: Any, axe_source: str
) -> None:
    ve = make_election(
        server, TWO_GROUPS, n_voters=4, roll=roll_csv_groups({"productie": 2, "kantoor": 2})
    )
    code = ve.codes["V00003"]  # kantoor, the second kiesgroep
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    watch = Watch(page)
    page.goto(f"{server.base}/elections/{ve.id}/vote#code={code}", wait_until="load")
    page.wait_for_selector("#code")
    # The switch is a link (no cookie): ?lang=en
    page.click("a[hreflang='en']")
    page.wait_for_selector("html[lang='en'] #code")
    clean(page, axe_source)
    tab_to(page, "el.id === 'code'")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    heading(page, "Answer the questions")
    assert "Kiesgroep Kantoor" in page.inner_text("main")
    clean(page, axe_source)
    tab_to(page, "el.type === 'radio'")  # the first question's first answer: Yes
    page.keyboard.press("Space")
    tab_to(page, "el.type === 'checkbox' && el.value === 'fiets'")
    page.keyboard.press("Space")
    tab_to(page, "el.type === 'checkbox' && el.value === 'kinderopvang'")
    page.keyboard.press("Space")
    clean(page, axe_source)
    tab_to(page, "el.type === 'submit'")
    page.keyboard.press("Enter")
    heading(page, "Check your choice")
    clean(page, axe_source)
    tab_to(page, "el.textContent === 'Cast my vote'")
    page.keyboard.press("Enter")
    heading(page, "Your vote is cast")
    assert "encrypt" not in page.inner_text("main").lower()
    clean(page, axe_source)
    assert watch.errors == []
    close_voting(ve)
    _, last = last_ballot(ve)
    assert last["group"] == "kantoor"
    assert opened(ve, last)["selections"] == {"q1": ["yes"], "q2": ["fiets", "kinderopvang"]}
    page.close()


@pytest.mark.parametrize("path", ["/", "/elections/nope", "/elections/x/nothing-here"])
def test_every_page_a_person_can_meet_passes_axe(
    server: Server, browser: Any, axe_source: str, path: str
) -> None:
    page = browser.new_page()
    watch = Watch(page)
    response = page.goto(f"{server.base}{path}")
    assert response is not None
    assert response.headers["content-type"].startswith("text/html")
    page.wait_for_selector("h1")
    clean(page, axe_source)
    assert watch.errors == []
    page.close()


def test_the_scan_finds_what_it_must(server: Server, browser: Any, axe_source: str) -> None:
    """The axe scan is not vacuous: a field whose label is removed is reported."""
    page = browser.new_page()
    page.goto(f"{server.base}/")
    page.wait_for_selector("#election")
    page.evaluate("() => document.querySelector('label[for=election]').remove()")
    assert "label" in {v["id"] for v in axe(page, axe_source)}
    page.close()
