"""More of the console (/console, issue 17) in a real Chromium against a real `stembus serve`:
the committee's whole path with the keyboard alone at 390 px (focus visible, never lost to
<body> after an action), and — each checked through the page and through the API, with axe-core
(WCAG 2.1 A/AA) 0 violations on each view — resolving a voter's objection, an eligibility
override (refused without a reason), a member removed by the operator, cancelling an election,
the person-system order, and invitations sent to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.api.test_invitations import Inbox, free_port
from tests.realserver import Server
from tests.web.conftest import SECRET
from tests.web.test_booth import Watch, clean, heading
from tests.web.test_console import API, login_api, operator_token

HEADER = "employee_number,name,email,kiesgroep,employment_start\n"


def op() -> dict[str, str]:
    return {"Authorization": f"Bearer {operator_token()}"}


def new_election(
    http: httpx.Client, name: str, settings: dict[str, Any] | None = None
) -> tuple[str, str]:
    """An election made by the operator through the API, and its chair's access code."""
    body: dict[str, Any] = {
        "name": name,
        "organisation": "Acme B.V.",
        "settings": {"kind": "works_council", "headcount": 240, **(settings or {})},
    }
    r = http.post(f"{API}/elections", json=body, headers=op())
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    m = http.post(
        f"{API}/elections/{eid}/members",
        json={"name": "Voorzitter", "committee": True, "trustee": False},
        headers=op(),
    )
    assert m.status_code == 201, m.text
    return eid, m.json()["access_code"]


class Keys:
    """The keyboard alone: Tab to a control, and after each action the focus is somewhere
    (never <body>), and a control reached by Tab shows its focus (an outline)."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def tab_to(self, selector: str, text: str | None = None, back: bool = False) -> None:
        """Tab (or Shift+Tab) until the focused element matches the CSS selector (and has
        exactly this text)."""
        for _ in range(200):
            self.page.keyboard.press("Shift+Tab" if back else "Tab")
            if self.page.evaluate(
                "([s, t]) => { const a = document.activeElement;"
                " return a.matches(s) && (t === null || a.textContent.trim() === t); }",
                [selector, text],
            ):
                style = self.page.evaluate(
                    "() => { const a = document.activeElement, s = getComputedStyle(a);"
                    " return [a.matches(':focus-visible'), s.outlineStyle, s.outlineWidth]; }"
                )
                assert style[0] and style[1] != "none" and style[2] != "0px", (selector, style)
                return
        raise AssertionError(f"Tab never reached {selector}")

    def focus_kept(self) -> str:
        """Where the focus is after an action: an element, not <body>."""
        where: str = self.page.evaluate(
            "() => { const a = document.activeElement;"
            " if (!a || a === document.body) return 'BODY';"
            " return a.tagName + ':' + a.textContent.slice(0, 60); }"
        )
        assert where != "BODY", "the focus was lost to <body>"
        return where


def test_the_committee_with_the_keyboard_alone_at_390_px(
    server: Server, browser: Any, axe_source: str
) -> None:
    http = httpx.Client(base_url=server.base, timeout=30)
    eid, code = new_election(http, "OR-verkiezing toetsenbord")
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    watch = Watch(page)
    page.on("dialog", lambda d: d.accept())
    keys = Keys(page)
    page.goto(f"{server.base}/console")
    heading(page, "Console voor commissie en beheerder")
    clean(page, axe_source)

    # Log in: the election's id and the chair's code, Enter submits.
    keys.tab_to("input[name=election]")
    page.keyboard.type(eid)
    keys.tab_to("input[name=code]")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    heading(page, "OR-verkiezing toetsenbord")
    assert keys.focus_kept().startswith("H1")
    clean(page, axe_source)

    def go_to(name: str, title: str) -> None:
        # The sections follow the heading: forward from it, back from further down.
        on_h1 = page.evaluate("() => document.activeElement.tagName === 'H1'")
        keys.tab_to("nav.sections a", name, back=not on_h1)
        page.keyboard.press("Enter")
        heading(page, title)
        page.wait_for_selector(f"nav.sections a[aria-current=page]:text-is({name!r})")
        assert keys.focus_kept().startswith("H1")
        clean(page, axe_source)

    # Through the sections, each with 0 violations.
    for name, title in (
        ("Commissie", "Commissie"),
        ("Kiezers en bezwaren", "Kiezers en bezwaren"),
        ("Uitnodigingen", "Uitnodigingen"),
        ("Logboek", "Logboek"),
        ("Regels", "Regels"),
    ):
        go_to(name, title)

    # A setting: the number of seats (a radio chosen with Space, a number typed), saved by Enter.
    keys.tab_to("input[type=radio][value=seats]")
    page.keyboard.press("Space")
    assert page.evaluate("() => document.activeElement.checked")
    keys.tab_to("input[type=number]:not([disabled])")  # Aantal zetels, the first
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    keys.tab_to("button", "Regels bewaren")
    page.keyboard.press("Enter")
    page.wait_for_selector("#live:has-text('De regels zijn bewaard.')", state="attached")
    keys.focus_kept()
    assert http.get(f"{API}/elections/{eid}").json()["settings"]["seats"] == 3
    clean(page, axe_source)

    # The roll: the file chosen (set_input_files), checked and applied by the keyboard.
    go_to("Kiezerslijst", "Kiezerslijst")
    good = HEADER + "".join(f"K{i},Naam K{i},,all,2015-01-01\n" for i in range(1, 5))
    page.set_input_files(
        "input[type=file]", {"name": "roll.csv", "mimeType": "text/csv", "buffer": good.encode()}
    )
    keys.tab_to("button", "Controleren")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Er is nog niets veranderd")
    keys.focus_kept()
    clean(page, axe_source)
    keys.tab_to("button", "Toepassen")
    page.keyboard.press("Space")
    page.wait_for_selector("text=De kiezerslijst is geladen.")
    keys.focus_kept()
    clean(page, axe_source)
    chair = login_api(http, eid, code)
    roll = http.get(f"{API}/elections/{eid}/roll", headers=chair).json()
    assert roll["imports"] == 1 and roll["frozen"] is False

    # A phase transition from the overview (confirmed), then the roll frozen.
    go_to("Overzicht", "OR-verkiezing toetsenbord")
    keys.tab_to("button", "Start het indienen van lijsten")
    page.keyboard.press("Enter")
    page.wait_for_selector(".election-head:has-text('Kandidatenlijsten indienen')")
    keys.focus_kept()
    clean(page, axe_source)
    assert http.get(f"{API}/elections/{eid}").json()["status"] == "candidacy"
    go_to("Kiezerslijst", "Kiezerslijst")
    keys.tab_to("button", "Kiezerslijst vastzetten")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Ja, de lijst ligt vast")
    keys.focus_kept()
    clean(page, axe_source)
    assert http.get(f"{API}/elections/{eid}/roll", headers=chair).json()["frozen"] is True

    # Log out by the keyboard: back at the start, the focus on its heading.
    keys.tab_to("button", "Uitloggen")
    page.keyboard.press("Enter")
    heading(page, "Console voor commissie en beheerder")
    keys.focus_kept()
    assert watch.errors == []
    page.close()


def load_roll(http: httpx.Client, eid: str, chair: dict[str, str], rows: str) -> dict[str, int]:
    """The roll loaded through the API; each voter's id by employee number."""
    r = http.post(
        f"{API}/elections/{eid}/roll/import",
        content=(HEADER + rows).encode(),
        headers={**chair, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    voters = http.get(f"{API}/elections/{eid}/roll/voters", headers=chair).json()["items"]
    return {v["employee_number"]: v["id"] for v in voters}


def voter_codes(http: httpx.Client, eid: str, chair: dict[str, str]) -> dict[str, str]:
    r = http.post(
        f"{API}/elections/{eid}/invitations/export",
        json={"without_code_only": True},
        headers=chair,
    )
    assert r.status_code == 200, r.text
    rows = csv.DictReader(io.StringIO(r.text))
    return {x["employee_number"]: x["access_code"] for x in rows}


def console_login(page: Any, server: Server, eid: str, code: str, title: str) -> None:
    page.goto(f"{server.base}/console")
    heading(page, "Console voor commissie en beheerder")
    page.fill("input[name=election]", eid)
    page.fill("input[name=code]", code)
    page.click("button:has-text('Inloggen') >> nth=0")
    heading(page, title)


def audit(http: httpx.Client, eid: str, chair: dict[str, str], action: str) -> list[Any]:
    r = http.get(f"{API}/elections/{eid}/audit", params={"action": action}, headers=chair)
    assert r.status_code == 200, r.text
    items: list[Any] = r.json()["items"]
    return items


def test_objection_override_person_order_and_cancelling(
    server: Server, browser: Any, axe_source: str
) -> None:
    http = httpx.Client(base_url=server.base, timeout=30)
    eid, code = new_election(
        http, "OR-verkiezing personen", {"voting_system": "person", "votes_per_voter": 2}
    )
    chair = login_api(http, eid, code)
    ids = load_roll(
        http, eid, chair, "P1,Anna Alfa,,all,2015-01-01\nP2,Bert Beta,,all,2015-01-01\n"
    )
    codes = voter_codes(http, eid, chair)
    voter = login_api(http, eid, codes["P1"])
    r = http.post(
        f"{API}/elections/{eid}/me/objections",
        json={"text": "Mijn naam is Anna Alpha, met ph."},
        headers=voter,
    )
    assert r.status_code == 201, r.text
    page = browser.new_page()
    watch = Watch(page)
    page.on("dialog", lambda d: d.accept())
    console_login(page, server, eid, code, "OR-verkiezing personen")

    # The objection: open in the console, answered there; the voter sees the answer.
    page.click("nav.sections a:text-is('Kiezers en bezwaren')")
    heading(page, "Kiezers en bezwaren")
    assert "Mijn naam is Anna Alpha, met ph." in page.inner_text("main")
    clean(page, axe_source)
    page.fill("textarea[aria-label='Antwoord aan Anna Alfa']", "Aangepast in de lijst.")
    page.click("button[aria-label='Afhandelen: Anna Alfa']")
    page.wait_for_selector("td:has-text('Aangepast in de lijst.')")
    assert page.query_selector("button[aria-label='Afhandelen: Anna Alfa']") is None
    clean(page, axe_source)
    [obj] = http.get(f"{API}/elections/{eid}/roll/objections", headers=chair).json()["items"]
    assert (obj["status"], obj["resolution"]) == ("resolved", "Aangepast in de lijst.")
    mine = http.get(f"{API}/elections/{eid}/me/registration", headers=voter).json()
    assert [o["resolution"] for o in mine["objections"]] == ["Aangepast in de lijst."]

    # An override: refused without a reason (nothing stored), kept with one.
    page.click("button[aria-label='Bekijken: Bert Beta']")
    page.wait_for_selector("#voter-title:has-text('Bert Beta')")
    page.select_option("label:text-is('Mag stemmen') ~ select", "false")
    page.click("button:has-text('Aanpassing bewaren')")
    page.wait_for_selector("[role=alert]:has-text('Vul een reden in')")
    assert page.evaluate("() => document.activeElement.tagName") == "TEXTAREA"
    clean(page, axe_source)
    url = f"{API}/elections/{eid}/roll/voters/{ids['P2']}"
    assert http.get(url, headers=chair).json()["vote_override"] is None
    refused = http.put(f"{url}/override", json={"may_vote": False, "reason": ""}, headers=chair)
    assert refused.status_code == 422
    page.fill("label:text-is('Reden') ~ textarea", "Stagiair, geen werknemer.")
    page.click("button:has-text('Aanpassing bewaren')")
    page.wait_for_selector("[role=status]:has-text('De aanpassing is bewaard.')")
    clean(page, axe_source)
    got = http.get(url, headers=chair).json()
    assert (got["vote_override"], got["may_vote"]) == (False, False)
    assert got["override_reason"] == "Stagiair, geen werknemer."

    # The person system's order: by lot, chosen in the console.
    page.click("nav.sections a:text-is('Lijsten')")
    heading(page, "Lijsten")
    clean(page, axe_source)
    page.select_option("label:text-is('Volgorde van de kandidaten') ~ select", "lot")
    page.click("button:has-text('Volgorde bewaren')")
    page.wait_for_selector("[role=status]:has-text('De volgorde is bewaard')")
    clean(page, axe_source)
    assert [x["details"] for x in audit(http, eid, chair, "person_order_set")] == [{"order": "lot"}]
    r = http.put(f"{API}/elections/{eid}/lists/person-order", json={"order": "lot"}, headers=chair)
    assert r.status_code == 200 and r.json()["order"] == "lot"

    # Cancelling: refused without a reason, then cancelled with one.
    page.click("nav.sections a:text-is('Overzicht')")
    heading(page, "OR-verkiezing personen")
    page.click("summary:has-text('Verkiezing annuleren')")
    clean(page, axe_source)
    page.click("details button:text-is('Annuleren')")
    page.wait_for_selector("[role=alert]:has-text('Vul een reden in')")
    assert http.get(f"{API}/elections/{eid}").json()["status"] == "draft"
    page.fill("label:text-is('Reden van annuleren') ~ textarea", "De OR-verkiezing is uitgesteld.")
    page.click("details button:text-is('Annuleren')")
    page.wait_for_selector(".election-head:has-text('Geannuleerd')")
    clean(page, axe_source)
    assert http.get(f"{API}/elections/{eid}").json()["status"] == "cancelled"
    # Every code stops working; the operator reads the audit trail.
    assert http.post(f"{API}/elections/{eid}/login", json={"code": code}).status_code == 401
    [entry] = audit(http, eid, op(), "election_cancelled")
    assert entry["reason"] == "De OR-verkiezing is uitgesteld."
    assert watch.errors == []
    page.close()


def test_a_member_removed_by_the_operator(server: Server, browser: Any, axe_source: str) -> None:
    http = httpx.Client(base_url=server.base, timeout=30)
    eid, code = new_election(http, "OR-verkiezing leden")
    m = http.post(
        f"{API}/elections/{eid}/members",
        json={"name": "Tweede lid", "committee": True, "trustee": False},
        headers=op(),
    )
    assert m.status_code == 201, m.text
    second = login_api(http, eid, m.json()["access_code"])
    assert http.get(f"{API}/elections/{eid}/roll", headers=second).status_code == 200
    page = browser.new_page()
    watch = Watch(page)
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{server.base}/console")
    heading(page, "Console voor commissie en beheerder")
    page.fill("textarea", operator_token())
    page.click("button:has-text('Inloggen als beheerder')")
    heading(page, "Alle verkiezingen")
    page.click("a:text-is('OR-verkiezing leden')")
    heading(page, "OR-verkiezing leden")
    page.wait_for_selector("td:text-is('Tweede lid')")
    clean(page, axe_source)
    page.click("button[aria-label='Verwijderen: Tweede lid']")
    page.wait_for_selector("td:text-is('Voorzitter')")
    page.wait_for_selector("td:text-is('Tweede lid')", state="detached")
    clean(page, axe_source)
    names = [
        x["name"] for x in http.get(f"{API}/elections/{eid}/members", headers=op()).json()["items"]
    ]
    assert names == ["Voorzitter"]
    assert http.get(f"{API}/elections/{eid}/roll", headers=second).status_code == 401
    again = http.post(f"{API}/elections/{eid}/login", json={"code": m.json()["access_code"]})
    assert again.status_code == 401
    assert [x["subject"] for x in audit(http, eid, login_api(http, eid, code), "member_removed")]
    assert watch.errors == []
    page.close()


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) that refuses the addresses in its `refuse` set."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def mail_server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, smtp: tuple[Inbox, int]
) -> Iterator[Server]:
    """A second `stembus serve` on the same database whose mail worker sends to `smtp`."""
    data = tmp_path_factory.mktemp("web-mail-data")
    env = {
        "STEMBUS_DATABASE_URL": database_url,
        "STEMBUS_SECRET": SECRET,
        "STEMBUS_DATA_DIR": str(data),
        "STEMBUS_LOG_LEVEL": "WARNING",
        "STEMBUS_SMTP_HOST": "127.0.0.1",
        "STEMBUS_SMTP_PORT": str(smtp[1]),
        "STEMBUS_SMTP_SECURITY": "none",
        "STEMBUS_SMTP_SENDER": "verkiezingen@acme.example",
        "STEMBUS_MAIL_POLL_SECONDS": "0.2",
        "STEMBUS_MAIL_RETRY_BASE_SECONDS": "0.2",
    }
    srv = Server(env, data / "server.log", migrate=False)
    try:
        yield srv
    finally:
        srv.stop()


def statuses(page: Any, want: dict[str, str]) -> dict[str, str]:
    """The status column per employee number, refreshed by the button until it is `want`."""
    got: dict[str, str] = {}
    for _ in range(60):
        page.click("button:text-is('Vernieuwen')")
        page.wait_for_selector("h2:text-is('Stand per kiezer'):focus")
        rows = page.query_selector_all("table:has(caption:text-is('Stand per kiezer')) tbody tr")
        got = {
            r.query_selector("td:nth-child(1)").inner_text(): r.query_selector(
                "td:nth-child(4)"
            ).inner_text()
            for r in rows
        }
        if got == want:
            return got
        page.wait_for_timeout(300)
    raise AssertionError(got)


def test_invitations_sent_by_smtp_and_the_failed_one_resent(
    mail_server: Server, smtp: tuple[Inbox, int], browser: Any, axe_source: str
) -> None:
    inbox, _ = smtp
    http = httpx.Client(base_url=mail_server.base, timeout=30)
    eid, code = new_election(http, "OR-verkiezing post")
    chair = login_api(http, eid, code)
    load_roll(
        http,
        eid,
        chair,
        "M1,Mila Een,mila@acme.example,all,2015-01-01\n"
        "M2,Mo Twee,mo@acme.example,all,2015-01-01\n"
        "M3,Max Drie,weg@acme.example,all,2015-01-01\n",
    )
    inbox.refuse.add("weg@acme.example")
    page = browser.new_page()
    watch = Watch(page)
    page.on("dialog", lambda d: d.accept())
    console_login(page, mail_server, eid, code, "OR-verkiezing post")
    page.click("nav.sections a:text-is('Uitnodigingen')")
    heading(page, "Uitnodigingen")
    clean(page, axe_source)
    page.click("button:text-is('Versturen')")
    page.wait_for_selector("[role=status]:has-text('3 uitnodigingen staan klaar')")
    sent = {"M1": "verstuurd", "M2": "verstuurd", "M3": "mislukt"}
    assert statuses(page, sent) == sent
    row = page.inner_text("tr:has(td:text-is('M3'))")
    assert "550 5.1.1 <<recipient>>: no such user" in row and "weg@acme.example" in row
    clean(page, axe_source)
    st = http.get(f"{API}/elections/{eid}/invitations/status", headers=chair).json()
    assert st["counts"] == {"queued": 0, "sent": 2, "failed": 1}
    by = {x["employee_number"]: x for x in st["items"]}
    assert by["M3"]["reason"] == "550 5.1.1 <<recipient>>: no such user"
    assert sorted(to[0] for to, _ in inbox.messages) == ["mila@acme.example", "mo@acme.example"]

    # The server accepts the address now: resent from its row, and sent.
    inbox.refuse.clear()
    page.click("button[aria-label='Opnieuw: Max Drie']")
    page.wait_for_selector("[role=status]:has-text('1 uitnodigingen staan klaar')")
    done = {"M1": "verstuurd", "M2": "verstuurd", "M3": "verstuurd"}
    assert statuses(page, done) == done
    clean(page, axe_source)
    st = http.get(f"{API}/elections/{eid}/invitations/status", headers=chair).json()
    assert st["counts"] == {"queued": 0, "sent": 3, "failed": 0}
    assert "weg@acme.example" in [to[0] for to, _ in inbox.messages]
    assert [x["details"]["queued"] for x in audit(http, eid, chair, "invitations_resent")] == [1]
    assert watch.errors == []
    page.close()
