"""The committee's and operator's console (/console, issue 17) in a real Chromium against a real
`stembus serve`: a whole election run from the console — the operator creates it and appoints
the committee and trustees, the committee sets the rules, loads the roll (dry run first), exports
the codes, accepts a union's list, freezes the roll, publishes, prepares the vote (the offline
ceremony), opens voting; three voters vote through the voter's pages; the committee closes, two
trustees hand in their shares on the trustee page, and the console shows the result and
downloads the proces-verbaal
— with axe-core (WCAG 2.1 A/AA) on every console view; and the operator's path with the
keyboard alone at 390 px."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
from pypdf import PdfReader

from api.auth.tokens import issue_token
from api.settings import Settings
from cli.ceremony import make_ceremony, upload_public_key
from tests.realserver import Server
from tests.web.conftest import SECRET
from tests.web.test_booth import Watch, clean, heading

API = "/api/v1"


def operator_token() -> str:
    token, _ = issue_token(
        Settings(secret=SECRET),
        subject="operator",
        roles={"operator"},
        election_id=None,
        minutes=30,
    )
    return token


def login_api(http: httpx.Client, eid: str, code: str) -> dict[str, str]:
    r = http.post(f"{API}/elections/{eid}/login", json={"code": code})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def section(page: Any, eid: str, name: str, title: str) -> None:
    page.click(f"nav.sections a:has-text({name!r})")
    heading(page, title)
    page.wait_for_selector(f"nav.sections a[aria-current=page]:has-text({name!r})")
    assert f"#/e/{eid}/" in page.url


def new_code(page: Any) -> str:
    page.wait_for_selector("code.big-code")
    code: str = page.inner_text("code.big-code")
    return code


def test_the_console_is_served_with_the_strict_headers(server: Server) -> None:
    r = httpx.get(f"{server.base}/console", headers={"Accept-Language": "en"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert r.headers["referrer-policy"] == "no-referrer"
    assert '<html lang="en">' in r.text and "/assets/console.js" in r.text
    assert "<script>" not in r.text and "style=" not in r.text
    for name in ("console.js", "console.css"):
        a = httpx.get(f"{server.base}/assets/{name}")
        assert a.status_code == 200 and a.headers["content-security-policy"] == csp
    assert httpx.get(f"{server.base}/assets/nothing.js").status_code == 404


def test_a_whole_election_run_from_the_console(
    server: Server, browser: Any, axe_source: str, tmp_path: Path
) -> None:
    http = httpx.Client(base_url=server.base, timeout=30)
    page = browser.new_page()
    watch = Watch(page)
    page.on("dialog", lambda d: d.accept())  # the console confirms each step it cannot undo

    # The operator: log in with the token, create the election, appoint its members.
    page.goto(f"{server.base}/console")
    heading(page, "Console voor commissie en beheerder")
    clean(page, axe_source)
    page.fill("textarea", operator_token())
    page.click("button:has-text('Inloggen als beheerder')")
    heading(page, "Alle verkiezingen")
    clean(page, axe_source)
    page.fill("#create-title ~ .field input >> nth=0", "OR-verkiezing 2027")
    page.fill("#create-title ~ .field input >> nth=1", "Acme B.V.")
    page.fill("#create-title ~ .field input >> nth=2", "240")
    page.click("button:has-text('Verkiezing aanmaken')")
    heading(page, "OR-verkiezing 2027")
    eid = page.url.rsplit("/", 1)[-1]
    codes: list[str] = []
    for name, committee in (
        ("Voorzitter", True),
        ("Sleutelhouder 2", False),
        ("Sleutelhouder 3", False),
    ):
        page.wait_for_selector("#appoint-title")
        page.fill("#appoint-title ~ .field input >> nth=0", name)
        if not committee:
            page.uncheck("label:has-text('Lid van de verkiezingscommissie') >> xpath=../input")
        page.check("label:has-text('Sleutelhouder') >> nth=0 >> xpath=../input")
        page.click("button:has-text('Benoemen')")
        page.wait_for_selector(f"td:has-text({name!r})")
        codes.append(new_code(page))
        assert "maar één keer" in page.inner_text(".note.warn")
    clean(page, axe_source)
    members = http.get(
        f"{API}/elections/{eid}/members",
        headers={"Authorization": f"Bearer {operator_token()}"},
    ).json()["items"]
    assert [(m["name"], m["committee"], m["trustee"]) for m in members] == [
        ("Voorzitter", True, True),
        ("Sleutelhouder 2", False, True),
        ("Sleutelhouder 3", False, True),
    ]

    # The committee logs in with the election's id and the chair's code.
    page.click("a:has-text('Terug naar alle verkiezingen')")
    page.goto(f"{server.base}/console")
    heading(page, "Console voor commissie en beheerder")
    page.fill("input[name=election]", eid)
    page.fill("input[name=code]", codes[0])
    page.click("button:has-text('Inloggen') >> nth=0")
    heading(page, "OR-verkiezing 2027")
    assert "In voorbereiding" in page.inner_text(".election-head")
    clean(page, axe_source)

    # Settings: one seat (two candidates, so a vote is held).
    section(page, eid, "Regels", "Regels")
    clean(page, axe_source)
    page.check("label:has-text('Ik weet het aantal zetels') >> xpath=../input")
    page.fill("label:has-text('Aantal zetels') >> xpath=following-sibling::input", "1")
    page.click("button:has-text('Regels bewaren')")
    page.wait_for_selector("#live:has-text('De regels zijn bewaard.')", state="attached")
    assert http.get(f"{API}/elections/{eid}").json()["settings"]["seats"] == 1

    # The roll: a bad file shows every row error; a good one its diff first, then applied.
    section(page, eid, "Kiezerslijst", "Kiezerslijst")
    header = "employee_number,name,email,kiesgroep,employment_start\n"
    bad = header + "V1,Naam V1,,all,2015-01-01\nV2,,,all,morgen\n"
    page.set_input_files(
        "input[type=file]", {"name": "roll.csv", "mimeType": "text/csv", "buffer": bad.encode()}
    )
    page.click("button:has-text('Controleren')")
    page.wait_for_selector("[role=alert] table")
    assert "niets geladen" in page.inner_text("[role=alert]")
    clean(page, axe_source)
    good = header + "".join(f"V{i},Naam V{i},,all,2015-01-01\n" for i in range(1, 6))
    page.set_input_files(
        "input[type=file]", {"name": "roll.csv", "mimeType": "text/csv", "buffer": good.encode()}
    )
    page.click("button:has-text('Controleren')")
    page.wait_for_selector("text=Er is nog niets veranderd")
    assert (
        http.get(f"{API}/elections/{eid}/roll", headers=login_api(http, eid, codes[0])).json()[
            "imports"
        ]
        == 0
    )
    clean(page, axe_source)
    page.click("button:has-text('Toepassen')")
    page.wait_for_selector("text=De kiezerslijst is geladen.")

    # The voters' codes, by the mail-merge export (its warning must be ticked first).
    section(page, eid, "Uitnodigingen", "Uitnodigingen")
    page.click("button:has-text('Voorbeeld bekijken')")
    page.wait_for_selector("pre.proof")
    clean(page, axe_source)
    page.click("button:has-text('Codes maken en downloaden')")
    page.wait_for_selector("[role=alert]:has-text('Vink eerst aan')")
    page.check("label:has-text('Ik begrijp') >> xpath=../input")
    with page.expect_download() as dl:
        page.click("button:has-text('Codes maken en downloaden')")
    export = Path(dl.value.path()).read_text()
    voter_codes = {
        r["employee_number"]: r["access_code"] for r in csv.DictReader(io.StringIO(export))
    }
    assert sorted(voter_codes) == ["V1", "V2", "V3", "V4", "V5"]

    section(page, eid, "Kiezers en bezwaren", "Kiezers en bezwaren")
    clean(page, axe_source)
    page.click("button[aria-label='Bekijken: Naam V5']")
    heading_v5 = page.wait_for_selector("#voter-title")
    assert heading_v5 is not None and "Naam V5" in heading_v5.inner_text()
    clean(page, axe_source)

    section(page, eid, "Overzicht", "OR-verkiezing 2027")
    page.click("button:has-text('Start het indienen van lijsten')")
    page.wait_for_selector(".election-head:has-text('Kandidatenlijsten indienen')")

    # A union account from the console; the union submits its list through the API.
    section(page, eid, "Lijsten", "Lijsten")
    page.fill("#sub-new ~ .field input >> nth=0", "FNV")
    page.fill("#sub-new ~ .field input >> nth=1", "Bestuurder")
    page.click("button:has-text('Indiener aanmaken')")
    union = login_api(http, eid, new_code(page))
    chair = login_api(http, eid, codes[0])
    ids = {
        v["employee_number"]: v["id"]
        for v in http.get(f"{API}/elections/{eid}/roll/voters", headers=chair).json()["items"]
    }
    lst = http.post(
        f"{API}/elections/{eid}/lists", json={"kiesgroep": "all", "name": "FNV"}, headers=union
    ).json()
    got = http.put(
        f"{API}/elections/{eid}/lists/{lst['id']}/candidates",
        json={"voter_ids": [ids["V1"], ids["V2"]]},
        headers=union,
    ).json()
    for number, cand in zip(("V1", "V2"), got["candidates"], strict=True):
        r = http.put(
            f"{API}/elections/{eid}/me/candidacies/{cand['id']}/consent",
            json={"consent": True},
            headers=login_api(http, eid, voter_codes[number]),
        )
        assert r.status_code == 200, r.text
    assert http.post(f"{API}/elections/{eid}/lists/{lst['id']}/submit", headers=union).is_success
    section(page, eid, "Overzicht", "OR-verkiezing 2027")
    section(page, eid, "Lijsten", "Lijsten")
    assert "ingediend" in page.inner_text("section.list")
    clean(page, axe_source)
    page.click("button[aria-label='Goedkeuren: FNV']")
    page.wait_for_selector("section.list:has-text('goedgekeurd')")

    section(page, eid, "Kiezerslijst", "Kiezerslijst")
    page.click("button:has-text('Kiezerslijst vastzetten')")
    page.wait_for_selector("text=Ja, de lijst ligt vast")
    section(page, eid, "Lijsten", "Lijsten")
    page.click("button:has-text('Maak de lijsten bekend')")
    page.wait_for_selector(".election-head:has-text('Lijsten bekendgemaakt')")

    # Preparing the vote: the console says what to run; the ceremony runs offline.
    section(page, eid, "Stemmen", "Stemmen")
    assert "De sleutels zijn er nog niet." in page.inner_text("main")
    assert f"stembus ceremony --election {eid}" in page.inner_text("pre.proof")
    clean(page, axe_source)
    public, files = make_ceremony(eid, 2, 3, tmp_path / "shares")
    upload_public_key(http, "", eid, chair["Authorization"][7:], public, 2, 3)
    section(page, eid, "Overzicht", "OR-verkiezing 2027")
    section(page, eid, "Stemmen", "Stemmen")
    assert "Om te tellen zijn 2 van de 3 delen nodig." in page.inner_text("main")
    page.click("button:has-text('Open het stemmen')")
    page.wait_for_selector(".election-head:has-text('Stemmen is open')")
    page.wait_for_selector("#turnout-title")
    clean(page, axe_source)

    # Three voters vote through the voter's pages.
    for number, choice in (("V3", "Naam V1"), ("V4", "Naam V2"), ("V5", "Naam V1")):
        voter = browser.new_page()
        voter.goto(f"{server.base}/elections/{eid}/vote")
        voter.wait_for_selector("#code")
        voter.fill("#code", voter_codes[number])
        voter.click("button[type=submit]")
        heading(voter, "Kies één kandidaat")
        voter.check(f"label:has-text({choice!r})")
        voter.click("button:has-text('Verder')")
        voter.click("button:has-text('Stem uitbrengen')")
        heading(voter, "Uw stem is uitgebracht")
        voter.close()

    # Counts only (voters, keys obtained, voted), refreshed by the button (and every 15 s).
    rows = ""
    for _ in range(20):
        page.click("button:has-text('Vernieuwen')")
        page.wait_for_timeout(300)
        rows = page.inner_text("#refreshing table")
        if "all\t5\t3\t3\t60 %" in rows:
            break
    assert "all\t5\t3\t3\t60 %" in rows, rows
    page.click("button:has-text('Sluit het stemmen')")
    page.wait_for_selector(".election-head:has-text('Stemmen is gesloten')")

    # The trustees hand in their shares through the trustee page, as the console points them.
    section(page, eid, "Telling en uitslag", "Telling en uitslag")
    href = page.get_attribute("a:has-text('Pagina voor sleutelhouders')", "href")
    assert href == f"/elections/{eid}/trustee"
    jsons = sorted(p for p in files if p.suffix == ".json")
    for member, share, done in (
        (0, jsons[0], "main > .note.ok:has-text('Er is nog 1 sleuteldeel nodig')"),
        (2, jsons[2], "main > .note.ok:has-text('het laatste dat nodig was')"),
    ):
        trustee = browser.new_page()
        trustee.goto(f"{server.base}{href}")
        heading(trustee, "Sleuteldeel inleveren")
        trustee.fill("#code", codes[member])
        trustee.click("button:has-text('Inloggen')")
        trustee.wait_for_selector("#share-file")
        trustee.set_input_files("#share-file", str(share))
        trustee.click("button:has-text('Sleuteldeel versturen')")
        trustee.wait_for_selector(done)
        trustee.close()
    assert http.get(f"{API}/elections/{eid}/tally").json()["status"] == "tallied"

    # The result in the console, and the proces-verbaal downloaded.
    section(page, eid, "Overzicht", "OR-verkiezing 2027")
    section(page, eid, "Telling en uitslag", "Telling en uitslag")
    main = page.inner_text("main")
    assert "Uitslag bekend" in main and "2 (nodig: 2 van 3)" in main
    clean(page, axe_source)
    with page.expect_download() as dl:
        page.click("button:has-text('Proces-verbaal (PDF)')")
    pdf = Path(dl.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Naam V1" in text and "FNV" in text
    with page.expect_download() as dl:
        page.click("button:has-text('Verkiezingsdossier')")
    assert Path(dl.value.path()).read_bytes() == http.get(f"{API}/elections/{eid}/record").content

    # The audit trail: the committee's decisions of this run, in words, newest first.
    section(page, eid, "Logboek", "Logboek")
    audit = http.get(f"{API}/elections/{eid}/audit", headers=chair)
    assert audit.status_code == 200 and audit.json()["total"] > 0
    shown = page.inner_text("main")
    for words in ("Lijst goedgekeurd", "Kiezerslijst geladen", "Fase gewijzigd"):
        assert words in shown
    clean(page, axe_source)

    # Log out: the browser forgets the token.
    page.click("button:has-text('Uitloggen')")
    heading(page, "Console voor commissie en beheerder")
    assert (
        page.evaluate(
            "() => Object.keys(sessionStorage).filter(k => k.startsWith('stembus-console:member'))"
        )
        == []
    )
    assert watch.errors == []
    page.close()


def test_the_operator_with_the_keyboard_alone_at_390_px(
    server: Server, browser: Any, axe_source: str
) -> None:
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    watch = Watch(page)
    page.goto(f"{server.base}/console")
    heading(page, "Console voor commissie en beheerder")
    clean(page, axe_source)
    # Tab to the token field and type it; Enter submits.
    page.focus("textarea")
    page.keyboard.type(operator_token())
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    heading(page, "Alle verkiezingen")
    clean(page, axe_source)

    def tab_to(selector: str) -> None:
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate(f"() => document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#create-title ~ .field input")
    page.keyboard.type("OR-verkiezing Delft")
    page.keyboard.press("Tab")
    page.keyboard.type("Acme B.V.")
    page.keyboard.press("Tab")
    page.keyboard.type("240")
    page.keyboard.press("Enter")
    heading(page, "OR-verkiezing Delft")
    clean(page, axe_source)
    tab_to("#appoint-title ~ .field input")
    page.keyboard.type("Voorzitter")
    page.keyboard.press("Enter")
    page.wait_for_selector("code.big-code")
    clean(page, axe_source)
    assert watch.errors == []
    page.close()


def test_every_console_text_is_in_both_languages(tmp_path: Path) -> None:
    """Each key the console's script names (t("…") and the phase, audit, list and mail families)
    has a Dutch and an English text, and the two catalogues hold the same keys."""
    import json
    import re
    import shutil
    import subprocess

    from tests.realserver import ROOT
    from tests.web.conftest import missing

    if shutil.which("node") is None:
        missing("node is not installed: the console's catalogue cannot be read")
    src = ROOT / "web" / "src" / "console"
    out = subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            f"import {{ TEXTS }} from {json.dumps((src / 'texts.js').as_uri())};"
            "console.log(JSON.stringify({nl: Object.keys(TEXTS.nl), en: Object.keys(TEXTS.en)}))",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    keys = json.loads(out.stdout)
    assert set(keys["nl"]) == set(keys["en"])
    code = (src / "main.js").read_text() + (src / "dom.js").read_text()
    used = set(re.findall(r'\bt\("([a-z0-9_]+)"', code))
    assert len(used) > 300 and used - set(keys["nl"]) == set()
    for phase in ("draft", "nomination", "candidacy", "lists_published", "voting", "closed"):
        assert {f"phase_{phase}", f"phase_{phase}_what", f"open_close_{phase}"} <= set(keys["nl"])
    # Every action the audit trail can record has its words in the console.
    from api.audit.service import Action

    assert {f"audit_{a.value}" for a in Action} - set(keys["nl"]) == set()
