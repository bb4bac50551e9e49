"""Seat allocation in the list system and election of candidates.

The WOR fixes the number of seats (art. 6) and who submits candidate lists per kiesgroep (art. 9);
how seats are allocated and who is elected is left to the works council's own election regulation
(verkiezingsreglement; art. 10 leaves candidacy and the result to it). So every rule below is the
regulation's, as docs/rules.md "Seat allocation in the list system" and "Candidates elected within a
list" set them, with the committee's settings.

Like kiesraad/abacus, the arithmetic is exact (``fractions.Fraction``) and the result is an
explanation: the quota (kiesdeler), the full seats and remainders, and one step per residual seat
with the standings it was decided on, the options it was chosen between and why. The committee
shows this to employees and the verifier recomputes it byte for byte.

Interpretations where docs/rules.md is silent (kept stable, part of the v1 contract):

* A list with no votes never receives a seat, not even one that an exhausted list gives back;
  a seat no list with votes can take stays vacant (docs/rules.md "Zero votes"). Example: A 10
  votes and 1 candidate, B 0 votes and 5 candidates, 3 seats → A 1, 2 vacant. Why: a seat is a
  mandate from the voters, and the allocation measures it in votes (quota, remainders,
  averages); a list nobody voted for has a remainder and an average of 0, so no mandate to give.
  Filling such seats from it would elect people no voter chose. The OR may hold a by-election
  under its regulation.
* Seats given back by an exhausted list (lijstuitputting) continue the same method among the
  other lists; when every list that met the remainder threshold is exhausted, the remaining seats
  go by highest averages among all lists that can still take one (recorded in the step).
* Equal values competing for as many seats as there are tied lists need no lot (each gets one);
  the seat goes to the first in ballot order and the step names all tied lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from rules.explain import step_text
from rules.lot import Lot

Method = Literal["largest_remainder", "highest_averages"]
METHODS: tuple[str, ...] = ("largest_remainder", "highest_averages")


class LotRequired(RuntimeError):
    """A tie must be broken by lot but no :class:`Lot` was given."""


def fraction_json(x: Fraction | int | None) -> dict[str, str] | None:
    """Exact value as ``"160/3"`` plus a display value as a mixed number ``"53 1/3"``."""
    if x is None:
        return None
    x = Fraction(x)
    if x.denominator == 1:
        return {"value": str(x.numerator), "display": str(x.numerator)}
    whole, rest = divmod(abs(x.numerator), x.denominator)
    sign = "-" if x < 0 else ""
    display = f"{sign}{whole} {rest}/{x.denominator}" if whole else f"{sign}{rest}/{x.denominator}"
    return {"value": f"{x.numerator}/{x.denominator}", "display": display}


def _fmt(x: Fraction) -> str:
    d = fraction_json(x)
    assert d is not None
    return d["display"]


# --------------------------------------------------------------------------- seat allocation


@dataclass
class ListStanding:
    """One list's position at a moment of the allocation."""

    list_id: str
    votes: int
    candidates: int
    full_seats: int
    residual_seats: int
    seats: int
    remainder: Fraction
    average: Fraction  # votes / (seats + 1): what the next seat would "cost" (d'Hondt)
    meets_threshold: bool
    exhausted: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "list": self.list_id,
            "votes": self.votes,
            "candidates": self.candidates,
            "full_seats": self.full_seats,
            "residual_seats": self.residual_seats,
            "seats": self.seats,
            "remainder": fraction_json(self.remainder),
            "average": fraction_json(self.average),
            "meets_threshold": self.meets_threshold,
            "exhausted": self.exhausted,
        }


StepKind = Literal["seat_given_back", "residual_seat", "vacant"]
Reason = Literal[
    "list_exhausted", "largest_remainder", "highest_average", "lot", "no_list_can_take_seat"
]


@dataclass
class ApportionmentStep:
    """One event of the allocation: a seat given back, a residual seat assigned, or left vacant."""

    number: int
    kind: StepKind
    reason: Reason
    phase: str  # "full_seats" | "largest_remainder" | "highest_averages"
    chosen: str | None
    options: list[str]
    value: Fraction | None  # the largest remainder / highest average the options share
    standings: list[ListStanding]
    note: str
    lot_draw: dict[str, Any] | None = None
    seats_given_back: int = 0
    all_lists_considered: bool = False  # the threshold's lists are exhausted: all lists compete

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "reason": self.reason,
            "phase": self.phase,
            "chosen": self.chosen,
            "options": list(self.options),
            "value": fraction_json(self.value),
            "standings": [s.to_dict() for s in self.standings],
            "note": self.note,
            "lot_draw": self.lot_draw,
            "seats_given_back": self.seats_given_back,
            "all_lists_considered": self.all_lists_considered,
        }


@dataclass
class Apportionment:
    """The whole allocation of one kiesgroep, with every step."""

    seats: int
    method: str
    remainder_threshold: Fraction
    valid: int
    blank: int
    invalid: int
    votes: dict[str, int]
    candidates: dict[str, int]
    quota: Fraction | None
    threshold_votes: Fraction | None
    full_seats: dict[str, int]
    remainders: dict[str, Fraction]
    meets_threshold: dict[str, bool]
    steps: list[ApportionmentStep]
    seats_per_list: dict[str, int]
    vacant_seats: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        lists = []
        for lid in self.votes:
            lists.append(
                {
                    "list": lid,
                    "votes": self.votes[lid],
                    "candidates": self.candidates[lid],
                    "full_seats": self.full_seats[lid],
                    "remainder": fraction_json(self.remainders[lid]),
                    "meets_threshold": self.meets_threshold[lid],
                    "seats": self.seats_per_list[lid],
                }
            )
        return {
            "seats": self.seats,
            "method": self.method,
            "remainder_threshold": fraction_json(self.remainder_threshold),
            "votes": {"valid": self.valid, "blank": self.blank, "invalid": self.invalid},
            "quota": fraction_json(self.quota),
            "threshold_votes": fraction_json(self.threshold_votes),
            "lists": lists,
            "steps": [s.to_dict() for s in self.steps],
            "seats_per_list": dict(self.seats_per_list),
            "vacant_seats": self.vacant_seats,
            "notes": list(self.notes),
        }


def apportion_seats(
    votes: dict[str, int],
    seats: int,
    candidates_per_list: dict[str, int],
    method: str = "largest_remainder",
    remainder_threshold: Fraction = Fraction(0),
    lot: Lot | None = None,
    blank: int = 0,
    invalid: int = 0,
) -> Apportionment:
    """Allocate ``seats`` among the lists of one kiesgroep (the election regulation; docs/rules.md
    "Seat allocation in the list system").

    ``votes`` maps list id → votes, in ballot order (ties without lot and all listings follow
    it). ``quota = valid / seats`` (kiesdeler), ``full = floor(votes / quota)``,
    ``remainder = votes − full·quota``. Residual seats:

    * ``largest_remainder``: the largest remainders, at most one per list, among lists with
      ``votes ≥ remainder_threshold·quota``; seats still left go by highest averages among the
      lists that met the threshold (all lists if none did).
    * ``highest_averages`` (d'Hondt): repeatedly the largest ``votes / (seats so far + 1)``.
      The threshold does not apply.

    Equal values competing for fewer seats are decided by ``lot`` (recorded). A list that wins
    more seats than it has candidates gives the extra back (lijstuitputting) and they continue
    by the same method among the others.
    """
    if method not in METHODS:
        raise ValueError(f"unknown residual method {method!r}")
    if seats < 0:
        raise ValueError("seats must not be negative")
    threshold = Fraction(remainder_threshold)
    if threshold < 0:
        raise ValueError("remainder_threshold must not be negative")
    for lid, v in votes.items():
        if v < 0:
            raise ValueError(f"negative votes for list {lid}")
        if candidates_per_list.get(lid, -1) < 0:
            raise ValueError(f"no candidate count for list {lid}")
    lists = list(votes)
    cands = {lid: candidates_per_list[lid] for lid in lists}
    valid = sum(votes.values())
    notes: list[str] = []
    zeros = {lid: 0 for lid in lists}

    if valid == 0 or seats == 0:
        notes.append(
            "no valid votes: no seats assigned, all seats vacant"
            if valid == 0
            else "no seats to assign"
        )
        return Apportionment(
            seats=seats,
            method=method,
            remainder_threshold=threshold,
            valid=valid,
            blank=blank,
            invalid=invalid,
            votes=dict(votes),
            candidates=cands,
            quota=None,
            threshold_votes=None,
            full_seats=dict(zeros),
            remainders={lid: Fraction(0) for lid in lists},
            meets_threshold={lid: False for lid in lists},
            steps=[],
            seats_per_list=dict(zeros),
            vacant_seats=seats,
            notes=notes,
        )

    quota = Fraction(valid, seats)
    # floor(votes / quota) == votes·seats // valid, exact in integers.
    full = {lid: votes[lid] * seats // valid for lid in lists}
    remainder = {lid: votes[lid] - full[lid] * quota for lid in lists}
    use_threshold = method == "largest_remainder"
    threshold_votes = threshold * quota if use_threshold else None
    meets = {lid: (votes[lid] >= threshold * quota) if use_threshold else True for lid in lists}
    current = dict(full)
    residual = {lid: 0 for lid in lists}
    steps: list[ApportionmentStep] = []

    def standings() -> list[ListStanding]:
        return [
            ListStanding(
                list_id=lid,
                votes=votes[lid],
                candidates=cands[lid],
                full_seats=full[lid],
                residual_seats=residual[lid],
                seats=current[lid],
                remainder=remainder[lid],
                average=Fraction(votes[lid], current[lid] + 1),
                meets_threshold=meets[lid],
                exhausted=current[lid] >= cands[lid],
            )
            for lid in lists
        ]

    # Lijstuitputting at the full seats (the election regulation; docs/rules.md "list exhaustion").
    for lid in lists:
        if full[lid] > cands[lid]:
            back = full[lid] - cands[lid]
            current[lid] = cands[lid]
            steps.append(
                ApportionmentStep(
                    number=len(steps) + 1,
                    kind="seat_given_back",
                    reason="list_exhausted",
                    phase="full_seats",
                    chosen=lid,
                    options=[lid],
                    value=None,
                    standings=standings(),
                    note="",
                    seats_given_back=back,
                )
            )

    left = seats - sum(current.values())

    def can_take(lid: str) -> bool:
        return votes[lid] > 0 and current[lid] < cands[lid]

    lot_winners: list[str] = []
    lot_draw: dict[str, Any] = {}

    def assign(
        phase: str, pool: list[str], values: dict[str, Fraction], label: str, widened: bool = False
    ) -> None:
        nonlocal left
        snapshot = standings()
        best = max(values[lid] for lid in pool)
        tied = [lid for lid in pool if values[lid] == best]
        draw = None
        if len(tied) > left:
            # Every remaining seat goes to one of the tied lists (one each: a list's remainder
            # is used once, its average drops after a seat), so one draw decides them all.
            if not lot_winners:
                if lot is None:
                    raise LotRequired(f"{label} tie between {', '.join(tied)} needs the lot")
                seat_no = seats - left + 1
                purpose = (
                    f"seats {seat_no}-{seats}" if left > 1 else f"seat {seat_no}"
                ) + f": {left} of {len(tied)} lists with equal {label} {_fmt(best)} ({phase})"
                lot_winners.extend(lot.choose(tied, left, purpose=purpose))
                lot_draw.clear()
                lot_draw.update(lot.draws[-1].to_dict())
            chosen = lot_winners.pop(0)
            if chosen not in tied:  # pragma: no cover - guarded by the argument above
                raise AssertionError("lot winner no longer among the tied lists")
            draw = dict(lot_draw)
            reason: Reason = "lot"
        else:
            chosen = tied[0]
            reason = "largest_remainder" if phase == "largest_remainder" else "highest_average"
        current[chosen] += 1
        residual[chosen] += 1
        left -= 1
        steps.append(
            ApportionmentStep(
                number=len(steps) + 1,
                kind="residual_seat",
                reason=reason,
                phase=phase,
                chosen=chosen,
                options=tied,
                value=best,
                standings=snapshot,
                note="",
                lot_draw=draw,
                all_lists_considered=widened,
            )
        )

    def averages() -> dict[str, Fraction]:
        return {lid: Fraction(votes[lid], current[lid] + 1) for lid in lists}

    ha_base = lists
    if method == "largest_remainder":
        # The election regulation (docs/rules.md): largest remainders, at most one residual seat
        # per list, only for lists that reached threshold·quota.
        had_lr_seat: set[str] = set()
        while left > 0:
            pool = [lid for lid in lists if meets[lid] and lid not in had_lr_seat and can_take(lid)]
            if not pool:
                break
            before = dict(residual)
            assign("largest_remainder", pool, remainder, "remainder")
            had_lr_seat.update(lid for lid in lists if residual[lid] > before[lid])
        met = [lid for lid in lists if meets[lid]]
        ha_base = met if met else lists
        if not met:
            notes.append("no list met the remainder threshold: residual seats by highest averages")

    while left > 0:
        pool = [lid for lid in ha_base if can_take(lid)]
        widened = False
        if not pool:
            pool = [lid for lid in lists if can_take(lid)]
            widened = True
        if not pool:
            steps.append(
                ApportionmentStep(
                    number=len(steps) + 1,
                    kind="vacant",
                    reason="no_list_can_take_seat",
                    phase="highest_averages",
                    chosen=None,
                    options=[],
                    value=None,
                    standings=standings(),
                    note="",
                )
            )
            break
        assign("highest_averages", pool, averages(), "average", widened)

    # The note of each step: the same sentence the results page shows (rules.explain), in
    # English with list ids, so the verifier recomputes it with the step.
    for step in steps:
        step.note = step_text(step.to_dict(), "en", seats)
    return Apportionment(
        seats=seats,
        method=method,
        remainder_threshold=threshold,
        valid=valid,
        blank=blank,
        invalid=invalid,
        votes=dict(votes),
        candidates=cands,
        quota=quota,
        threshold_votes=threshold_votes,
        full_seats=full,
        remainders=remainder,
        meets_threshold=meets,
        steps=steps,
        seats_per_list=current,
        vacant_seats=left,
        notes=notes,
    )


# --------------------------------------------------------------------------- within a list


@dataclass
class CandidateStep:
    """How one candidate got a seat (or a successor place)."""

    position: int  # 1-based place in the ranking
    candidate: str
    votes: int
    reason: Literal["preference_votes", "list_order", "most_votes", "lot"]
    elected: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "candidate": self.candidate,
            "votes": self.votes,
            "reason": self.reason,
            "elected": self.elected,
        }


@dataclass
class CandidateElection:
    """Elected candidates and successors (opvolgers) of one list, or of the person system."""

    seats: int
    elected: list[str]
    successors: list[str]
    steps: list[CandidateStep]
    preference_threshold: Fraction | None = None
    threshold_votes: Fraction | None = None
    vacant_seats: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seats": self.seats,
            "preference_threshold": fraction_json(self.preference_threshold),
            "threshold_votes": fraction_json(self.threshold_votes),
            "elected": list(self.elected),
            "successors": list(self.successors),
            "steps": [s.to_dict() for s in self.steps],
            "vacant_seats": self.vacant_seats,
            "notes": list(self.notes),
        }


def elect_candidates(
    list_candidates: Sequence[tuple[str, int]],
    seats_won: int,
    quota: Fraction | None,
    preference_threshold: Fraction = Fraction(1, 2),
) -> CandidateElection:
    """Which candidates of one list take its seats (the election regulation; docs/rules.md
    "Candidates elected within a list").

    ``list_candidates`` is ``(candidate id, votes)`` in list order. Candidates with
    ``votes ≥ preference_threshold·quota`` take seats first, in order of votes (ties: list
    order); the list's remaining seats go to the others in list order. Successors are the
    unelected candidates in that same order.
    """
    ids = [c for c, _ in list_candidates]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate candidate on the list")
    if not 0 <= seats_won <= len(ids):
        raise ValueError("seats_won must be between 0 and the number of candidates")
    pt = Fraction(preference_threshold)
    threshold_votes = pt * quota if quota is not None else None
    indexed = list(enumerate(list_candidates))
    if threshold_votes is None:
        preferred: list[tuple[int, tuple[str, int]]] = []
    else:
        preferred = [item for item in indexed if item[1][1] >= threshold_votes]
    preferred.sort(key=lambda item: (-item[1][1], item[0]))
    preferred_ids = {item[1][0] for item in preferred}
    rest = [item for item in indexed if item[1][0] not in preferred_ids]
    steps = []
    for pos, (_, (cid, v)) in enumerate(preferred + rest, start=1):
        steps.append(
            CandidateStep(
                position=pos,
                candidate=cid,
                votes=v,
                reason="preference_votes" if cid in preferred_ids else "list_order",
                elected=pos <= seats_won,
            )
        )
    ranking = [s.candidate for s in steps]
    return CandidateElection(
        seats=seats_won,
        elected=ranking[:seats_won],
        successors=ranking[seats_won:],
        steps=steps,
        preference_threshold=pt,
        threshold_votes=threshold_votes,
    )


def elect_person_system(
    candidate_votes: dict[str, int], seats: int, lot: Lot | None = None
) -> CandidateElection:
    """Person system (personenstelsel; the election regulation, docs/rules.md "Voting systems").

    The candidates with the most votes are elected; equal votes straddling the last seat are
    ordered by lot. Successors are the unelected candidates in order of votes; equal votes among
    them are also ordered by lot (one recorded shuffle per group of equals). A candidate without
    votes is not elected; such seats stay vacant (and no seats at all without valid votes): the
    same reason as for a list without votes — no voter gave that candidate a mandate
    (docs/rules.md "Zero votes"). Candidates without votes still close the successors' list, in
    lot order, for a seat that falls vacant during the term, as the regulation decides.
    """
    if seats < 0:
        raise ValueError("seats must not be negative")
    # Groups of equal votes, highest first; within a group, ballot order until a lot decides.
    by_votes: dict[int, list[str]] = {}
    for cid, v in candidate_votes.items():
        if v < 0:
            raise ValueError(f"negative votes for {cid}")
        by_votes.setdefault(v, []).append(cid)
    with_votes = sum(1 for v in candidate_votes.values() if v > 0)
    to_elect = min(seats, with_votes)
    steps: list[CandidateStep] = []
    notes: list[str] = []
    placed = 0
    for v in sorted(by_votes, reverse=True):
        group = by_votes[v]
        start, end = placed, placed + len(group)
        needs_order = len(group) > 1 and not (end <= to_elect)
        # Order matters when the group straddles the last seat, or among successors.
        if needs_order:
            if lot is None:
                raise LotRequired(f"equal votes ({v}) between {', '.join(group)} need the lot")
            straddles = start < to_elect < end
            purpose = (
                f"person system: tie at the last seat, {len(group)} candidates with {v} votes"
                if straddles
                else f"person system: order of successors with {v} votes"
            )
            group = lot.shuffle(group, purpose=purpose)
            reason: Literal["most_votes", "lot"] = "lot"
            if straddles:
                notes.append(
                    f"{', '.join(by_votes[v])} have {v} votes for {to_elect - start} seat(s): "
                    f"lot draw {len(lot.draws)}"
                )
        else:
            reason = "most_votes"
        for cid in group:
            placed += 1
            steps.append(
                CandidateStep(
                    position=placed,
                    candidate=cid,
                    votes=v,
                    reason=reason,
                    elected=placed <= to_elect,
                )
            )
    ranking = [s.candidate for s in steps]
    vacant = seats - to_elect
    if vacant:
        notes.append(f"{vacant} seat(s) vacant: too few candidates with votes")
    return CandidateElection(
        seats=seats,
        elected=ranking[:to_elect],
        successors=ranking[to_elect:],
        steps=steps,
        vacant_seats=vacant,
        notes=notes,
    )
