"""The proces-verbaal: the official record of the result that the committee prints, signs and
keeps (Dutch works council practice, within the hour of counting), as a PDF, in Dutch or English.

It holds the election and organisation, the dates, the kiesgroepen with the roll counts of the
``roll_frozen`` entry, credentials issued, ballots, blank and invalid, the votes per list and per
candidate, the seat allocation with every step (rules.explain: the sentences of the results page)
and lot draw, elected candidates and successors, the committee members with signature lines, and
the final checkpoint (size and root hash) that ties the paper to the public record.

fpdf2 (pure Python, installs with pip) with the PDF core font Helvetica: that font covers
Latin-1, so any other character (a name with "ş", a dash) is written by its nearest Latin-1 form
(:func:`latin1`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from api.tally.page import Names, date_text, period_text
from rules.explain import (
    Lang,
    candidate_reason,
    excluded_text,
    group_note_texts,
    lot_seed_text,
    method_text,
    no_vote_text,
    preference_text,
    seats_word,
    step_text,
)

_REPLACE = {
    "–": "-",
    "—": "-",
    "‐": "-",
    "…": "...",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "€": "EUR",
    "≥": ">=",
    "≤": "<=",
    "→": "->",
    "\u00ad": "",
}


def latin1(text: str) -> str:
    """``text`` in Latin-1 (the core font's range): known signs mapped, others by their base
    letter (NFKD without accents), else "?"."""
    out = []
    for ch in str(text):
        if ch in _REPLACE:
            out.append(_REPLACE[ch])
        elif ord(ch) < 256:
            out.append(ch)
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
            )
            out.append(base if base and all(ord(c) < 256 for c in base) else "?")
    return "".join(out)


@dataclass
class Record:
    """What the proces-verbaal shows, gathered by api.tally.service.proces_verbaal_data."""

    election_id: str
    name: str
    organisation: str
    result: dict[str, Any]
    names: dict[str, Any]
    roll_counts: dict[str, Any]
    committee: list[str]
    checkpoint_size: int
    checkpoint_root: str
    record_url: str
    determined_at: datetime | None = None
    created_at: datetime | None = None
    voting: tuple[datetime | None, datetime | None] = (None, None)
    result_index: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


W: dict[str, dict[Lang, str]] = {
    "title": {"nl": "Proces-verbaal van de uitslag", "en": "Official record of the result"},
    "sub": {
        "nl": "verkiezing van de ondernemingsraad",
        "en": "(proces-verbaal) of the works council election",
    },
    "sub_c": {"nl": "raadpleging", "en": "(proces-verbaal) of the consultation"},
    "election": {"nl": "Verkiezing", "en": "Election"},
    "organisation": {"nl": "Organisatie", "en": "Organisation"},
    "id": {"nl": "Kenmerk (verkiezings-id)", "en": "Election id"},
    "period": {"nl": "Stemperiode", "en": "Voting period"},
    "created": {"nl": "Verkiezing aangemaakt op", "en": "Election created on"},
    "determined": {"nl": "Uitslag vastgesteld op", "en": "Result determined on"},
    "groups": {"nl": "Kiesgroepen en opkomst", "en": "Kiesgroepen (constituencies) and turnout"},
    "group": {"nl": "Kiesgroep", "en": "Kiesgroep"},
    "seats": {"nl": "Zetels", "en": "Seats"},
    "on_roll": {"nl": "Op de lijst", "en": "On the roll"},
    "may_vote": {"nl": "Kiesgerechtigd", "en": "May vote"},
    "may_stand": {"nl": "Verkiesbaar", "en": "May stand"},
    "issued": {"nl": "Stembewijzen", "en": "Credentials"},
    "voted": {"nl": "Gestemd", "en": "Voted"},
    "valid": {"nl": "Geldig", "en": "Valid"},
    "blank": {"nl": "Blanco", "en": "Blank"},
    "invalid": {"nl": "Ongeldig", "en": "Invalid"},
    "ballots": {"nl": "Stembiljetten in het logboek", "en": "Ballots in the log"},
    "list": {"nl": "Lijst", "en": "List"},
    "votes": {"nl": "Stemmen", "en": "Votes"},
    "full": {"nl": "Volle zetels", "en": "Full seats"},
    "remainder": {"nl": "Overschot", "en": "Remainder"},
    "residual": {"nl": "Restzetels", "en": "Residual seats"},
    "candidate": {"nl": "Kandidaat", "en": "Candidate"},
    "outcome": {"nl": "Uitkomst", "en": "Outcome"},
    "elected": {"nl": "gekozen", "en": "elected"},
    "successor": {"nl": "opvolger", "en": "successor"},
    "vacant": {"nl": "Vacante zetels", "en": "Vacant seats"},
    "steps": {"nl": "Verdeling van de restzetels", "en": "Allocation of the residual seats"},
    "lot": {"nl": "Loting", "en": "Lot"},
    "checkpoint": {"nl": "Openbaar logboek", "en": "Public log"},
    "committee": {
        "nl": "Verkiezingscommissie: ondertekening",
        "en": "Election committee: signatures",
    },
    "signature": {"nl": "Handtekening", "en": "Signature"},
    "date": {"nl": "Datum", "en": "Date"},
    "question": {"nl": "Vraag", "en": "Question"},
    "option": {"nl": "Antwoord", "en": "Answer"},
    "count": {"nl": "Aantal", "en": "Count"},
    "share": {"nl": "Aandeel", "en": "Share"},
    "total": {"nl": "Totaal", "en": "Total"},
    "other": {"nl": "Overige groepen", "en": "Other groups"},
    "mean": {"nl": "Gemiddelde", "en": "Mean"},
    "median": {"nl": "Mediaan", "en": "Median"},
    "rank": {"nl": "plaats", "en": "rank"},
}


class _PDF(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(0, 5, latin1(f"{self.footer_text} - {self.page_no()}/{{nb}}"), align="C")


def render_pdf(rec: Record, lang: Lang = "nl") -> bytes:
    """The proces-verbaal of a tallied election as PDF bytes."""
    res = rec.result
    nm = Names(rec.names)
    pdf = _PDF(format="A4")
    pdf.footer_text = f"{W['title'][lang]}: {rec.name} ({rec.election_id})"
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_margins(16, 16, 16)
    pdf.set_title(latin1(f"{W['title'][lang]} {rec.name}"))
    pdf.set_lang(lang)
    pdf.add_page()

    def h1(text: str) -> None:
        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(0, 8, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def h2(text: str) -> None:
        if pdf.get_y() > pdf.h - 50:
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 6.5, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def h3(text: str) -> None:
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(0, 5.5, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def para(text: str, size: float = 9.5) -> None:
        pdf.set_font("Helvetica", size=size)
        pdf.multi_cell(0, 4.8, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(0.8)

    def table(
        head: list[str], rows: list[list[Any]], widths: tuple[int, ...] | None = None
    ) -> None:
        pdf.set_font("Helvetica", size=8.5)
        with pdf.table(
            col_widths=widths,
            text_align=["LEFT"] + ["RIGHT"] * (len(head) - 1),
            line_height=4.6,
            first_row_as_headings=True,
        ) as t:
            row = t.row()
            for h in head:
                row.cell(latin1(h))
            for r in rows:
                row = t.row()
                for v in r:
                    row.cell(latin1(str(v)))
        pdf.ln(1.5)

    consultation = res.get("kind") == "consultation"
    h1(W["title"][lang])
    para(W["sub_c" if consultation else "sub"][lang], 10)
    pdf.ln(1)
    facts = [
        (W["election"][lang], rec.name),
        (W["organisation"][lang], rec.organisation),
        (W["id"][lang], rec.election_id),
    ]
    if rec.created_at:
        facts.append((W["created"][lang], date_text(rec.created_at, lang)))
    period = period_text(rec.voting[0], rec.voting[1], lang)
    if period:
        facts.append((W["period"][lang], period))
    if rec.determined_at:
        facts.append((W["determined"][lang], date_text(rec.determined_at, lang)))
    for k, v in facts:
        pdf.set_font("Helvetica", "B", 9.5)
        pdf.cell(55, 5, latin1(k + ":"))
        pdf.set_font("Helvetica", size=9.5)
        pdf.multi_cell(0, 5, latin1(v), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Kiesgroepen, roll counts, credentials and ballots.
    h2(W["groups"][lang])
    turnout = {t["group"]: t for t in res.get("turnout", [])}
    groups = {g["group"]: g for g in res.get("groups", [])}
    cgroups = {g["group"]: g for g in (res.get("consultation") or {}).get("groups", [])}
    rows = []
    for gid, t in turnout.items():
        counts = rec.roll_counts.get(gid) or {}
        g = groups.get(gid) or cgroups.get(gid) or {}
        b = g.get("ballots") or {}
        blank = b.get("blank", "-") if gid in groups else "-"
        rows.append(
            [
                nm.group(gid),
                g.get("seats", "-") if gid in groups else "-",
                counts.get("voters", "-"),
                t.get("eligible") if t.get("eligible") is not None else "-",
                counts.get("may_stand", "-"),
                t.get("issued", 0),
                t.get("voted", 0),
                b.get("valid", "-"),
                blank,
                b.get("invalid", "-"),
            ]
        )
    table(
        [
            W[k][lang]
            for k in (
                "group",
                "seats",
                "on_roll",
                "may_vote",
                "may_stand",
                "issued",
                "voted",
                "valid",
                "blank",
                "invalid",
            )
        ],
        rows,
        (24, 12, 16, 23, 21, 23, 16, 14, 14, 15),
    )
    bl = res.get("ballots") or {}
    if lang == "en":
        para(
            f"{W['ballots'][lang]}: {bl.get('entries', 0)}, from {bl.get('credentials', 0)} "
            f"credentials; {bl.get('superseded', 0)} replaced by a later ballot (re-votes). "
            "Only each credential's last ballot counts."
        )
    else:
        para(
            f"{W['ballots'][lang]}: {bl.get('entries', 0)}, van {bl.get('credentials', 0)} "
            f"stembewijzen; {bl.get('superseded', 0)} vervangen door een later stembiljet "
            "(opnieuw gestemd). Alleen het laatste stembiljet van elk stembewijs telt."
        )

    for g in res.get("groups", []):
        _group(pdf, g, nm, lang, h2, h3, para, table)
    if consultation and res.get("consultation"):
        _consultation(res["consultation"], nm, lang, h2, h3, para, table)

    draws = (res.get("lot") or {}).get("draws") or []
    h2(W["lot"][lang])
    if not draws and res.get("lot_checkpoint"):
        para(
            "No lot was needed: no tie had to be broken."
            if lang == "en"
            else "Er was geen loting nodig: geen gelijke stand hoefde te worden beslist."
        )
    para(lot_seed_text(res.get("lot_checkpoint"), lang))
    for d in draws:
        opts = ", ".join(nm.any(x) for x in d["options"])
        chosen = ", ".join(nm.any(x) for x in d["chosen"])
        para(
            f"{d['number']}. {opts} -> {chosen}"
            + (f" ({'gekozen op volgorde' if lang == 'nl' else 'chosen in order'})")
        )

    h2(W["checkpoint"][lang])
    if lang == "en":
        para(
            "This record is tied to the public log of the election by its final signed "
            f"checkpoint. The result is entry {rec.result_index}. Anyone can recheck everything "
            f"with: stembus verify {rec.record_url}"
        )
    else:
        para(
            "Dit proces-verbaal hoort bij het openbare logboek van de verkiezing met dit laatste "
            f"ondertekende checkpoint. De uitslag is regel {rec.result_index}. Iedereen kan alles "
            f"narekenen met: stembus verify {rec.record_url}"
        )
    pdf.set_font("Courier", size=8.5)
    size_word = "Size" if lang == "en" else "Grootte"
    pdf.cell(0, 4.6, f"{size_word}: {rec.checkpoint_size}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 4.6, f"Root: {rec.checkpoint_root}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Signatures: one block per committee member, never split over two pages.
    if pdf.get_y() > pdf.h - 16 - 20 - 16 * min(len(rec.committee), 6):
        pdf.add_page()
    h2(W["committee"][lang])
    para(
        "Aldus vastgesteld door de verkiezingscommissie:"
        if lang == "nl"
        else "Thus determined by the election committee:"
    )
    for member in rec.committee:
        if pdf.get_y() > pdf.h - 32:
            pdf.add_page()
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 9.5)
        pdf.cell(60, 8, latin1(member))
        pdf.set_font("Helvetica", size=8.5)
        pdf.cell(20, 8, latin1(W["signature"][lang] + ":"))
        x, y = pdf.get_x(), pdf.get_y() + 7
        pdf.line(x, y, x + 55, y)
        pdf.set_x(x + 58)
        pdf.cell(12, 8, latin1(W["date"][lang] + ":"))
        x2 = pdf.get_x()
        pdf.line(x2, y, pdf.w - 16, y)
        pdf.ln(9)
    return bytes(pdf.output())


def _group(pdf: Any, g: dict[str, Any], nm: Names, lang: Lang, h2, h3, para, table) -> None:  # type: ignore[no-untyped-def]
    h2(f"{W['group'][lang]} {nm.group(g['group'])} ({seats_word(g['seats'], lang)})")
    if not g["vote_held"]:
        para(no_vote_text(g, lang))
    appo = g.get("apportionment")
    if g["vote_held"]:
        rows = []
        by_list = {x["list"]: x for x in (appo or {}).get("lists", [])}
        residual: dict[str, int] = {}
        for s in (appo or {}).get("steps") or []:
            if s["kind"] == "residual_seat":
                residual[s["chosen"]] = residual.get(s["chosen"], 0) + 1
        for lst in g["lists"]:
            a = by_list.get(lst["list"])
            rows.append(
                [
                    nm.list(lst["list"]),
                    lst["votes"],
                    a["full_seats"] if a and appo and appo.get("quota") else "-",
                    a["remainder"]["display"] if a and appo and appo.get("quota") else "-",
                    residual.get(lst["list"], 0),
                    lst["seats"],
                ]
            )
        if g["vacant_seats"]:
            rows.append([W["vacant"][lang], "", "", "", "", g["vacant_seats"]])
        table(
            [W[k][lang] for k in ("list", "votes", "full", "remainder", "residual", "seats")],
            rows,
            (60, 22, 22, 26, 24, 20),
        )
        if appo and appo.get("quota"):
            q = appo["quota"]["display"]
            valid = appo["votes"]["valid"]
            para(
                f"Quota (kiesdeler) = {valid} / {g['seats']} = {q}. {method_text(appo, lang)}"
                if lang == "en"
                else f"Kiesdeler = {valid} / {g['seats']} = {q}. {method_text(appo, lang)}"
            )
            excl = excluded_text(appo, lang, nm.list)
            if excl:
                para(excl)
            pref = preference_text(g, lang)
            if pref:
                para(pref)
        for note in group_note_texts(g, lang):
            para(note)
        steps = (appo or {}).get("steps") or []
        if steps:
            h3(W["steps"][lang])
            for s in steps:
                para(f"{s['number']}. {step_text(s, lang, g['seats'], nm.list)}")
    # Candidates: votes, elected or successor, and how.
    votes = {c["candidate"]: c["votes"] for c in g["candidates"]}
    person = g.get("person_election")
    rows = []
    for lst in g["lists"]:
        steps = {s["candidate"]: s for s in (lst["candidate_election"].get("steps") or [])}
        if person:
            steps = {s["candidate"]: s for s in person["steps"]}
        for c in lst["elected"]:
            how = candidate_reason(steps[c]["reason"], lang) if c in steps else ""
            rows.append(
                [
                    nm.candidate(c),
                    nm.list(lst["list"]),
                    votes.get(c, 0) if g["vote_held"] else "-",
                    W["elected"][lang] + (f" ({how})" if how else ""),
                ]
            )
        for i, c in enumerate(lst["successors"], start=1):
            rows.append(
                [
                    nm.candidate(c),
                    nm.list(lst["list"]),
                    votes.get(c, 0),
                    f"{W['successor'][lang]} {i}",
                ]
            )
    table(
        [W[k][lang] for k in ("candidate", "list", "votes", "outcome")],
        rows,
        (60, 50, 20, 48),
    )


def _consultation(c: dict[str, Any], nm: Names, lang: Lang, h2, h3, para, table) -> None:  # type: ignore[no-untyped-def]
    h2("Uitslag van de raadpleging" if lang == "nl" else "Result of the consultation")
    parts_of: list[tuple[str, dict[str, Any]]] = [
        (nm.group(g["group"]), g) for g in c.get("groups") or []
    ]
    if c.get("other"):
        merged = ", ".join(nm.group(g) for g in c["other"]["merged"])
        parts_of.append(((W["other"][lang] + f" ({merged})"), c["other"]))
    m = c.get("min_group_size")
    if m is not None and len(nm.n.get("groups") or {}) > 1:
        para(
            f"Uitslagen per groep alleen voor groepen met minstens {m} stemmen; kleinere groepen "
            "zijn samengenomen onder 'overige groepen'."
            if lang == "nl"
            else f"Results per group only for groups with at least {m} ballots; smaller groups "
            "are counted together under 'other groups'."
        )
    for i, q in enumerate(c["questions"]):
        qn = nm.n["questions"].get(q["question"], {})
        h3(f"{W['question'][lang]}: {qn.get('text', q['question'])}")
        parts = [(W["total"][lang], q)]
        if len(parts_of) > 1:
            parts += [(name, g["questions"][i]) for name, g in parts_of]
        head = [W["option"][lang]] + [p[0] for p in parts]
        rule = q.get("rule")
        if rule == "open":
            # The answers of the total only: never per group (docs/rules.md "Small groups").
            para("Open antwoorden, op alfabet:" if lang == "nl" else "Open answers, sorted:")
            for a in q["answers"]:
                para("- " + a)
            para(_blank_line(q, lang))
            continue
        table(head, _rows(rule, q, parts, qn, lang))


def _pct(x: dict[str, Any], lang: Lang) -> str:
    pct = x["percent"] or "0.00"
    return f"{x['count']} ({pct.replace('.', ',') if lang == 'nl' else pct}%)"


def _blank_line(q: dict[str, Any], lang: Lang) -> str:
    return (
        f"Beantwoord door {q['answered']}, blanco {q['blank']}."
        if lang == "nl"
        else f"Answered by {q['answered']}, blank {q['blank']}."
    )


def _frac(f: dict[str, str] | None) -> str:
    return "-" if f is None else f["display"]


def _rows(  # type: ignore[no-untyped-def]
    rule, q: dict[str, Any], parts, qn: dict[str, Any], lang: Lang
) -> list[list[str]]:
    rows: list[list[str]] = []
    if rule == "scale":
        for j, p in enumerate(q["points"]):
            rows.append([str(p["point"]), *[_pct(pq["points"][j], lang) for _, pq in parts]])
        rows.append([W["mean"][lang], *[_frac(pq["mean"]) for _, pq in parts]])
        rows.append([W["median"][lang], *[_frac(pq["median"]) for _, pq in parts]])
    elif rule == "ranking":
        for j, o in enumerate(q["options"]):
            label = qn.get("options", {}).get(o["option"], o["option"])
            cells = [
                f"{pq['options'][j]['borda']} ({W['rank'][lang]} {pq['options'][j]['rank']})"
                for _, pq in parts
            ]
            rows.append([label, *cells])
        rows.append(
            [
                "Condorcet",
                *[
                    qn.get("options", {}).get(pq["condorcet_winner"], pq["condorcet_winner"])
                    if pq["condorcet_winner"]
                    else "-"
                    for _, pq in parts
                ],
            ]
        )
    else:
        for j, o in enumerate(q["options"]):
            label = qn.get("options", {}).get(o["option"], o["option"])
            rows.append([label, *[_pct(pq["options"][j], lang) for _, pq in parts]])
    rows.append([W["blank"][lang], *[str(pq["blank"]) for _, pq in parts]])
    return rows
