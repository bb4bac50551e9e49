"""The election lifecycle as a state machine (PRODUCT.md):

    draft → nomination → candidacy → lists_published → voting → closed → tallied, and cancelled;
    lists_published → tallied when no kiesgroep holds a vote.

The nomination campaign is optional (draft → candidacy). A consultation has no lists: draft →
lists_published publishes its questions. Each domain registers the guards it owns (e.g. the roll
must be frozen before voting opens); a transition runs all guards of its target and refuses with
every unmet condition listed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from api.elections.models import Election
from rules.phases import TERMINAL

# Transitions a committee may make by hand. `tallied` is reached by the tally itself (after
# `closed`), or by hand straight from `lists_published` when no kiesgroep holds a vote (every
# candidate is elected without a vote: no keys, no voting; api.tally.service guards it and
# appends the result; docs/rules.md).
MANUAL: dict[str, dict[str, frozenset[str]]] = {
    "works_council": {
        "draft": frozenset({"nomination", "candidacy"}),
        "nomination": frozenset({"candidacy"}),
        "candidacy": frozenset({"lists_published"}),
        "lists_published": frozenset({"voting", "tallied"}),
        "voting": frozenset({"closed"}),
    },
    "consultation": {
        "draft": frozenset({"lists_published"}),
        "lists_published": frozenset({"voting"}),
        "voting": frozenset({"closed"}),
    },
}

Guard = Callable[[Session, Election, Any], list[str]]
_GUARDS: dict[str, list[Guard]] = {}
_HOOKS: dict[str, list[Callable[[Session, Election, Any], None]]] = {}


def guard(target: str) -> Callable[[Guard], Guard]:
    """Register a check that must pass before an election may enter `target`.

    A guard returns the list of unmet conditions (empty when the transition may go ahead).
    """

    def deco(fn: Guard) -> Guard:
        _GUARDS.setdefault(target, []).append(fn)
        return fn

    return deco


def on_enter(target: str) -> Callable[[Callable[[Session, Election, Any], None]], Any]:
    """Register work done in the same transaction when an election enters `target`
    (e.g. publishing the lists appends them to the log)."""

    def deco(fn: Callable[[Session, Election, Any], None]) -> Any:
        _HOOKS.setdefault(target, []).append(fn)
        return fn

    return deco


def allowed_targets(election: Election) -> frozenset[str]:
    if election.status in TERMINAL:
        return frozenset()
    manual = MANUAL[election.kind].get(election.status, frozenset())
    return manual | {"cancelled"}


def unmet_conditions(session: Session, election: Election, target: str, ctx: Any) -> list[str]:
    problems: list[str] = []
    for g in _GUARDS.get(target, []):
        problems.extend(g(session, election, ctx))
    return problems


def run_hooks(session: Session, election: Election, target: str, ctx: Any) -> None:
    for h in _HOOKS.get(target, []):
        h(session, election, ctx)
