"""The results page: one self-contained HTML document that a works council can show employees as
is, in Dutch or English. Everything on it comes from the public ``result`` entry and the published
lists (display names, never ids), and every explaining sentence comes from the rules core
(rules.explain), so the page says what the record and the proces-verbaal say.

No asset from another host, no script, and no inline style attribute: the one stylesheet is
allowed by its hash in the Content-Security-Policy (:data:`CSP`). Printed, it fits A4 with every
card whole (``break-inside: avoid``); at 390 px wide, tables scroll inside their card.
"""

from __future__ import annotations

import base64
import hashlib
import math
from datetime import UTC, datetime
from fractions import Fraction
from html import escape
from typing import Any

from rules.apportionment import fraction_json
from rules.explain import (
    Lang,
    candidate_reason,
    excluded_lists,
    excluded_text,
    group_note_texts,
    join,
    lot_seed_text,
    method_text,
    no_vote_text,
    preference_text,
    seats_word,
    step_text,
    votes_word,
)

PALETTE = [
    "#c8102e",
    "#1f5fa8",
    "#2e8b57",
    "#b07d00",
    "#6a3d9a",
    "#d95f00",
    "#11808c",
    "#8c564b",
    "#c2448f",
    "#4d4d4d",
]
VACANT = "#c8c8c8"
# Why a ballot was invalid (rules.ballot, rules.tally), in Dutch: by the words the reason
# contains (first match; the consultation kinds' reasons start with "question <id>").
REASONS_NL = (
    ("required question", "verplichte vraag niet beantwoord"),
    ("outside the scale", "buiten de schaal"),
    ("scale answer is not an integer", "geen geheel getal op de schaal"),
    ("open answer longer than", "open antwoord te lang"),
    ("control character", "open antwoord met een stuurteken"),
    ("lone surrogate", "open antwoord met een ongeldig teken"),
    ("empty open answer", "leeg open antwoord"),
    ("open answer is not a string", "open antwoord onleesbaar"),
    ("does not decrypt", "niet te ontsleutelen"),
    ("ciphertext is not base64", "versleuteling onleesbaar"),
    ("malformed plaintext", "inhoud onleesbaar"),
    ("unknown candidate", "onbekende kandidaat"),
    ("unknown question", "onbekende vraag"),
    ("unknown option", "onbekend antwoord"),
    ("duplicate selection", "dubbele keuze"),
    ("too many selections", "te veel keuzes"),
    ("wrong election", "andere verkiezing"),
    ("wrong group", "andere kiesgroep"),
    ("no vote held", "geen stemming in deze kiesgroep"),
)


def reason_text(reason: str, lang: Lang) -> str:
    """An invalid ballot's reason for the page (English as recorded; Dutch by its kind)."""
    if lang == "en":
        return reason
    return next((nl for en, nl in REASONS_NL if en in reason), "ongeldig stembiljet")


MONTHS = {
    "nl": "januari februari maart april mei juni juli augustus september oktober november "
    "december".split(),
    "en": "January February March April May June July August September October November "
    "December".split(),
}

T: dict[str, dict[Lang, str]] = {
    "title": {"nl": "Uitslag", "en": "Result"},
    "result_of": {"nl": "Uitslag van de verkiezing", "en": "Result of the election"},
    "determined": {"nl": "Uitslag vastgesteld op", "en": "Result determined on"},
    "period": {"nl": "Stemperiode", "en": "Voting period"},
    "other_lang": {"nl": "English", "en": "Nederlands"},
    "group": {"nl": "Kiesgroep", "en": "Kiesgroep (constituency)"},
    "list": {"nl": "Lijst", "en": "List"},
    "votes": {"nl": "Stemmen", "en": "Votes"},
    "full": {"nl": "Volle zetels", "en": "Full seats"},
    "remainder": {"nl": "Overschot", "en": "Remainder"},
    "average": {"nl": "Gemiddelde", "en": "Average"},
    "residual": {"nl": "Restzetels", "en": "Residual seats"},
    "seats": {"nl": "Zetels", "en": "Seats"},
    "vacant": {"nl": "Vacant", "en": "Vacant"},
    "elected": {"nl": "Gekozen", "en": "Elected"},
    "successors": {"nl": "Opvolgers", "en": "Successors"},
    "candidate": {"nl": "Kandidaat", "en": "Candidate"},
    "how": {"nl": "Hoe", "en": "How"},
    "steps": {"nl": "De restzetels, stap voor stap", "en": "The residual seats, step by step"},
    "lot": {"nl": "Loting", "en": "Lot"},
    "check": {"nl": "Zelf controleren", "en": "Check it yourself"},
    "below_threshold": {"nl": "onder de drempel", "en": "below the threshold"},
    "consultation": {"nl": "Uitslag van de raadpleging", "en": "Result of the consultation"},
    "option": {"nl": "Antwoord", "en": "Answer"},
    "count": {"nl": "Aantal", "en": "Count"},
    "share": {"nl": "Aandeel", "en": "Share"},
    "total": {"nl": "Totaal", "en": "Total"},
    "point": {"nl": "Waarde", "en": "Point"},
    "borda": {"nl": "Borda-punten", "en": "Borda points"},
    "rank": {"nl": "Plaats", "en": "Rank"},
    "first": {"nl": "Eerste keus", "en": "First choice"},
    "pairwise": {"nl": "Paarsgewijs", "en": "Pairwise"},
    "other": {"nl": "Overige groepen", "en": "Other groups"},
    "union": {"nl": "vakbond", "en": "union"},
    "free": {"nl": "vrije lijst", "en": "free list"},
    "person": {"nl": "kandidaten", "en": "candidates"},
    "not_yet": {"nl": "De uitslag is er nog niet", "en": "The result is not there yet"},
}

# Table headings with their break points (~ becomes a soft hyphen), for 390 px screens.
HYPHENATED: dict[str, dict[Lang, str]] = {
    "votes": {"nl": "Stem~men", "en": "Votes"},
    "full": {"nl": "Volle ze~tels", "en": "Full seats"},
    "remainder": {"nl": "Over~schot", "en": "Remain~der"},
    "average": {"nl": "Gemid~delde", "en": "Aver~age"},
    "residual": {"nl": "Rest~ze~tels", "en": "Resid~ual seats"},
    "seats": {"nl": "Ze~tels", "en": "Seats"},
}


def _e(x: Any) -> str:
    return escape(str(x), quote=True)


def _pct(part: int, whole: int | None, lang: Lang) -> str:
    if not whole:
        return "–"
    tenths = (part * 1000 * 2 + whole) // (2 * whole)
    sep = "," if lang == "nl" else "."
    return f"{tenths // 10}{sep}{tenths % 10}%"


def local(when: datetime) -> datetime:
    """A moment in the works council's time zone (Europe/Amsterdam; UTC if unknown here)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        from zoneinfo import ZoneInfo

        return when.astimezone(ZoneInfo("Europe/Amsterdam"))
    except Exception:  # no time zone database: say UTC
        return when.astimezone(UTC)


def date_text(when: datetime, lang: Lang, with_time: bool = True) -> str:
    t = local(when)
    day = f"{t.day} {MONTHS[lang][t.month - 1]} {t.year}"
    if not with_time:
        return day
    zone = t.tzname() or "UTC"
    return f"{day} {t.hour:02d}:{t.minute:02d} ({zone})"


def period_text(start: datetime | None, end: datetime | None, lang: Lang) -> str | None:
    if start is None and end is None:
        return None
    a = date_text(start, lang) if start else "…"
    b = date_text(end, lang) if end else "…"
    return f"{a} – {b}"


def seat_chart(seats: list[tuple[str, str]], title: str) -> str:
    """A half-circle of seats (parliament chart); ``seats`` is (colour, label) left to right."""
    total = len(seats)
    if total == 0:
        return ""
    rows = 1 if total <= 9 else 2 if total <= 20 else 3
    radii = [1.0 - 0.22 * r for r in range(rows)]
    weight = sum(radii)
    per_row = [max(1, round(total * r / weight)) for r in radii]
    per_row[0] += total - sum(per_row)
    points: list[tuple[float, float, float]] = []
    for r, count in zip(radii, per_row, strict=True):
        for i in range(count):
            angle = math.pi * (1 - (i + 0.5) / count)
            points.append((angle, 150 + 130 * r * math.cos(angle), 150 - 130 * r * math.sin(angle)))
    points.sort(key=lambda p: -p[0])
    dot = 11 if total <= 15 else 9
    if total == 1:  # one seat: one larger dot just above the number, not at the arc's top
        points, dot = [(math.pi / 2, 150.0, 105.0)], 24
    circles = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{dot}" fill="{colour}"><title>{_e(label)}</title>'
        "</circle>"
        for (_, x, y), (colour, label) in zip(points, seats, strict=True)
    )
    return (
        f'<svg class="chart" viewBox="0 0 300 165" role="img" aria-label="{_e(title)}">'
        f"{circles}"
        f'<text x="150" y="150" text-anchor="middle" class="total">{total}</text></svg>'
    )


def swatch(colour: str) -> str:
    """A colour dot as SVG (an attribute, not a style: the CSP allows no inline style)."""
    return (
        '<svg class="sw" viewBox="0 0 10 10" aria-hidden="true">'
        f'<circle cx="5" cy="5" r="5" fill="{colour}"/></svg>'
    )


def bar(share: float) -> str:
    w = max(0.0, min(share, 100.0))
    return (
        '<svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">'
        f'<rect width="100" height="8" fill="#e4e4e4"/><rect width="{w:.1f}" height="8" '
        'fill="#1f5fa8"/></svg>'
    )


class Names:
    """Display names from the published lists (api.tally.service.names_of)."""

    def __init__(self, names: dict[str, Any]) -> None:
        self.n = names

    def group(self, gid: str) -> str:
        return str(self.n["groups"].get(gid, gid))

    def list(self, lid: str) -> str:
        return str(self.n["lists"].get(lid, lid))

    def candidate(self, cid: str) -> str:
        return str(self.n["candidates"].get(cid, cid))

    def any(self, x: str) -> str:
        return str(self.n["lists"].get(x) or self.n["candidates"].get(x) or x)


def _stats(g: dict[str, Any], turnout: dict[str, Any], lang: Lang) -> str:
    b = g["ballots"]
    voted, eligible = turnout.get("voted", 0), turnout.get("eligible")
    of = eligible if eligible is not None else "?"
    if lang == "en":
        head = f"Turnout: <b>{voted}</b> of {of} voters ({_pct(voted, eligible, lang)})"
        rest = f"valid {b['valid']} · blank {b['blank']} · invalid {b['invalid']}"
    else:
        head = f"Opkomst: <b>{voted}</b> van {of} kiesgerechtigden ({_pct(voted, eligible, lang)})"
        rest = f"geldig {b['valid']} · blanco {b['blank']} · ongeldig {b['invalid']}"
    out = f"<p class=stats>{head} · {rest}</p>"
    if b["invalid_reasons"]:
        reasons = ", ".join(
            f"{_e(reason_text(r['reason'], lang))} ({r['count']})" for r in b["invalid_reasons"]
        )
        word = "Invalid ballots" if lang == "en" else "Ongeldige stemmen"
        out += f"<p class=small>{word}: {reasons}</p>"
    return out


def _list_table(g: dict[str, Any], names: Names, colours: dict[str, str], lang: Lang) -> str:
    appo = g.get("apportionment")
    lists = g["lists"]
    steps = (appo or {}).get("steps") or []
    residual = {lst["list"]: 0 for lst in lists}
    for s in steps:
        if s["kind"] == "residual_seat" and s["chosen"] in residual:
            residual[s["chosen"]] += 1
    below = set(excluded_lists(appo)) if appo else set()
    by_list = {x["list"]: x for x in (appo or {}).get("lists", [])}
    ha = appo is not None and appo["method"] == "highest_averages"
    cols = [T["list"][lang], HYPHENATED["votes"][lang]]
    if appo and appo.get("quota"):
        cols += [
            HYPHENATED[k][lang] for k in ("full", "average" if ha else "remainder", "residual")
        ]
    cols.append(HYPHENATED["seats"][lang])
    out = ['<div class="scroll"><table><thead><tr>']
    out += [
        f'<th scope="col"{" class=num" if i else ""}>{_e(c).replace("~", "&shy;")}</th>'
        for i, c in enumerate(cols)
    ]
    out.append("</tr></thead><tbody>")
    for lst in lists:
        lid = lst["list"]
        kind = T.get(lst["kind"], {}).get(lang, lst["kind"])
        cells = [
            f'<th scope="row">{swatch(colours[lid])}{_e(names.list(lid))}'
            f"<br><small>{_e(kind)}</small></th>",
            f"<td class=num>{lst['votes'] if g['vote_held'] else '–'}</td>",
        ]
        if appo and appo.get("quota"):
            a = by_list[lid]
            if ha:
                value = _average(lst["votes"], a["full_seats"])
            else:
                value = a["remainder"]["display"]
            mark = f" <small>({T['below_threshold'][lang]})</small>" if lid in below else ""
            cells += [
                f"<td class=num>{a['full_seats']}</td>",
                f"<td class=num>{_e(value)}{mark}</td>",
                f"<td class=num>{residual[lid]}</td>",
            ]
        cells.append(f"<td class=num><b>{lst['seats']}</b></td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    if g["vacant_seats"]:
        span = len(cols) - 1
        out.append(
            f'<tr><th scope="row">{swatch(VACANT)}{T["vacant"][lang]}</th>'
            f'<td colspan="{span - 1}"></td><td class=num><b>{g["vacant_seats"]}</b></td></tr>'
        )
    out.append("</tbody></table></div>")
    return "".join(out)


def _average(votes: int, full: int) -> str:
    """votes / (full seats + 1): the average with which a list enters the residual seats."""
    d = fraction_json(Fraction(votes, full + 1))
    assert d is not None
    return d["display"]


def _candidates(g: dict[str, Any], names: Names, colours: dict[str, str], lang: Lang) -> str:
    votes = {c["candidate"]: c["votes"] for c in g["candidates"]}
    out = ['<div class="cands">']
    for lst in g["lists"]:
        lid = lst["list"]
        reasons = {
            s["candidate"]: s["reason"] for s in lst["candidate_election"].get("steps") or []
        }
        if g.get("person_election"):
            reasons = {s["candidate"]: s["reason"] for s in g["person_election"]["steps"]}
        out.append(f'<div class="list"><h4>{swatch(colours[lid])}{_e(names.list(lid))}</h4>')
        if lst["elected"]:
            out.append(f"<p><b>{T['elected'][lang]}</b></p><ol>")
            for c in lst["elected"]:
                extra = ""
                if g["vote_held"]:
                    how = candidate_reason(reasons.get(c, ""), lang) if c in reasons else ""
                    said = votes_word(votes.get(c, 0), lang) + (f"; {how}" if how else "")
                    extra = f" <small>({said})</small>"
                out.append(f"<li>{_e(names.candidate(c))}{extra}</li>")
            out.append("</ol>")
        if lst["successors"]:
            out.append(f"<p><b>{T['successors'][lang]}</b></p><ol>")
            for c in lst["successors"]:
                out.append(
                    f"<li>{_e(names.candidate(c))} "
                    f"<small>({votes_word(votes.get(c, 0), lang)})</small></li>"
                )
            out.append("</ol>")
        out.append("</div>")
    out.append("</div>")
    return "".join(out)


def _group_section(g: dict[str, Any], names: Names, turnout: dict[str, Any], lang: Lang) -> str:
    gid = g["group"]
    gname = names.group(gid)
    lists = g["lists"]
    colours = {lst["list"]: PALETTE[i % len(PALETTE)] for i, lst in enumerate(lists)}
    chart: list[tuple[str, str]] = []
    for lst in lists:
        chart += [(colours[lst["list"]], names.list(lst["list"]))] * lst["seats"]
    chart += [(VACANT, T["vacant"][lang])] * g["vacant_seats"]
    out = [
        f'<section class="card group"><div class="keep"><h2>{T["group"][lang]} {_e(gname)} '
        f"<small>({seats_word(g['seats'], lang)})</small></h2>"
    ]
    if not g["vote_held"]:
        out.append(f"<p class=note>{_e(no_vote_text(g, lang))}</p>")
    else:
        out.append(_stats(g, turnout, lang))
    out.append('<div class="row">')
    out.append(seat_chart(chart, f"{T['seats'][lang]} {gname}: {g['seats']}"))
    out.append(_list_table(g, names, colours, lang))
    out.append("</div></div>")  # .row, .keep: heading, figures, chart and table stay together
    appo = g.get("apportionment")
    if g["vote_held"] and appo and appo.get("quota"):
        q = appo["quota"]["display"]
        valid = appo["votes"]["valid"]
        if lang == "en":
            quota = (
                f"Quota (kiesdeler) = valid votes / seats = {valid} / {g['seats']} = <b>{q}</b>. "
                "A list gets one full seat for each whole quota of votes."
            )
        else:
            quota = (
                f"Kiesdeler = geldige stemmen / zetels = {valid} / {g['seats']} = <b>{q}</b>. "
                "Een lijst krijgt een volle zetel voor elke hele kiesdeler aan stemmen."
            )
        out.append(f"<p>{quota}</p><p>{_e(method_text(appo, lang))}</p>")
        excl = excluded_text(appo, lang, names.list)
        if excl:
            out.append(f"<p class=note>{_e(excl)}</p>")
        pref = preference_text(g, lang)
        if pref:
            out.append(f"<p>{_e(pref)}</p>")
    for note in group_note_texts(g, lang):
        out.append(f"<p class=note>{_e(note)}</p>")
    if g.get("person_election") and g["vote_held"]:
        out.append(
            "<p>"
            + (
                "Person system: the candidates with the most votes are elected; equal votes at "
                "the last seat are decided by lot. Successors follow in order of votes."
                if lang == "en"
                else "Personenstelsel: de kandidaten met de meeste stemmen zijn gekozen; bij "
                "gelijke stemmen om de laatste zetel beslist het lot. Opvolgers volgen op "
                "volgorde van stemmen."
            )
            + "</p>"
        )
    out.append(_candidates(g, names, colours, lang))
    steps = (appo or {}).get("steps") or []
    if steps:
        out.append(f"<h3>{T['steps'][lang]}</h3><ol class=steps>")
        for s in steps:
            out.append(f"<li>{_e(step_text(s, lang, g['seats'], names.list))}</li>")
        out.append("</ol>")
    out.append("</section>")
    return "".join(out)


def _question_table(q: dict[str, Any], qn: dict[str, Any], lang: Lang) -> str:
    out = [
        f'<div class="scroll"><table><thead><tr><th scope="col">{T["option"][lang]}</th>'
        f'<th scope="col" class=num>{T["count"][lang]}</th>'
        f'<th scope="col">{T["share"][lang]}</th></tr></thead><tbody>'
    ]
    for o in q["options"]:
        label = qn.get("options", {}).get(o["option"], o["option"])
        pct = o["percent"] or "0.00"
        shown = pct.replace(".", ",") if lang == "nl" else pct
        out.append(
            f'<tr><th scope="row">{_e(label)}</th><td class=num>{o["count"]}</td>'
            f"<td>{bar(float(pct))} {shown}%</td></tr>"
        )
    out.append("</tbody></table></div>")
    answered = (
        f"Answered by {q['answered']}, blank {q['blank']}."
        if lang == "en"
        else f"Beantwoord door {q['answered']}, blanco {q['blank']}."
    )
    out.append(f"<p class=small>{answered}</p>")
    return "".join(out)


def _num(f: dict[str, str] | None, lang: Lang) -> str:
    """An exact fraction from the result as a decimal with two places (display only)."""
    if f is None:
        return "–"
    x = Fraction(f["value"])
    n = (x.numerator * 200 + x.denominator) // (2 * x.denominator)  # hundredths, half up
    sign = "-" if n < 0 else ""
    n = abs(n)
    sep = "," if lang == "nl" else "."
    return f"{sign}{n // 100}{sep}{n % 100:02d}"


def _answered(q: dict[str, Any], lang: Lang) -> str:
    text = (
        f"Answered by {q['answered']}, blank {q['blank']}."
        if lang == "en"
        else f"Beantwoord door {q['answered']}, blanco {q['blank']}."
    )
    return f"<p class=small>{text}</p>"


def _scale_table(q: dict[str, Any], qn: dict[str, Any], lang: Lang) -> str:
    out = [
        f'<div class="scroll"><table><thead><tr><th scope="col">{T["point"][lang]}</th>'
        f'<th scope="col" class=num>{T["count"][lang]}</th>'
        f'<th scope="col">{T["share"][lang]}</th></tr></thead><tbody>'
    ]
    points = q["points"]
    for i, p in enumerate(points):
        label = str(p["point"])
        end = qn.get("min_label") if i == 0 else qn.get("max_label") if i == len(points) - 1 else ""
        if end:
            label += f" ({end})"
        pct = p["percent"] or "0.00"
        shown = pct.replace(".", ",") if lang == "nl" else pct
        out.append(
            f'<tr><th scope="row">{_e(label)}</th><td class=num>{p["count"]}</td>'
            f"<td>{bar(float(pct))} {shown}%</td></tr>"
        )
    out.append("</tbody></table></div>")
    mean, med = _num(q["mean"], lang), _num(q["median"], lang)
    out.append(
        f"<p class=stats>{'Mean' if lang == 'en' else 'Gemiddelde'} <b>{mean}</b> · "
        f"{'median' if lang == 'en' else 'mediaan'} <b>{med}</b></p>"
    )
    out.append(_answered(q, lang))
    return "".join(out)


def _ranking_table(q: dict[str, Any], qn: dict[str, Any], lang: Lang) -> str:
    label = {o["option"]: qn.get("options", {}).get(o["option"], o["option"]) for o in q["options"]}
    top = max((o["borda"] for o in q["options"]), default=0) or 1
    out = [
        f'<div class="scroll"><table><thead><tr><th scope="col">{T["option"][lang]}</th>'
        f'<th scope="col" class=num>{T["rank"][lang]}</th>'
        f'<th scope="col" class=num>{T["borda"][lang]}</th>'
        f'<th scope="col" class=num>{T["first"][lang]}</th><th scope="col"></th></tr></thead>'
        "<tbody>"
    ]
    for o in sorted(q["options"], key=lambda o: o["rank"]):
        out.append(
            f'<tr><th scope="row">{_e(label[o["option"]])}</th><td class=num>{o["rank"]}</td>'
            f"<td class=num>{o['borda']}</td><td class=num>{o['first']}</td>"
            f"<td>{bar(100 * o['borda'] / top)}</td></tr>"
        )
    out.append("</tbody></table></div>")
    winners = [_e(label[w]) for w in q["borda_winners"]]
    cw = q["condorcet_winner"]
    if lang == "en":
        s = "Borda: " + (" and ".join(winners) + (" (a tie)" if len(winners) > 1 else ""))
        s += ". Condorcet winner: " + (_e(label[cw]) if cw else "none") + "."
    else:
        s = "Borda: " + (" en ".join(winners) + (" (gelijk)" if len(winners) > 1 else ""))
        s += ". Condorcet-winnaar: " + (_e(label[cw]) if cw else "geen") + "."
    out.append(f"<p class=stats>{s if winners else '–'}</p>")
    caption = (
        "Pairwise: the ballots that prefer the row's option to the column's"
        if lang == "en"
        else "Paarsgewijs: de stemmen die het antwoord van de rij verkiezen boven dat van de kolom"
    )
    out.append(
        f'<div class="scroll"><table><caption>{caption}</caption><thead><tr><td></td>'
        + "".join(f'<th scope="col">{_e(label[o["option"]])}</th>' for o in q["options"])
        + "</tr></thead><tbody>"
    )
    for row in q["pairwise"]:
        cells = "".join(
            "<td class=num>–</td>" if v is None else f"<td class=num>{v}</td>"
            for v in row["prefer"]
        )
        out.append(f'<tr><th scope="row">{_e(label[row["option"]])}</th>{cells}</tr>')
    out.append("</tbody></table></div>")
    out.append(_answered(q, lang))
    return "".join(out)


def _open_list(q: dict[str, Any], lang: Lang) -> str:
    note = (
        "The answers in alphabetical order (not in the order of the ballots)."
        if lang == "en"
        else "De antwoorden op alfabet (niet in de volgorde van de stemmen)."
    )
    items = "".join(f"<li>{_e(a).replace(chr(10), '<br>')}</li>" for a in q["answers"])
    return f"<p class=small>{note}</p><ul class=answers>{items}</ul>{_answered(q, lang)}"


def _question_block(q: dict[str, Any], qn: dict[str, Any], lang: Lang) -> str:
    rule = q.get("rule")
    if rule == "scale":
        return _scale_table(q, qn, lang)
    if rule == "ranking":
        return _ranking_table(q, qn, lang)
    if rule == "open":
        return _open_list(q, lang)
    return _question_table(q, qn, lang)


def _small_groups_note(c: dict[str, Any], names: Names, lang: Lang) -> str:
    m = c.get("min_group_size")
    if m is None or len(names.n.get("groups") or {}) <= 1:
        return ""
    if lang == "en":
        s = (
            f"Results per group are shown only for groups with at least {m} ballots; smaller "
            "groups are counted together under “other groups” (with as many others as it takes "
            f"to reach {m} ballots and two groups). Open answers are never shown per smaller group."
        )
        if not c.get("groups"):
            s += " Here no group could be shown on its own: only the total is published."
    else:
        s = (
            f"Uitslagen per groep staan hier alleen voor groepen met minstens {m} stemmen; "
            "kleinere groepen zijn samengenomen onder „overige groepen” (met zoveel andere als "
            f"nodig voor {m} stemmen en twee groepen). Open antwoorden staan nooit per kleinere "
            "groep."
        )
        if not c.get("groups"):
            s += " Hier kon geen groep apart getoond worden: alleen het totaal is gepubliceerd."
    return f"<p class=small>{s}</p>"


def _consultation_section(
    c: dict[str, Any], names: Names, turnout: list[dict[str, Any]], lang: Lang
) -> str:
    groups = c.get("groups") or []
    other = c.get("other")
    parts: list[tuple[str, dict[str, Any]]] = [
        (f"{T['group'][lang]} {names.group(g['group'])}", g) for g in groups
    ]
    if other:
        merged = ", ".join(names.group(g) for g in other["merged"])
        parts.append((f"{T['other'][lang]} ({merged})", other))
    out = [f'<section class="card"><h2>{T["consultation"][lang]}</h2>']
    b = c["ballots"]
    voted = sum(t.get("voted", 0) for t in turnout)
    eligible_known = all(t.get("eligible") is not None for t in turnout)
    eligible = sum(t.get("eligible") or 0 for t in turnout) if eligible_known else None
    skipped = b.get("skipped", 0)
    if lang == "en":
        out.append(
            f"<p class=stats>Turnout: <b>{voted}</b> of {eligible if eligible is not None else '?'}"
            f" ({_pct(voted, eligible, lang)}) · ballots {b['total']} · valid {b['valid']} · "
            f"invalid {b['invalid']} · skipped {skipped}</p>"
        )
    else:
        out.append(
            f"<p class=stats>Opkomst: <b>{voted}</b> van "
            f"{eligible if eligible is not None else '?'} ({_pct(voted, eligible, lang)}) · "
            f"stemmen {b['total']} · geldig {b['valid']} · ongeldig {b['invalid']} · "
            f"overgeslagen {skipped}</p>"
        )
    if b["invalid_reasons"]:
        reasons = ", ".join(
            f"{_e(reason_text(r['reason'], lang))} ({r['count']})" for r in b["invalid_reasons"]
        )
        word = "Invalid ballots" if lang == "en" else "Ongeldige stemmen"
        out.append(f"<p class=small>{word}: {reasons}</p>")
    out.append(_small_groups_note(c, names, lang))
    for i, q in enumerate(c["questions"]):
        qn = names.n["questions"].get(q["question"], {})
        out.append(f"<h3>{_e(qn.get('text', q['question']))}</h3>")
        if len(parts) > 1:
            out.append(f"<h4>{T['total'][lang]}</h4>")
        out.append(_question_block(q, qn, lang))
        if len(parts) > 1:
            for title, part in parts:
                out.append(f"<h4>{_e(title)}</h4>")
                out.append(_question_block(part["questions"][i], qn, lang))
    out.append("</section>")
    return "".join(out)


def _lot_section(result: dict[str, Any], names: Names, lang: Lang) -> str:
    lot = result.get("lot")
    draws = (lot or {}).get("draws") or []
    if not draws:
        return ""
    out = [f'<section class="card"><h2>{T["lot"][lang]}</h2>']
    out.append(f"<p>{_e(lot_seed_text(result.get('lot_checkpoint'), lang))}</p><ol>")
    for d in draws:
        opts = join([names.any(x) for x in d["options"]], lang)
        chosen = ", ".join(names.any(x) for x in d["chosen"])
        if lang == "en":
            text = f"Draw {d['number']}: from {opts}, the lot chose (in order) {chosen}."
        else:
            text = f"Trekking {d['number']}: uit {opts} koos het lot (op volgorde) {chosen}."
        out.append(f"<li>{_e(text)}</li>")
    out.append("</ol></section>")
    return "".join(out)


CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;line-height:1.45;
color:#1a1a1a;background:#f6f6f4;overflow-wrap:break-word}
header{background:#1f3b57;color:#fff;padding:1.2rem 1rem}
header h1{margin:0 0 .3rem;font-size:1.6rem}
header p{margin:.15rem 0}
header a{color:#fff}
main,footer{max-width:1100px;margin:0 auto;padding:0 1rem}
.card{background:#fff;border-radius:10px;padding:1rem;margin:1rem 0;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h2{font-size:1.3rem;margin:.2rem 0 .6rem}
h3{font-size:1.1rem;margin:1rem 0 .4rem}
h4{font-size:1rem;margin:.8rem 0 .2rem}
.row{display:flex;flex-wrap:wrap;gap:1rem 2rem;align-items:center}
.chart{width:300px;max-width:100%}
.chart .total{font-size:28px;font-weight:700;fill:#333}
.scroll{max-width:100%;overflow-x:auto;flex:1 1 320px}
table{border-collapse:collapse;width:100%}
td,th{padding:.35rem .5rem;border-bottom:1px solid #e6e6e6;text-align:left;font-weight:400}
thead th{font-weight:700;border-bottom:2px solid #bbb}
.num{text-align:right}
.sw{width:.85em;height:.85em;margin-right:.4em;vertical-align:-1px}
.bar{width:8rem;height:.7em;vertical-align:middle}
.cands{display:flex;flex-wrap:wrap;gap:.5rem 2.5rem}
.list ol{margin:.1rem 0 .4rem 1.2rem;padding:0}
.list p{margin:.3rem 0 0}
.steps li{margin:.2rem 0}
caption{text-align:left;font-size:.9em;padding:.3rem 0;color:#444}
.answers li{margin:.25rem 0}
.stats{color:#333}
.small,small{color:#555;font-size:.9em}
.note{background:#fff7d6;padding:.5rem .7rem;border-radius:6px}
code{background:#eee;padding:.1rem .3rem;overflow-wrap:anywhere}
footer{padding-bottom:2rem;color:#333}
@media (max-width:480px){header h1{font-size:1.3rem}main,footer{padding:0 .5rem}
.card{padding:.7rem .5rem}table{font-size:.85rem}td,th{padding:.3rem .2rem}
.chart{width:240px}}
@media print{@page{size:A4;margin:12mm}
body{background:#fff;font-size:9.5pt;line-height:1.3}
header{background:none;color:#000;padding:0 0 .4rem;border-bottom:2px solid #000}
header h1{font-size:15pt}
header a{display:none}
main,footer{max-width:none;padding:0}
.card{box-shadow:none;border:1px solid #999;break-inside:avoid;page-break-inside:avoid;
margin:.5rem 0;padding:.5rem}
.card.group{border:0;border-top:1.5pt solid #000;border-radius:0;padding:.3rem 0 0;
break-inside:auto;page-break-inside:auto}
.keep,.row,.list,.note,.steps li,table,tr,p{break-inside:avoid;page-break-inside:avoid}
.row{gap:.5rem 1.5rem}
.chart{width:150px}
.scroll{overflow:visible}
.cands{display:grid;grid-template-columns:repeat(3,1fr);gap:.3rem 1rem}
h2,h3,h4{break-after:avoid;page-break-after:avoid}
footer{break-inside:avoid}}
"""
CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src 'sha256-{CSS_HASH}'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _document(title: str, lang: Lang, header: str, body: str, footer: str = "") -> str:
    return (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title><style>{CSS}</style></head>\n"
        f"<body><header>{header}</header>\n<main>{body}</main>\n"
        f"<footer>{footer}</footer></body></html>\n"
    )


def _lang_link(lang: Lang) -> str:
    other = "en" if lang == "nl" else "nl"
    label = T["other_lang"][lang]
    return f'<p><a href="?lang={other}" hreflang="{other}" lang="{other}">{label}</a></p>'


def render(
    *,
    name: str,
    organisation: str,
    result: dict[str, Any],
    names: dict[str, Any],
    record_url: str,
    result_index: int,
    lang: Lang = "nl",
    determined_at: datetime | None = None,
    voting: tuple[datetime | None, datetime | None] = (None, None),
) -> str:
    """The results page of a tallied election in ``lang``."""
    nm = Names(names)
    turnout = {t["group"]: t for t in result.get("turnout", [])}
    body: list[str] = []
    if result.get("kind") == "consultation" and result.get("consultation"):
        body.append(
            _consultation_section(result["consultation"], nm, result.get("turnout", []), lang)
        )
    else:
        total = sum(g["seats"] for g in result["groups"])
        elected = sum(len(g["elected"]) for g in result["groups"])
        vacant = sum(g["vacant_seats"] for g in result["groups"])
        groups = len(result["groups"])
        if lang == "en":
            summary = f"{total} seats in {groups} kiesgroep(en): {elected} members elected" + (
                f", {vacant} seat(s) vacant." if vacant else "."
            )
        else:
            summary = f"{total} zetels in {groups} kiesgroep(en): {elected} leden gekozen" + (
                f", {vacant} zetel(s) vacant." if vacant else "."
            )
        body.append(f'<section class="card"><p class=stats><b>{summary}</b></p></section>')
        for g in result["groups"]:
            body.append(_group_section(g, nm, turnout.get(g["group"], {}), lang))
    body.append(_lot_section(result, nm, lang))
    head = [f"<h1>{T['result_of'][lang]}: {_e(name)}</h1><p>{_e(organisation)}</p>"]
    if determined_at is not None:
        head.append(f"<p>{T['determined'][lang]} {date_text(determined_at, lang)}</p>")
    period = period_text(voting[0], voting[1], lang)
    held = result.get("kind") == "consultation" or any(
        g.get("vote_held") for g in result.get("groups", [])
    )
    if period and held:
        head.append(f"<p>{T['period'][lang]}: {period}</p>")
    head.append(_lang_link(lang))
    cp = result.get("lot_checkpoint")
    if lang == "en":
        check = (
            f"<h2>{T['check'][lang]}</h2><p>This result is entry {result_index} of the election's "
            "public log. Anyone can recheck the whole election: every ballot, every signature "
            f'and every step of the seat allocation. Download the <a href="{_e(record_url)}">'
            f"election record</a> and check it with <code>stembus verify {_e(record_url)}</code>."
            " Voters check that their own ballot was counted with the receipt they kept: "
            f"<code>stembus verify-receipt RECEIPT --url {_e(record_url)}</code>.</p>"
        )
    else:
        check = (
            f"<h2>{T['check'][lang]}</h2><p>Deze uitslag staat als regel {result_index} in het "
            "openbare logboek van de verkiezing. Iedereen kan de hele verkiezing narekenen: elke "
            "stem, elke handtekening en elke stap van de zetelverdeling. Download het "
            f'<a href="{_e(record_url)}">verkiezingsdossier</a> en controleer het met '
            f"<code>stembus verify {_e(record_url)}</code>. Wie gestemd heeft, controleert met "
            "het bewaarde ontvangstbewijs of de eigen stem is meegeteld: <code>stembus "
            f"verify-receipt ONTVANGSTBEWIJS --url {_e(record_url)}</code>.</p>"
        )
    if not (result.get("lot") or {}).get("draws"):
        check += f"<p class=small>{_e(lot_seed_text(cp, lang))}</p>"
    return _document(f"{T['title'][lang]} {name}", lang, "".join(head), "".join(body), check)


def render_pending(
    *,
    name: str,
    organisation: str,
    status: str,
    lang: Lang,
    voting: tuple[datetime | None, datetime | None] = (None, None),
    shares: tuple[int, int | None] = (0, None),
) -> str:
    """Before the tally: a page that says when the result comes (never a JSON problem)."""
    start, end = voting
    en = lang == "en"
    if status == "cancelled":
        text = "This election was cancelled." if en else "Deze verkiezing is geannuleerd."
    elif status == "closed":
        received, k = shares
        text = (
            "Voting has closed. The result comes as soon as the key holders have handed in "
            f"enough key shares to count the votes ({received} of {k if k else '?'} in)."
            if en
            else "De stemming is gesloten. De uitslag volgt zodra de sleutelhouders genoeg "
            f"sleuteldelen hebben ingeleverd om te tellen ({received} van {k if k else '?'} "
            "binnen)."
        )
    elif status == "voting":
        until = date_text(end, lang) if end else None
        text = (
            f"Voting is open{' until ' + until if until else ''}. The result comes after voting "
            "closes and the votes are counted."
            if en
            else f"De stemming is open{' tot ' + until if until else ''}. De uitslag volgt na het "
            "sluiten van de stemming en het tellen."
        )
    else:
        when = date_text(start, lang) if start else None
        text = (
            "Voting has not started yet"
            + (f"; it opens on {when}" if when else "")
            + ". The result comes after voting closes and the votes are counted."
            if en
            else "De stemming is nog niet begonnen"
            + (f"; zij opent op {when}" if when else "")
            + ". De uitslag volgt na het sluiten van de stemming en het tellen."
        )
    head = f"<h1>{T['result_of'][lang]}: {_e(name)}</h1><p>{_e(organisation)}</p>{_lang_link(lang)}"
    period = period_text(start, end, lang)
    body = f'<section class="card"><h2>{T["not_yet"][lang]}</h2><p>{_e(text)}</p>'
    if period:
        body += f"<p>{T['period'][lang]}: {period}</p>"
    body += "</section>"
    return _document(f"{T['title'][lang]} {name}", lang, head, body)
