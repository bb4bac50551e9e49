"""A works council election in the browser (issue 16): the list system in two kiesgroepen (a
voter of the second votes for one candidate, blank is a choice of its own), and the person
system from login to the result — the voter's registration and candidacy pages, a vote for
several candidates with the over-vote impossible, then after the close and the tally the
receipt check and the results page; axe-core at every step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from api.auth.tokens import issue_token
from api.settings import Settings
from cli.ceremony import make_ceremony, read_share, submit_share, upload_public_key
from tests.conftest import bearer
from tests.realserver import Server
from tests.test_e2e_shapes import Shape
from tests.web.conftest import SECRET
from tests.web.measure import contrast, low
from tests.web.test_booth import Watch, clean, heading


def at_least_7_to_1(page: Any) -> None:
    """Every text of the ballot as drawn now (kiesgroep, lists, candidates, counts, buttons)
    at 7:1 or more against its background (issue 16: WCAG AAA for the ballot)."""
    measured = contrast(page)
    assert len(measured) > 5 and low(measured) == []


def shape(server: Server, settings: dict[str, Any]) -> Shape:
    token, _ = issue_token(
        Settings(secret=SECRET),
        subject="operator",
        roles={"operator"},
        election_id=None,
        minutes=30,
    )
    return Shape(httpx.Client(base_url=server.base, timeout=30), bearer(token), settings)


def open_voting(s: Shape, tmp_path: Path) -> list[Path]:
    public, files = make_ceremony(s.id, 2, 3, tmp_path / "shares")
    upload_public_key(s.c, "", s.id, s.chair["Authorization"][7:], public, 2, 3)
    s.to("voting")
    return sorted(p for p in files if p.suffix == ".json")


def tally(s: Shape, shares: list[Path]) -> None:
    s.to("closed")
    for member, share in ((0, shares[0]), (2, shares[2])):
        token = s.login(s.member_codes[member])["Authorization"][7:]
        st = submit_share(s.c, "", s.id, token, read_share(share))
    assert st["status"] == "tallied", st


def login(page: Any, base: str, s: Shape, number: str, path: str = "") -> None:
    page.goto(f"{base}/elections/{s.id}{path}")
    page.wait_for_selector("#code")
    page.fill("#code", s.codes[number])
    page.click("button[type=submit]")


def test_the_list_system_in_the_second_kiesgroep(
    server: Server, browser: Any, axe_source: str, tmp_path: Path
) -> None:
    groups = [
        {"id": "werkplaats", "name": "Werkplaats", "seats": 3},
        {"id": "staf", "name": "Staf", "seats": 1},
    ]
    s = shape(server, {"kiesgroepen": groups})
    s.roll({"W1": "werkplaats", "W2": "werkplaats", "S1": "staf", "S2": "staf", "S3": "staf"})
    s.publish(
        [("werkplaats", "FNV", ["W1", "W2"]), ("staf", "FNV", ["S1"]), ("staf", "CNV", ["S2"])]
    )
    open_voting(s, tmp_path)
    page = browser.new_page()
    watch = Watch(page)
    login(page, server.base, s, "S3", "/vote")
    heading(page, "Kies één kandidaat")
    main = page.inner_text("main")
    assert "Kiesgroep Staf" in main and "Lijst 1: FNV" in main and "Lijst 2: CNV" in main
    assert "Naam W1" not in main  # only the voter's own kiesgroep
    clean(page, axe_source)
    at_least_7_to_1(page)
    # Blank is checked until the voter picks someone; one radio group across all lists.
    assert page.is_checked("input[value='']")
    page.check("label:has-text('Naam S1')")
    page.check("label:has-text('Naam S2')")
    assert not page.is_checked("label:has-text('Naam S1')")
    page.click("button:has-text('Verder')")
    heading(page, "Controleer uw keuze")
    assert "Naam S2 (CNV)" in page.inner_text("main")
    clean(page, axe_source)
    at_least_7_to_1(page)
    page.click("button:has-text('Keuze wijzigen')")
    heading(page, "Kies één kandidaat")
    page.check("label:has-text('Ik kies niemand')")
    page.click("button:has-text('Verder')")
    heading(page, "Controleer uw keuze")
    assert "u stemt blanco" in page.inner_text("main")
    page.click("button:has-text('Keuze wijzigen')")
    page.check("label:has-text('Naam S2')")
    page.click("button:has-text('Verder')")
    page.click("button:has-text('Stem uitbrengen')")
    heading(page, "Uw stem is uitgebracht")
    clean(page, axe_source)
    assert watch.errors == []
    page.close()


def test_the_person_system_from_login_to_the_result(
    server: Server, browser: Any, axe_source: str, tmp_path: Path
) -> None:
    s = shape(server, {"seats": 3, "voting_system": "person", "votes_per_voter": 2})
    s.roll({f"V{i}": "all" for i in range(1, 7)})
    s.publish([("all", "FNV", ["V1", "V2"]), ("all", "CNV", ["V3", "V4"])])
    shares = open_voting(s, tmp_path)
    page = browser.new_page()
    watch = Watch(page)
    # The landing page, login, and the voter's own pages.
    login(page, server.base, s, "V1")
    page.wait_for_selector("a:has-text('Mijn inschrijving')")
    clean(page, axe_source)
    page.click("a:has-text('Mijn inschrijving')")
    heading(page, "Mijn inschrijving")
    main = page.inner_text("main")
    assert "U mag stemmen." in main and "Uw schuilnaam" in main
    assert "De lijst van kiezers ligt vast" in main  # frozen: no objection any more
    clean(page, axe_source)
    page.goto(f"{server.base}/elections/{s.id}/candidacies")
    heading(page, "Mijn kandidatuur")
    assert "Lijst FNV, plaats 1" in page.inner_text("main")
    assert "U doet mee." in page.inner_text("main")
    clean(page, axe_source)
    page.goto(f"{server.base}/elections/{s.id}/nominations")
    heading(page, "Collega's voordragen")
    assert "Voordragen kan nu niet." in page.inner_text("main")
    clean(page, axe_source)
    # The booth: at most 2 of 4 candidates.
    page.goto(f"{server.base}/elections/{s.id}/vote")
    heading(page, "Kies maximaal 2 kandidaten")
    clean(page, axe_source)
    page.check("label:has-text('Naam V1')")
    page.click("button:has-text('Verder')")
    heading(page, "Controleer uw keuze")
    assert "1 van de 2 stemmen gebruikt" in page.inner_text("main")  # incomplete, named
    page.click("button:has-text('Keuze wijzigen')")
    page.check("label:has-text('Naam V3')")
    assert page.is_disabled("label:has-text('Naam V2') >> xpath=../input")
    clean(page, axe_source)
    at_least_7_to_1(page)  # the disabled candidates' labels too
    page.click("button:has-text('Verder')")
    page.click("button:has-text('Stem uitbrengen')")
    heading(page, "Uw stem is uitgebracht")
    promise = page.inner_text("#promise")
    assert watch.errors == []
    # After the close and the tally: the receipt check and the results page.
    tally(s, shares)
    page.goto(f"{server.base}/elections/{s.id}/receipt")
    page.fill("#proof-text", promise)
    page.click("button:has-text('Controleren')")
    page.wait_for_selector("#check-result .note")
    assert "In orde" in page.inner_text("#check-result")
    page.goto(f"{server.base}/elections/{s.id}")
    heading(page, s.ok(s.c.get(s.url()))["name"])
    assert "De uitslag is bekend" in page.inner_text("main")
    page.click("a:has-text('De uitslag')")
    page.wait_for_selector("h1:has-text('Uitslag van de verkiezing')")
    assert "Naam V1" in page.inner_text("main")
    page.close()
