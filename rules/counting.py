"""Counting of one kiesgroep or one consultation (docs/protocol.md "Tally"; docs/rules.md).

Input is the validated final ballots as ``(valid, reason, selections)`` triples (from
:func:`rules.ballot.validate_ballot`); output is a result whose :meth:`to_dict` is plain JSON —
lists in definition order, no floats (fractions as ``{"value": "160/3", "display": "53 1/3"}``)
— so the verifier can recompute it and compare the canonical bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from rules.apportionment import (
    Apportionment,
    CandidateElection,
    apportion_seats,
    elect_candidates,
    elect_person_system,
    fraction_json,
)
from rules.ballot import ConsultationDef, GroupDef, QuestionDef, is_skip, parse_definition
from rules.consultation import QuestionTally, percent_display  # noqa: F401 (re-exported)
from rules.lot import Lot

BallotRecord = tuple[bool, str | None, Any]


def vote_required(seats: int, candidates: int) -> bool:
    """A vote is held only when there are more candidates than seats: otherwise every candidate
    is elected without a vote (WOR practice, the election regulation; docs/rules.md "Candidate
    lists")."""
    return candidates > seats


def _reasons(counter: Counter[str]) -> list[dict[str, Any]]:
    return [{"reason": r, "count": counter[r]} for r in sorted(counter)]


def _as_fraction(x: Fraction | str | int) -> Fraction:
    return Fraction(x) if not isinstance(x, str) else Fraction(x.replace(" ", ""))


# --------------------------------------------------------------------------- works council


@dataclass
class ListResult:
    list_id: str
    name: str
    kind: str
    votes: int
    seats: int
    election: CandidateElection

    def to_dict(self) -> dict[str, Any]:
        return {
            "list": self.list_id,
            "name": self.name,
            "kind": self.kind,
            "votes": self.votes,
            "seats": self.seats,
            "elected": list(self.election.elected),
            "successors": list(self.election.successors),
            "candidate_election": self.election.to_dict(),
        }


@dataclass
class GroupResult:
    """The result of one kiesgroep."""

    group: str
    seats: int
    system: str
    vote_held: bool
    settings: dict[str, Any]
    ballots_total: int
    ballots_valid: int  # valid, not blank
    blank: int
    invalid: int
    invalid_reasons: Counter[str]
    candidate_votes: list[tuple[str, str, int, int]]  # (candidate, list, position, votes)
    lists: list[ListResult]
    apportionment: Apportionment | None
    person_election: CandidateElection | None
    elected: list[str]
    vacant_seats: int
    notes: list[str] = field(default_factory=list)

    @property
    def seats_per_list(self) -> dict[str, int]:
        return {lr.list_id: lr.seats for lr in self.lists}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "works_council",
            "group": self.group,
            "seats": self.seats,
            "system": self.system,
            "vote_held": self.vote_held,
            "settings": dict(self.settings),
            "ballots": {
                "total": self.ballots_total,
                "valid": self.ballots_valid,
                "blank": self.blank,
                "invalid": self.invalid,
                "invalid_reasons": _reasons(self.invalid_reasons),
            },
            "candidates": [
                {"candidate": c, "list": lid, "position": pos, "votes": v}
                for c, lid, pos, v in self.candidate_votes
            ],
            "lists": [lr.to_dict() for lr in self.lists],
            "apportionment": self.apportionment.to_dict() if self.apportionment else None,
            "person_election": self.person_election.to_dict() if self.person_election else None,
            "elected": list(self.elected),
            "vacant_seats": self.vacant_seats,
            "notes": list(self.notes),
        }


def count_works_council_group(
    definition_group: Any,
    ballots: Iterable[BallotRecord],
    *,
    residual_method: str = "largest_remainder",
    remainder_threshold: Fraction | str | int = Fraction(0),
    preference_threshold: Fraction | str | int = Fraction(1, 2),
    lot: Lot | None = None,
) -> GroupResult:
    """Count one kiesgroep and decide its seats and elected candidates (docs/rules.md).

    List system: votes per candidate and per list, :func:`apportion_seats`, then
    :func:`elect_candidates` per list. Person system: :func:`elect_person_system`. A group
    where no vote is held (no more candidates than seats, E7): every candidate is elected and
    the remaining seats stay vacant.
    """
    d = parse_definition(definition_group)
    if not isinstance(d, GroupDef):
        raise TypeError("not a works council group definition")
    rt, pt = _as_fraction(remainder_threshold), _as_fraction(preference_threshold)
    settings = {
        "residual_method": residual_method,
        "remainder_threshold": fraction_json(rt),
        "preference_threshold": fraction_json(pt),
    }
    ordered = [(lst, lst.ordered()) for lst in d.lists]
    list_of = {c.id: lst.id for lst, cs in ordered for c in cs}
    votes: Counter[str] = Counter()
    invalid_reasons: Counter[str] = Counter()
    total = blank = invalid = valid = 0
    for ok, reason, selections in ballots:
        total += 1
        if not ok:
            invalid += 1
            invalid_reasons[reason or "invalid"] += 1
            continue
        if not selections:
            blank += 1
            continue
        valid += 1
        for cid in selections:
            if cid not in list_of:
                raise ValueError(f"ballot marked valid names unknown candidate {cid}")
            votes[cid] += 1
    candidate_votes = [(c.id, lst.id, c.position, votes[c.id]) for lst, cs in ordered for c in cs]
    n_candidates = len(candidate_votes)
    notes: list[str] = []
    common: dict[str, Any] = {
        "group": d.group,
        "seats": d.seats,
        "system": d.system,
        "settings": settings,
        "ballots_total": total,
        "ballots_valid": valid,
        "blank": blank,
        "invalid": invalid,
        "invalid_reasons": invalid_reasons,
        "candidate_votes": candidate_votes,
        "notes": notes,
    }

    if not d.vote_held:
        # docs/rules.md "Candidate lists": no vote; all candidates elected, remaining seats vacant.
        if vote_required(d.seats, n_candidates):
            raise ValueError(f"group {d.group}: more candidates than seats, a vote is required")
        if total:
            notes.append(f"{total} ballot(s) received although no vote was held; not counted")
        lists = [
            ListResult(
                lst.id,
                lst.name,
                lst.kind,
                0,
                len(cs),
                CandidateElection(
                    seats=len(cs),
                    elected=[c.id for c in cs],
                    successors=[],
                    steps=[],
                    notes=["no vote held: every candidate is elected"],
                ),
            )
            for lst, cs in ordered
        ]
        vacant = d.seats - n_candidates
        notes.append(
            f"no vote held: {n_candidates} candidate(s) for {d.seats} seat(s), all elected"
            + (f", {vacant} seat(s) vacant" if vacant else "")
        )
        return GroupResult(
            vote_held=False,
            lists=lists,
            apportionment=None,
            person_election=None,
            elected=[c for c, _, _, _ in candidate_votes],
            vacant_seats=vacant,
            **common,
        )

    if not vote_required(d.seats, n_candidates):
        notes.append("a vote was held although there are no more candidates than seats")

    if d.system == "person":
        person = elect_person_system({c: v for c, _, _, v in candidate_votes}, d.seats, lot)
        elected_set = set(person.elected)
        lists = []
        for lst, cs in ordered:
            chosen = [c for c in person.elected if list_of[c] == lst.id]
            rest = [c for c in person.successors if list_of[c] == lst.id]
            lists.append(
                ListResult(
                    lst.id,
                    lst.name,
                    lst.kind,
                    sum(votes[c.id] for c in cs),
                    sum(1 for c in cs if c.id in elected_set),
                    CandidateElection(seats=len(chosen), elected=chosen, successors=rest, steps=[]),
                )
            )
        return GroupResult(
            vote_held=True,
            lists=lists,
            apportionment=None,
            person_election=person,
            elected=list(person.elected),
            vacant_seats=person.vacant_seats,
            **common,
        )

    list_votes = {lst.id: sum(votes[c.id] for c in cs) for lst, cs in ordered}
    appo = apportion_seats(
        list_votes,
        d.seats,
        {lst.id: len(cs) for lst, cs in ordered},
        method=residual_method,
        remainder_threshold=rt,
        lot=lot,
        blank=blank,
        invalid=invalid,
    )
    lists = []
    elected: list[str] = []
    for lst, cs in ordered:
        won = appo.seats_per_list[lst.id]
        ce = elect_candidates([(c.id, votes[c.id]) for c in cs], won, appo.quota, pt)
        elected.extend(ce.elected)
        lists.append(ListResult(lst.id, lst.name, lst.kind, list_votes[lst.id], won, ce))
    return GroupResult(
        vote_held=True,
        lists=lists,
        apportionment=appo,
        person_election=None,
        elected=elected,
        vacant_seats=appo.vacant_seats,
        **common,
    )


# --------------------------------------------------------------------------- consultation


@dataclass
class ConsultationResult:
    ballots_total: int
    valid: int
    invalid: int
    skipped: int
    invalid_reasons: Counter[str]
    questions: list[QuestionTally]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "consultation",
            "ballots": {
                "total": self.ballots_total,
                "valid": self.valid,
                "invalid": self.invalid,
                "skipped": self.skipped,
                "invalid_reasons": _reasons(self.invalid_reasons),
            },
            "share_basis": "valid ballots that answered the question (not blank for it)",
            "questions": [q.to_dict() for q in self.questions],
        }


def count_consultation(questions: Any, ballots: Iterable[BallotRecord]) -> ConsultationResult:
    """Counts per question of a consultation (docs/rules.md "Consultations"; the rules of each
    kind: :mod:`rules.consultation`).

    ``questions`` is a consultation definition or a list of question definitions. The share of
    an option or scale point is its count divided by the valid ballots that answered the
    question (blank for that question excluded); with ``up_to_k`` the shares can add up to more
    than 1. A skip (a valid ballot answering nothing) is valid, blank for every question, and
    counted under ``skipped``.
    """
    qs: Sequence[QuestionDef]
    if isinstance(questions, list | tuple):
        qs = [q if isinstance(q, QuestionDef) else QuestionDef.model_validate(q) for q in questions]
    else:
        d = parse_definition(questions)
        if not isinstance(d, ConsultationDef):
            raise TypeError("not a consultation definition")
        qs = d.questions
    tallies = [QuestionTally(q) for q in qs]
    invalid_reasons: Counter[str] = Counter()
    total = valid = invalid = skipped = 0
    for ok, reason, selections in ballots:
        total += 1
        if not ok:
            invalid += 1
            invalid_reasons[reason or "invalid"] += 1
            continue
        valid += 1
        selections = selections or {}
        if is_skip(selections):
            skipped += 1
        for t in tallies:
            t.add(selections.get(t.q.id))
    return ConsultationResult(total, valid, invalid, skipped, invalid_reasons, tallies)
