"""The proces-verbaal (GET .../results/proces-verbaal, `stembus proces-verbaal`): a PDF whose
text, read back with pypdf, holds every figure of the published result."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.test_e2e_shapes import Shape


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture()
def tallied(client, operator_headers, tmp_path: Path) -> Shape:  # type: ignore[no-untyped-def]
    s = Shape(
        client,
        operator_headers,
        {
            "kiesgroepen": [
                {"id": "p", "name": "Productie", "seats": 3},
                {"id": "m", "name": "Management", "seats": 1},
            ],
        },
    )
    s.roll({**{f"P{i}": "p" for i in range(1, 9)}, "M1": "m", "M2": "m"})
    s.publish([("p", "FNV", ["P1", "P2", "P3"]), ("p", "CNV", ["P4", "P5"]), ("m", "VHP", ["M1"])])
    votes = {"P1": ["P1"], "P2": ["P1"], "P3": ["P2"], "P4": ["P4"], "P5": ["P4"], "P6": ["P1"]}
    s.vote_and_tally({**votes, "P7": [], "P8": ["P5"]}, tmp_path)
    return s


def test_before_the_tally_and_who_may_read_it(client, operator_headers) -> None:  # type: ignore[no-untyped-def]
    s = Shape(client, operator_headers, {"seats": 1})
    r = client.get(s.url("/results/proces-verbaal"), headers=s.chair)
    assert r.status_code == 409 and r.json()["type"] == "/problems/not-tallied"
    r = client.get(s.url("/results/proces-verbaal"))
    assert r.status_code == 401 and r.json()["type"] == "/problems/unauthenticated"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_pdf_holds_every_figure_of_the_result(tallied: Shape, lang: str) -> None:
    s = tallied
    r = s.c.get(s.url("/results/proces-verbaal"), params={"lang": lang}, headers=s.chair)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = pdf_text(r.content)
    flat = " ".join(text.split())
    body = s.c.get(s.url("/results")).json()
    res, names = body["result"], body["names"]
    title = "Proces-verbaal van de uitslag" if lang == "nl" else "Official record of the result"
    assert title in flat and "OR-verkiezing 2027" in flat and "Acme B.V." in flat
    created = "Verkiezing aangemaakt op" if lang == "nl" else "Election created on"
    determined = "Uitslag vastgesteld op" if lang == "nl" else "Result determined on"
    assert created in flat and determined in flat
    # Roll counts, credentials, ballots, blank and invalid per kiesgroep, in one table row.
    p = next(g for g in res["groups"] if g["group"] == "p")
    t = next(x for x in res["turnout"] if x["group"] == "p")
    b = p["ballots"]
    row = f"Productie 3 8 8 8 {t['issued']} {t['voted']} {b['valid']} {b['blank']} {b['invalid']}"
    assert row in flat, flat
    assert f"{res['ballots']['entries']}" in flat
    # Votes and seats per list, with full seats, remainder and residual seats.
    quota = p["apportionment"]["quota"]["display"]
    assert f"= {b['valid']} / 3 = {quota}" in flat
    for lst in p["lists"]:
        a = next(x for x in p["apportionment"]["lists"] if x["list"] == lst["list"])
        residual = sum(1 for st in p["apportionment"]["steps"] if st["chosen"] == lst["list"])
        assert (
            f"{names['lists'][lst['list']]} {lst['votes']} {a['full_seats']} "
            f"{a['remainder']['display']} {residual} {lst['seats']}"
        ) in flat, flat
    # Every candidate with votes and outcome; elected and successors.
    word = {"nl": ("gekozen", "opvolger"), "en": ("elected", "successor")}[lang]
    for g in res["groups"]:
        votes = {c["candidate"]: c["votes"] for c in g["candidates"]}
        for lst in g["lists"]:
            for c in lst["elected"]:
                v = votes[c] if g["vote_held"] else "-"
                assert (
                    f"{names['candidates'][c]} {names['lists'][lst['list']]} {v} {word[0]}" in flat
                )
            for i, c in enumerate(lst["successors"], start=1):
                shown = f"{names['candidates'][c]} {names['lists'][lst['list']]} {votes[c]}"
                assert f"{shown} {word[1]} {i}" in flat
    # The steps in the words of the rules core, the group without a vote, the lot's seed.
    for st in p["apportionment"]["steps"]:
        assert str(st["number"]) + ". " in flat
    assert ("zonder stemming gekozen" if lang == "nl" else "elected without a vote") in flat
    assert res["lot_checkpoint"]["root"] in flat.replace(" ", "")
    # The committee with signature lines, and the final checkpoint.
    # (Shape's chair is the one committee member; the other two are trustees only.)
    signing = flat[flat.index("Handtekening:" if lang == "nl" else "Signature:") - 40 :]
    assert "Voorzitter" in signing and "Sleutelhouder" not in signing
    assert flat.count("Handtekening:" if lang == "nl" else "Signature:") == 1
    final = _final_checkpoint(s)
    assert f"{final[0]}" in flat and f"Root: {final[1]}" in flat


def _final_checkpoint(s: Shape) -> tuple[int, str]:
    cp = s.c.get(s.url("/log/checkpoint")).json()
    return cp["size"], cp["root"]


def test_stembus_proces_verbaal(tallied: Shape, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import contextlib

    from typer.testing import CliRunner

    import cli.ceremony as ceremony
    from cli.main import app

    s = tallied
    monkeypatch.setattr(ceremony, "http_client", lambda timeout: contextlib.nullcontext(s.c))
    out = tmp_path / "pv.pdf"
    args = ["proces-verbaal", "--election", s.id, "--url", "http://testserver", "-o", str(out)]
    r = CliRunner().invoke(app, [*args, "--lang", "en", "--code", s.member_codes[0]])
    assert r.exit_code == 0, r.output
    assert "Official record of the result" in pdf_text(out.read_bytes())
    # A trustee who is not on the committee: the service refuses, one line, exit 3.
    r = CliRunner().invoke(app, [*args, "--code", s.member_codes[1]])
    assert r.exit_code == 3, r.output
    assert "/problems/forbidden" in r.output and "what to do:" in r.output


def test_after_the_tally_only_committee_codes_still_log_in(tallied: Shape) -> None:
    s = tallied
    assert s.login(s.member_codes[0])["Authorization"].startswith("Bearer ")
    r = s.c.post(s.url("/login"), json={"code": s.codes["P1"]})
    assert r.status_code == 401 and r.json()["type"] == "/problems/invalid-access-code"


def test_the_proces_verbaal_of_an_uncontested_election_and_of_a_consultation(
    client, operator_headers, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    s = Shape(client, operator_headers, {"seats": 3})
    s.roll({"A1": "all", "A2": "all"})
    s.publish([("all", "FNV", ["A1", "A2"])])
    s.to("tallied")
    r = client.get(s.url("/results/proces-verbaal"), headers=s.chair)
    flat = " ".join(pdf_text(r.content).split())
    assert "Naam A1 FNV - gekozen" in flat and "Er was geen loting nodig" in flat
    assert "2 kandidaten voor 3 zetels" in flat and "1 zetel blijft vacant" in flat

    q = [{"id": "q1", "text": "Akkoord?", "rule": "yes_no_abstain"}]
    groups = [{"id": "a", "name": "Productie"}, {"id": "b", "name": "Kantoor"}]
    # Two ballots per group: shown per group with the minimum lowered to 2 (docs/rules.md
    # "Small groups"; a group below it is merged: tests/test_consultation_kinds.py).
    settings = {"kind": "consultation", "questions": q, "kiesgroepen": groups, "min_group_size": 2}
    c = Shape(client, operator_headers, settings)
    c.roll({"A1": "a", "A2": "a", "B1": "b", "B2": "b"})
    c.publish([])
    votes = {
        "A1": {"q1": ["yes"]},
        "A2": {"q1": ["no"]},
        "B1": {"q1": ["yes"]},
        "B2": {"q1": ["yes"]},
    }
    c.vote_and_tally(votes, tmp_path)
    r = client.get(c.url("/results/proces-verbaal"), params={"lang": "en"}, headers=c.chair)
    flat = " ".join(pdf_text(r.content).split())
    assert "Question: Akkoord?" in flat
    # Option | total | Productie | Kantoor
    assert "Ja 3 (75.00%) 1 (50.00%) 2 (100.00%)" in flat, flat
