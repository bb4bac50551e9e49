"""The trustee's page (issue 17 item 3) in Chromium against a real `stembus serve`: an election
with three trustees, k = 2, prepared by `stembus ceremony` over HTTP, voted in through the API;
before the close a trustee checks their file and is told to come back; after the close a voter's
code is refused, a share of another election and a mistyped printed share are caught in the
browser (nothing sent), a lost answer is resent safely, a second hand-in of the same share and
a share another trustee already handed in are each named, then the second trustee — keyboard
alone, at 390 px, pasting the printed text — completes the tally and the page links to the
result; a trustee who sends after the tally is told so. axe-core at every state."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from cli.ceremony import make_ceremony
from cli.client import StembusClient
from cli.main import app as cli_app
from tests.realserver import ROOT, Server
from tests.web.test_booth import Watch, clean, heading, tab_to
from tests.web.test_works_council import shape

TITLE = "Sleuteldeel inleveren"


def login(page: Any, base: str, election: str, code: str) -> None:
    page.goto(f"{base}/elections/{election}/trustee")
    heading(page, TITLE)
    page.fill("#code", code)
    page.click("button:has-text('Inloggen')")


def check_result(page: Any) -> str:
    page.wait_for_selector("#share-check .note")
    return str(page.inner_text("#share-check"))


def outcome(page: Any) -> str:
    page.wait_for_selector("#hand-in-result .note")
    return str(page.inner_text("#hand-in-result"))


def received(s: Any) -> list[int]:
    return list(s.ok(s.c.get(s.url("/tally")))["indices"])


def test_three_trustees_two_needed_through_the_page(
    server: Server, browser: Any, axe_source: str, tmp_path: Path
) -> None:
    s = shape(server, {"seats": 1})
    s.roll({f"V{i}": "all" for i in range(1, 6)})
    s.publish([("all", "FNV", ["V1", "V2"])])
    shares = tmp_path / "shares"
    r = CliRunner().invoke(
        cli_app,
        [
            "ceremony",
            "--election",
            s.id,
            "-k",
            "2",
            "-n",
            "3",
            "--out",
            str(shares),
            "--url",
            server.base,
            "--token",
            s.chair["Authorization"][7:],
        ],
    )
    assert r.exit_code == 0, r.output
    json_share = {i: shares / f"trustee-{i}-of-3.json" for i in (1, 2, 3)}
    printed = {i: shares / f"trustee-{i}-of-3.txt" for i in (1, 2, 3)}
    s.to("voting")

    # Before the close: when the trustee is needed; the file is checked, the hand-in refused.
    page = browser.new_page()
    watch = Watch(page)
    page.goto(f"{server.base}/elections/{s.id}/trustee")
    heading(page, TITLE)
    main = page.inner_text("main")
    assert "Wat is een sleuteldeel?" in main and "Eén deel alleen verraadt niets" in main
    assert "in 3 delen geknipt" in main and "Als 2 van de 3 delen zijn ingeleverd" in main
    assert "blijft op uw eigen computer" in main
    assert "U bent nodig als het stemmen gesloten is" in main
    clean(page, axe_source)
    page.fill("#code", s.member_codes[1])
    page.click("button:has-text('Inloggen')")
    page.wait_for_selector("#share-file")
    assert "Inleveren kan pas als het stemmen gesloten is" in page.inner_text("main")
    clean(page, axe_source)
    page.set_input_files("#share-file", str(json_share[2]))
    assert "deel 2 van 3 van deze verkiezing (2 delen nodig)" in check_result(page)
    assert "Er is nog niets verstuurd" in check_result(page)
    page.click("button:has-text('Sleuteldeel versturen')")
    assert "Het stemmen is nog niet gesloten" in outcome(page)
    assert "Uw deel is niet opgeslagen" in outcome(page)
    clean(page, axe_source)
    assert received(s) == []
    page.close()

    sdk = StembusClient(server.base)
    for voter, choice in (("V1", "V1"), ("V2", "V1"), ("V3", "V2"), ("V4", "V1")):
        sdk.vote(s.id, s.codes[voter], [s.cand[choice]])
    s.to("closed")

    # The landing page leads trustees to their page once voting has closed; a voter's code is
    # not a trustee's.
    page = browser.new_page()
    watch = Watch(page)
    page.goto(f"{server.base}/elections/{s.id}")
    page.click("a:has-text('Voor sleutelhouders: sleuteldeel inleveren')")
    heading(page, TITLE)
    page.fill("#code", s.codes["V5"])
    page.click("button:has-text('Inloggen')")
    page.wait_for_selector("[role=alert]:has-text('niet van een sleutelhouder')")
    clean(page, axe_source)
    page.click("button:has-text('Uitloggen en met een andere code inloggen')")
    page.wait_for_selector("#code")
    assert watch.errors == []
    page.close()

    # Trustee 1: a wrong file, a typo, a lost answer, the share, the same share again.
    page = browser.new_page()
    watch = Watch(page)
    login(page, server.base, s.id, s.member_codes[0])
    page.wait_for_selector("#share-file")
    main = page.inner_text("main")
    assert "0 van de 2 nodige sleuteldelen zijn ingeleverd" in main
    assert "Er zijn nog 2 sleuteldelen nodig" in main
    clean(page, axe_source)
    _, other = make_ceremony("een-andere-verkiezing", 2, 3, tmp_path / "other")
    page.set_input_files("#share-file", str(other[0]))
    assert "hoort bij een andere verkiezing (een-andere-verkiezing)" in check_result(page)
    page.click("button:has-text('Sleuteldeel versturen')")
    assert page.get_attribute("#share-text", "aria-invalid") == "true"
    assert page.evaluate("() => document.activeElement.id") == "share-text"
    clean(page, axe_source)
    # Another ceremony of this very election: the sealing key in the file is not the published.
    _, again = make_ceremony(s.id, 2, 3, tmp_path / "again")
    page.set_input_files("#share-file", str(again[0]))
    assert "hoort bij een andere sleutel" in check_result(page)
    typo = tmp_path / "typo.txt"
    text = printed[1].read_text()
    cut = len(text) - 10  # a hex digit of the checksum, on the sheet's last line
    assert text[cut] in "0123456789abcdef"
    typo.write_text(text[:cut] + ("0" if text[cut] != "0" else "1") + text[cut + 1 :])
    page.set_input_files("#share-file", str(typo))
    assert "Het controlegetal klopt niet" in check_result(page)
    page.fill("#share-text", "dit is geen sleuteldeel")
    page.click("button:has-text('Sleuteldeel versturen')")
    assert "Hier staat geen sleuteldeel van Stembus in" in check_result(page)
    assert received(s) == []  # nothing of the above was sent

    # The answer to the first real hand-in is lost after the server stored the share.
    lost: list[int] = []

    def lose(route: Any) -> None:
        lost.append(route.fetch().status)
        route.abort()

    page.route("**/tally/shares", lose)
    page.set_input_files("#share-file", str(json_share[1]))
    assert "deel 1 van 3" in check_result(page)
    page.click("button:has-text('Sleuteldeel versturen')")
    assert "Het antwoord van de dienst kwam niet aan" in outcome(page)
    assert lost == [200] and received(s) == [1]
    clean(page, axe_source)
    page.unroute("**/tally/shares")
    page.click("button:has-text('Sleuteldeel versturen')")  # the same share again: safe
    page.wait_for_selector("main > .note.ok")
    main = page.inner_text("main")
    assert "Uw sleuteldeel 1 is ontvangen" in main
    assert "1 van de 2 nodige sleuteldelen zijn ingeleverd" in main
    assert "Er is nog 1 sleuteldeel nodig" in main and "Ingeleverde delen: 1." in main
    clean(page, axe_source)
    page.set_input_files("#share-file", str(json_share[1]))
    page.click("button:has-text('Sleuteldeel versturen')")
    page.wait_for_selector("main > .note.ok:has-text('al ingeleverd')")
    assert "U had sleuteldeel 1 al ingeleverd" in page.inner_text("main")
    assert received(s) == [1]
    assert watch.errors == []
    page.close()

    # Trustee 3 opens the page now, and will send after the tally.
    late = browser.new_page()
    login(late, server.base, s.id, s.member_codes[2])
    late.wait_for_selector("#share-file")

    # Trustee 2, keyboard alone at 390 px: share 1 (not theirs) is refused, share 2 tallies.
    page = browser.new_page()
    watch = Watch(page)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{server.base}/elections/{s.id}/trustee")
    heading(page, TITLE)
    tab_to(page, "el.id === 'code'")
    page.keyboard.type(s.member_codes[1])
    page.keyboard.press("Enter")
    page.wait_for_selector("#share-file")
    clean(page, axe_source)
    tab_to(page, "el.id === 'share-file'")
    tab_to(page, "el.id === 'share-text'")
    page.keyboard.insert_text(json.loads(json_share[1].read_text())["share"])
    tab_to(page, "el.textContent === 'Sleuteldeel versturen'")
    page.keyboard.press("Enter")
    page.wait_for_selector("#hand-in-result [role=alert]")
    assert "Sleuteldeel 1 is al ingeleverd door een andere sleutelhouder" in outcome(page)
    assert page.evaluate("() => document.activeElement.closest('#hand-in-result') !== null")
    clean(page, axe_source)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")  # back to the text box, past the send button
    assert page.evaluate("() => document.activeElement.id") == "share-text"
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(printed[2].read_text())  # the whole printed sheet, pasted
    tab_to(page, "el.textContent === 'Sleuteldeel versturen'")
    page.keyboard.press("Enter")
    page.wait_for_selector("main > .note.ok:has-text('het laatste dat nodig was')")
    clean(page, axe_source)
    assert s.ok(s.c.get(s.url()))["status"] == "tallied"
    tab_to(page, "el.textContent === 'Naar de uitslag'")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Uitslag van de verkiezing')")
    assert "Naam V1" in page.inner_text("main")
    assert watch.errors == []
    page.close()

    # Trustee 3's page was open from before the tally: the send says it is no longer needed.
    late.set_input_files("#share-file", str(json_share[3]))
    late.click("button:has-text('Sleuteldeel versturen')")
    assert "De stemmen zijn al geteld" in outcome(late)
    clean(late, axe_source)
    late.click("#hand-in-result a:has-text('Naar de uitslag')")
    late.wait_for_selector("h1:has-text('Uitslag van de verkiezing')")
    # And opened afresh (in English), the page says the votes are counted, no login.
    late.goto(f"{server.base}/elections/{s.id}/trustee?lang=en")
    heading(late, "Hand in your key share")
    main = late.inner_text("main")
    assert "The votes are counted" in main and "See the result" in main
    assert late.query_selector("#code") is None
    clean(late, axe_source)
    late.close()
    assert received(s) == [1, 2]


def test_the_catalogue_has_every_trustee_text_in_both_languages() -> None:
    """Every key the page uses (t("tr_…"), t("share_…"), the problems of share.js) is in nl and
    en, and both catalogues hold the same keys."""
    script = (
        "import { TEXTS } from './web/src/texts.js';"
        "import { readFileSync } from 'node:fs';"
        "const src = ['app.js', 'share.js']"
        ".map((f) => readFileSync(`web/src/${f}`, 'utf8')).join('');"
        "const used = [...new Set([...src.matchAll(/[\"'`]((?:tr|share)_[a-z_0-9]+)[\"'`]/g)]"
        ".map((m) => m[1]))];"
        "console.log(JSON.stringify({nl: Object.keys(TEXTS.nl), en: Object.keys(TEXTS.en), used}));"
    )
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    got = json.loads(out.stdout)
    assert sorted(got["nl"]) == sorted(got["en"])
    assert len(got["used"]) > 40
    assert sorted(set(got["used"]) - set(got["nl"])) == []
