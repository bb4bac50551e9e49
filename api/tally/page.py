"""The results page: one self-contained HTML document (inline CSS and SVG, no external assets),
in Dutch, that a works council can show employees as is. Everything on it comes from the public
``result`` entry and the published lists, so it shows nothing the record does not."""

from __future__ import annotations

import math
from html import escape
from typing import Any

PALETTE = [
    "#c8102e",
    "#1f5fa8",
    "#2e8b57",
    "#e0a100",
    "#6a3d9a",
    "#ff7f00",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#4d4d4d",
]
VACANT = "#d0d0d0"
REASONS_NL = {"does not decrypt": "niet te ontsleutelen"}


def _e(x: Any) -> str:
    return escape(str(x), quote=True)


def _pct(part: int, whole: int | None) -> str:
    if not whole:
        return "–"
    tenths = (part * 1000 * 2 + whole) // (2 * whole)
    return f"{tenths // 10},{tenths % 10}%"


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


def _group_section(g: dict[str, Any], names: dict[str, Any], turnout: dict[str, Any]) -> str:
    gid = g["group"]
    gname = names["groups"].get(gid, gid)
    lists = g["lists"]
    colours = {lst["list"]: PALETTE[i % len(PALETTE)] for i, lst in enumerate(lists)}
    seats: list[tuple[str, str]] = []
    for lst in lists:
        lname = names["lists"].get(lst["list"], lst["name"])
        seats += [(colours[lst["list"]], lname)] * lst["seats"]
    seats += [(VACANT, "vacant")] * g["vacant_seats"]
    b = g["ballots"]
    out = [f'<section class="group"><h2>Kiesgroep {_e(gname)}</h2>']
    if not g["vote_held"]:
        out.append(
            "<p class=note>Er zijn niet meer kandidaten dan zetels: er is in deze kiesgroep "
            "niet gestemd en alle kandidaten zijn gekozen (WOR art. 9).</p>"
        )
    out.append('<div class="row">')
    out.append(seat_chart(seats, f"Zetelverdeling {gname}: {g['seats']} zetels"))
    out.append(
        '<table class="lists"><thead><tr><th>Lijst</th><th>Stemmen</th><th>Zetels</th>'
        "</tr></thead><tbody>"
    )
    for lst in lists:
        lname = names["lists"].get(lst["list"], lst["name"])
        kind = {"union": "vakbond", "free": "vrije lijst", "person": "kandidaten"}.get(
            lst["kind"], lst["kind"]
        )
        out.append(
            f'<tr><td><span class="sw" style="background:{colours[lst["list"]]}"></span>'
            f"{_e(lname)} <small>({_e(kind)})</small></td>"
            f'<td class="num">{lst["votes"] if g["vote_held"] else "–"}</td>'
            f'<td class="num">{lst["seats"]}</td></tr>'
        )
    if g["vacant_seats"]:
        out.append(
            f'<tr><td><span class="sw" style="background:{VACANT}"></span>Vacant</td>'
            f'<td></td><td class="num">{g["vacant_seats"]}</td></tr>'
        )
    out.append("</tbody></table></div>")
    if g["vote_held"]:
        eligible = turnout.get("eligible")
        out.append(
            "<p class=stats>"
            f"Opkomst: <b>{turnout.get('voted', 0)}</b> van "
            f"{eligible if eligible is not None else '?'}"
            f" kiesgerechtigden ({_pct(turnout.get('voted', 0), eligible)}) · "
            f"geldig: {b['valid']} · blanco: {b['blank']} · ongeldig: {b['invalid']}"
        )
        appo = g.get("apportionment")
        if appo and appo.get("quota"):
            out.append(f" · kiesdeler: {_e(appo['quota']['display'])}")
        out.append("</p>")
        if b["invalid_reasons"]:
            reasons = ", ".join(
                f"{_e(REASONS_NL.get(r['reason'], r['reason']))} ({r['count']})"
                for r in b["invalid_reasons"]
            )
            out.append(f"<p class=small>Ongeldige stemmen: {reasons}</p>")
    votes = {c["candidate"]: c["votes"] for c in g["candidates"]}
    out.append('<div class="cands">')
    for lst in lists:
        lname = names["lists"].get(lst["list"], lst["name"])
        out.append(
            f'<div class="list"><h3><span class="sw" style="background:'
            f'{colours[lst["list"]]}"></span>{_e(lname)}</h3>'
        )
        if lst["elected"]:
            out.append("<p><b>Gekozen</b></p><ol>")
            for c in lst["elected"]:
                v = f" <small>({votes.get(c, 0)} stemmen)</small>" if g["vote_held"] else ""
                out.append(f"<li>{_e(names['candidates'].get(c, c))}{v}</li>")
            out.append("</ol>")
        if lst["successors"]:
            out.append("<p><b>Opvolgers</b></p><ol>")
            for c in lst["successors"]:
                out.append(
                    f"<li>{_e(names['candidates'].get(c, c))} "
                    f"<small>({votes.get(c, 0)} stemmen)</small></li>"
                )
            out.append("</ol>")
        out.append("</div>")
    out.append("</div>")
    steps = (g.get("apportionment") or {}).get("steps") or []
    if steps:
        out.append("<details><summary>Verdeling van de restzetels, stap voor stap</summary><ol>")
        for s in steps:
            out.append(f"<li>{_e(s['note'])}</li>")
        out.append("</ol></details>")
    out.append("</section>")
    return "".join(out)


def _consultation_section(c: dict[str, Any], names: dict[str, Any]) -> str:
    out = ['<section class="group"><h2>Uitslag van de raadpleging</h2>']
    b = c["ballots"]
    out.append(
        f"<p class=stats>Uitgebrachte stemmen: {b['total']} · geldig: {b['valid']} · "
        f"ongeldig: {b['invalid']}</p>"
    )
    for q in c["questions"]:
        qn = names["questions"].get(q["question"], {})
        out.append(f"<h3>{_e(qn.get('text', q['question']))}</h3><table class=lists><tbody>")
        for o in q["options"]:
            label = qn.get("options", {}).get(o["option"], o["option"])
            pct = (o["percent"] or "0.00").replace(".", ",")
            width = float(o["percent"] or 0)
            out.append(
                f"<tr><td>{_e(label)}</td><td class=num>{o['count']}</td>"
                f'<td class="bar"><span style="width:{min(width, 100):.1f}%"></span>'
                f"{pct}%</td></tr>"
            )
        out.append(
            f"</tbody></table><p class=small>Beantwoord door {q['answered']}, "
            f"blanco {q['blank']}.</p>"
        )
    out.append("</section>")
    return "".join(out)


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
color:#1a1a1a;background:#f6f6f4}
header{background:#1f3b57;color:#fff;padding:1.5rem 2rem}
header h1{margin:0 0 .3rem;font-size:1.8rem}
main{max-width:1100px;margin:0 auto;padding:1rem 2rem 3rem}
.group{background:#fff;border-radius:10px;
padding:1rem 1.5rem;margin:1.2rem 0;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.row{display:flex;flex-wrap:wrap;gap:2rem;align-items:center}
.chart{width:320px;max-width:100%}
.chart .total{font-size:28px;font-weight:700;fill:#333}
table.lists{border-collapse:collapse;min-width:320px}
table.lists td,table.lists th{padding:.35rem .7rem;border-bottom:1px solid #eee;text-align:left}
.num{text-align:right!important}
.sw{display:inline-block;width:.9em;height:.9em;
border-radius:50%;margin-right:.45em;vertical-align:-1px}
.cands{display:flex;flex-wrap:wrap;gap:1rem 2.5rem}
.list h3{margin:.8rem 0 .2rem;font-size:1.05rem}
.list ol{margin:.1rem 0 .4rem 1.2rem;padding:0}
.list p{margin:.3rem 0 0}
.stats{color:#333}
.small,small{color:#666;font-size:.9em}
.note{background:#fff7d6;padding:.6rem;border-radius:6px}
.bar{min-width:200px}
.bar span{display:inline-block;height:.8em;background:#1f5fa8;margin-right:.5em}
footer{max-width:1100px;margin:0 auto;padding:0 2rem 2rem;color:#444}
code{background:#eee;padding:.1rem .3rem}
"""


def render(
    *,
    name: str,
    organisation: str,
    result: dict[str, Any],
    names: dict[str, Any],
    record_url: str,
    result_index: int,
) -> str:
    turnout = {t["group"]: t for t in result.get("turnout", [])}
    body: list[str] = []
    if result.get("kind") == "consultation" and result.get("consultation"):
        body.append(_consultation_section(result["consultation"], names))
    else:
        total = sum(g["seats"] for g in result["groups"])
        elected = sum(len(g["elected"]) for g in result["groups"])
        body.append(
            f"<p class=stats>{total} zetels, {elected} gekozen leden, "
            f"{len(result['groups'])} kiesgroep(en).</p>"
        )
        for g in result["groups"]:
            body.append(_group_section(g, names, turnout.get(g["group"], {})))
    draws = result.get("lot", {}).get("draws", [])
    if draws:
        body.append(
            "<section class=group><h2>Loting</h2><p>Bij gelijke stand besliste het lot, "
            "dat iedereen kan naspelen (zie hieronder).</p><ol>"
        )
        for d in draws:
            body.append(
                f"<li>{_e(d['purpose'])}: gekozen {_e(', '.join(d['chosen']))} uit "
                f"{_e(', '.join(d['options']))}</li>"
            )
        body.append("</ol></section>")
    return f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Uitslag {_e(name)}</title><style>{CSS}</style></head>
<body><header><h1>Uitslag: {_e(name)}</h1><div>{_e(organisation)}</div></header>
<main>{"".join(body)}</main>
<footer><h2>Zelf controleren</h2>
<p>Deze uitslag staat als regel {result_index} in het openbare logboek van de verkiezing. Iedereen
kan de hele verkiezing narekenen: elke stem, elke handtekening en elke stap van de
zetelverdeling. Download het <a href="{_e(record_url)}">verkiezingsdossier</a> en controleer het
met <code>stembus verify {_e(record_url)}</code>. Wie gestemd heeft, controleert met het
ontvangstbewijs of de eigen stem is meegeteld: <code>stembus verify-receipt bewijs.json
--url {_e(record_url)}</code>.</p>
<p class=small>Het lot is afgeleid van de wortel van het logboek bij het sluiten van de stemming
(checkpoint {result["lot_checkpoint"]["size"]}, {_e(result["lot_checkpoint"]["root"][:16])}…).</p>
</footer></body></html>
"""
