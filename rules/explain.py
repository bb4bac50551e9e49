"""The words of a result, in Dutch and English, from the rules core.

Every sentence that explains a result — a step of the seat allocation, why seats stay vacant, the
method and its thresholds, how the lot is seeded — is made here from the structured ``result``
entry (rules.tally), so the results page, the proces-verbaal, the CLI and the record say the same
thing. The record's ``note`` of a step is :func:`step_text` in English with ids as names
(rules.apportionment sets it), so the verifier recomputes the very sentence the page shows with
display names.

Pure: no I/O; ``name`` maps a list id to what should be shown (a display name, or the id itself).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")
Namer = Callable[[str], str]


def _same(x: str) -> str:
    return x


def lang_of(value: str | None) -> Lang:
    """``"en"`` for an English choice (``en``, ``en-GB``, …), else Dutch (the default)."""
    return "en" if (value or "").strip().lower().startswith("en") else "nl"


def pick_lang(query: str | None, accept_language: str | None) -> Lang:
    """``?lang=`` wins; otherwise the first of nl/en in Accept-Language (RFC 9110 12.5.4, by
    q-value); otherwise Dutch."""
    if query:
        return lang_of(query)
    best: tuple[float, int, Lang] | None = None
    for pos, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        primary = tag.split("-")[0]
        if primary not in LANGS:
            continue
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k.strip() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        cand = (-q, pos, primary)
        if best is None or cand < best:
            best = cand  # type: ignore[assignment]
    return best[2] if best else "nl"


def join(items: Sequence[str], lang: Lang) -> str:
    """``a, b and c`` / ``a, b en c``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    word = " and " if lang == "en" else " en "
    return ", ".join(items[:-1]) + word + items[-1]


def display(x: dict[str, str] | None) -> str:
    """The display form of an exact fraction from the result (``"53 1/3"``)."""
    return "–" if x is None else x["display"]


def seats_word(n: int, lang: Lang) -> str:
    if lang == "en":
        return f"{n} seat" if n == 1 else f"{n} seats"
    return f"{n} zetel" if n == 1 else f"{n} zetels"


def votes_word(n: int, lang: Lang) -> str:
    if lang == "en":
        return f"{n} vote" if n == 1 else f"{n} votes"
    return f"{n} stem" if n == 1 else f"{n} stemmen"


def candidates_word(n: int, lang: Lang) -> str:
    if lang == "en":
        return f"{n} candidate" if n == 1 else f"{n} candidates"
    return f"{n} kandidaat" if n == 1 else f"{n} kandidaten"


METHOD_NAMES: dict[str, dict[Lang, str]] = {
    "largest_remainder": {"nl": "grootste overschotten", "en": "largest remainders"},
    "highest_averages": {
        "nl": "grootste gemiddelden (d'Hondt)",
        "en": "highest averages (D'Hondt)",
    },
}


def method_text(appo: dict[str, Any], lang: Lang) -> str:
    """The method and its threshold by name, as the committee's regulation chose them."""
    method = appo["method"]
    name = METHOD_NAMES.get(method, {"nl": method, "en": method})[lang]
    thr = appo.get("remainder_threshold") or {"value": "0", "display": "0"}
    if method != "largest_remainder":
        if lang == "en":
            return (
                f"Residual seats by {name}: each in turn to the list with the highest average "
                "votes / (seats so far + 1). No remainder threshold applies."
            )
        return (
            f"Restzetels volgens de methode van de {name}: telkens naar de lijst met het "
            "grootste gemiddelde stemmen / (zetels tot dan + 1). Er geldt geen drempel."
        )
    if thr["value"] == "0":
        limit_en, limit_nl = "every list with votes", "elke lijst met stemmen"
    else:
        tv = display(appo.get("threshold_votes"))
        limit_en = f"lists with at least {thr['display']} of the quota ({tv} votes)"
        limit_nl = f"lijsten met ten minste {thr['display']} van de kiesdeler ({tv} stemmen)"
    if lang == "en":
        return (
            f"Residual seats by {name}: at most one per list, to {limit_en}; seats still left "
            "after that go by highest averages."
        )
    return (
        f"Restzetels volgens de methode van de {name}: hoogstens één per lijst, voor "
        f"{limit_nl}; zetels die daarna nog over zijn gaan volgens de grootste gemiddelden."
    )


def excluded_lists(appo: dict[str, Any]) -> list[str]:
    """Lists (ids) that did not reach the remainder threshold (largest remainders only)."""
    if appo.get("method") != "largest_remainder" or appo.get("quota") is None:
        return []
    thr = (appo.get("remainder_threshold") or {}).get("value", "0")
    if thr == "0":
        return []
    return [lst["list"] for lst in appo["lists"] if not lst["meets_threshold"]]


def excluded_text(appo: dict[str, Any], lang: Lang, name: Namer = _same) -> str | None:
    """Why the lists below the remainder threshold take no residual seat by remainder."""
    out = excluded_lists(appo)
    if not out:
        return None
    thr, tv = appo["remainder_threshold"]["display"], display(appo.get("threshold_votes"))
    who = join([name(x) for x in out], lang)
    if lang == "en":
        return (
            f"{who} did not reach the remainder threshold of {thr} of the quota ({tv} votes) "
            "and take(s) no residual seat by remainder."
        )
    return (
        f"{who} haalde(n) de drempel van {thr} van de kiesdeler ({tv} stemmen) niet en "
        "krijgt/krijgen geen restzetel op grond van het overschot."
    )


def _left_before(step: dict[str, Any], seats: int) -> int:
    return seats - sum(s["seats"] for s in step["standings"])


def step_text(step: dict[str, Any], lang: Lang, seats: int, name: Namer = _same) -> str:
    """One step of the seat allocation (rules.apportionment ``ApportionmentStep.to_dict()``)."""
    kind, reason = step["kind"], step["reason"]
    chosen = name(step["chosen"]) if step.get("chosen") else ""
    value = display(step.get("value"))
    label = {
        "en": "remainder" if step["phase"] == "largest_remainder" else "average",
        "nl": "overschot" if step["phase"] == "largest_remainder" else "gemiddelde",
    }[lang]
    if kind == "seat_given_back":
        st = next(s for s in step["standings"] if s["list"] == step["chosen"])
        back, full, cands = step["seats_given_back"], st["full_seats"], st["candidates"]
        if lang == "en":
            return (
                f"list {chosen} won {full} full seats but has {cands} candidates: {back} seat(s) "
                "given back"
            )
        return (
            f"lijst {chosen} behaalde {full} volle zetels maar heeft {cands} kandidaten: {back} "
            "zetel(s) teruggegeven (lijstuitputting)"
        )
    if kind == "vacant":
        left = _left_before(step, seats)
        zero = [
            name(s["list"]) for s in step["standings"] if s["votes"] == 0 and not s["exhausted"]
        ]
        if lang == "en":
            text = (
                "no list with votes has candidates left"
                if zero
                else "no list has candidates left to take a seat"
            )
            if zero:
                text += (
                    f"; {join(zero, lang)} received no votes and takes no seat (a list nobody "
                    "voted for has no mandate)"
                )
            return text + f": {left} seat(s) vacant"
        text = (
            "geen lijst met stemmen heeft nog kandidaten over"
            if zero
            else "geen lijst heeft nog kandidaten over voor een zetel"
        )
        if zero:
            text += (
                f"; {join(zero, lang)} kreeg geen stemmen en krijgt geen zetel (een lijst waarop "
                "niemand stemde heeft geen mandaat)"
            )
        return text + f": {left} zetel(s) blijven vacant"
    options = [name(x) for x in step["options"]]
    if reason == "lot":
        left = _left_before(step, seats)
        draw = (step.get("lot_draw") or {}).get("number")
        if lang == "en":
            text = (
                f"{', '.join(options)} have the same {label} {value} for {left} seat(s): "
                f"lot draw {draw} gives this seat to {chosen}"
            )
        else:
            text = (
                f"{join(options, lang)} hebben hetzelfde {label} {value} voor {left} "
                f"zetel(s): loting {draw} geeft deze zetel aan {chosen}"
            )
    else:
        if lang == "en":
            word = "largest" if reason == "largest_remainder" else "highest"
            text = f"{chosen} has the {word} {label} {value}"
        else:
            text = f"{chosen} heeft het grootste {label} {value}"
        others = [name(x) for x in step["options"] if x != step["chosen"]]
        if others:
            if lang == "en":
                text += f" (equal with {', '.join(others)}; each gets a seat, no lot needed)"
            else:
                text += (
                    f" (gelijk met {join(others, lang)}; elk krijgt een zetel, geen loting nodig)"
                )
    if step.get("all_lists_considered"):
        text += (
            " (every list that met the threshold is exhausted: all lists considered)"
            if lang == "en"
            else " (elke lijst die de drempel haalde is uitgeput: alle lijsten meegeteld)"
        )
    return text


def no_vote_text(group: dict[str, Any], lang: Lang) -> str:
    """A kiesgroep without a vote: its candidates are elected without a vote (docs/rules.md)."""
    n = len(group["elected"])
    vacant = group["vacant_seats"]
    cands, seats = candidates_word(n, lang), seats_word(group["seats"], lang)
    if lang == "en":
        text = (
            f"No vote was held: {cands} for {seats}, so every candidate is elected without a "
            "vote (no more candidates than seats)"
        )
        stay = "stays" if vacant == 1 else "stay"
        return text + (f"; {seats_word(vacant, lang)} {stay} vacant." if vacant else ".")
    text = (
        f"Er is niet gestemd: {cands} voor {seats}, dus alle kandidaten zijn zonder stemming "
        "gekozen (niet meer kandidaten dan zetels)"
    )
    stay = "blijft" if vacant == 1 else "blijven"
    return text + (f"; {seats_word(vacant, lang)} {stay} vacant." if vacant else ".")


def preference_text(group: dict[str, Any], lang: Lang) -> str | None:
    """How candidates within a list were elected (preference threshold), list system only."""
    appo = group.get("apportionment")
    if not appo or appo.get("quota") is None or not group["lists"]:
        return None
    ce = group["lists"][0]["candidate_election"]
    pt, tv = display(ce.get("preference_threshold")), display(ce.get("threshold_votes"))
    if lang == "en":
        return (
            f"Within a list, candidates with at least {pt} of the quota ({tv} votes, the "
            "preference threshold) take its seats first, in order of votes; the list's other "
            "seats go by list order. Successors follow in that same order."
        )
    return (
        f"Binnen een lijst krijgen kandidaten met ten minste {pt} van de kiesdeler ({tv} "
        "stemmen, de voorkeursdrempel) als eerste een zetel, op volgorde van stemmen; de "
        "overige zetels van de lijst gaan op volgorde van de lijst. Opvolgers volgen in "
        "diezelfde volgorde."
    )


def candidate_reason(reason: str, lang: Lang) -> str:
    return {
        "preference_votes": {"nl": "voorkeursstemmen", "en": "preference votes"},
        "list_order": {"nl": "lijstvolgorde", "en": "list order"},
        "most_votes": {"nl": "meeste stemmen", "en": "most votes"},
        "lot": {"nl": "loting", "en": "lot"},
    }.get(reason, {"nl": reason, "en": reason})[lang]


def group_note_texts(group: dict[str, Any], lang: Lang) -> list[str]:
    """The group-level notes of the result (vacant seats, no valid votes) in ``lang``."""
    out: list[str] = []
    appo = group.get("apportionment")
    if group["vote_held"] and appo and appo.get("quota") is None:
        out.append(
            "There were no valid votes: no seats are assigned, all seats stay vacant."
            if lang == "en"
            else "Er waren geen geldige stemmen: er zijn geen zetels toegewezen, alle zetels "
            "blijven vacant."
        )
    if (
        group["vote_held"]
        and appo
        and appo.get("quota") is not None
        and appo["method"] == "largest_remainder"
        and appo["lists"]
        and not any(x["meets_threshold"] for x in appo["lists"])
    ):
        out.append(
            "No list reached the remainder threshold: the residual seats go by highest averages "
            "among all lists."
            if lang == "en"
            else "Geen lijst haalde de drempel voor restzetels: de restzetels gaan volgens de "
            "grootste gemiddelden naar alle lijsten."
        )
    pe = group.get("person_election")
    if pe and pe.get("vacant_seats"):
        v = pe["vacant_seats"]
        out.append(
            f"{v} seat(s) stay vacant: too few candidates received votes (a candidate nobody "
            "voted for is not elected)."
            if lang == "en"
            else f"{v} zetel(s) blijven vacant: te weinig kandidaten kregen stemmen (een "
            "kandidaat op wie niemand stemde, is niet gekozen)."
        )
    return out


def lot_seed_text(lot_checkpoint: dict[str, Any] | None, lang: Lang) -> str:
    """How the lot is seeded and how anyone re-checks it (docs/protocol.md "Tally", rules.lot)."""
    if not lot_checkpoint:
        return (
            "No lot was needed: no vote was held."
            if lang == "en"
            else "Er was geen loting nodig: er is niet gestemd."
        )
    size, root = lot_checkpoint["size"], lot_checkpoint["root"]
    if lang == "en":
        return (
            "The lot is a deterministic generator that nobody could know in advance: its seed is "
            'SHA-256 of the text "stembus/lot/v1" followed by the root hash of the first public '
            f"checkpoint after voting closed (size {size}, root {root}). Everyone can redo every "
            "draw: `stembus verify` on the election record recomputes the seed, the draws and the "
            "whole result."
        )
    return (
        "Het lot is een vaste rekenregel die niemand vooraf kon kennen: het startgetal is "
        'SHA-256 van de tekst "stembus/lot/v1" gevolgd door de wortel (root hash) van het eerste '
        f"openbare checkpoint na het sluiten van de stemming (grootte {size}, wortel {root}). "
        "Iedereen kan elke trekking naspelen: `stembus verify` op het verkiezingsdossier "
        "berekent het startgetal, de trekkingen en de hele uitslag opnieuw."
    )
