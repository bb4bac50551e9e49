"""The rules of creating, configuring and moving an election through its phases."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.tokens import Principal
from api.elections import lifecycle
from api.elections.models import Election, utcnow
from api.elections.schemas import ElectionCreate, ElectionOut
from api.log.service import append_entry
from api.problems import NOT_FOUND, ProblemError, problem_type
from rules.settings import ElectionSettings

INVALID_TRANSITION = problem_type(
    "invalid-transition",
    409,
    "Transition not allowed",
    "The election cannot move to that phase from its current one; `allowed` lists where it can.",
)
GUARD_FAILED = problem_type(
    "transition-conditions-unmet",
    409,
    "Conditions for the transition are not met",
    "`unmet` lists every condition that blocks the transition.",
)
SETTINGS_LOCKED = problem_type(
    "settings-locked",
    409,
    "Settings can no longer change",
    "Settings change only in draft; after that only the schedule, until voting opens.",
)
ELECTION_ENDED = problem_type(
    "election-ended", 409, "The election has ended", "The election is tallied or cancelled."
)

_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def new_election_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def actor(principal: Principal) -> str:
    """Committee actions name the acting role in the log, never a person (docs/protocol.md)."""
    for role in ("operator", "committee", "trustee"):
        if principal.has(role):
            return role
    return "system"


def settings_of(election: Election) -> ElectionSettings:
    return ElectionSettings.model_validate_json(election.settings_json)


def refuse_ended(election: Election) -> None:
    """No new codes in an ended election (tallied or cancelled): nobody may log in any more,
    so a code could only be a way to make a token of a dead election."""
    if election.status in lifecycle.TERMINAL:
        raise ProblemError(ELECTION_ENDED, f"the election is {election.status}: no new codes")


def get_election(session: Session, election_id: str, *, for_update: bool = False) -> Election:
    """The election; with `for_update`, under its row lock until commit. The lock is FOR NO KEY
    UPDATE on PostgreSQL (nothing ever changes an election's key): it excludes every other
    holder, the log's appends included (api.log.group_commit), but not the KEY SHARE locks that
    other transactions' inserts of child rows take through their foreign keys, so a holder and
    such an insert never wait for each other (SQLite: the database's write lock)."""
    stmt = select(Election).where(Election.id == election_id)
    if for_update:
        stmt = stmt.with_for_update(key_share=True)
    election = session.exec(stmt).first()
    if election is None:
        raise ProblemError(NOT_FOUND, "no such election")
    return election


@dataclass(frozen=True)
class ElectionView:
    """What the hot paths (login, issuance, casting) read of an election row (no ORM object)."""

    id: str
    status: str
    settings_json: str


_E = Election.__table__.c  # type: ignore[attr-defined]
# Built once, run with bound parameters: see api.db on hot-path statements.
_VIEW = select(_E.id, _E.status, _E.settings_json).where(_E.id == bindparam("id"))


def election_view(session: Session, election_id: str) -> ElectionView:
    row = session.execute(_VIEW, {"id": election_id}).first()
    if row is None:
        raise ProblemError(NOT_FOUND, "no such election")
    return ElectionView(*row)


def to_out(election: Election) -> ElectionOut:
    return ElectionOut(
        id=election.id,
        name=election.name,
        organisation=election.organisation,
        kind=election.kind,
        status=election.status,
        settings=settings_of(election),
        log_size=election.log_size,
        allowed_transitions=sorted(lifecycle.allowed_targets(election)),
        created_at=election.created_at,
    )


def public_settings(settings: ElectionSettings) -> dict[str, Any]:
    return settings.model_dump(mode="json")


def create_election(session: Session, data: ElectionCreate, principal: Principal) -> Election:
    election = Election(
        id=new_election_id(),
        name=data.name,
        organisation=data.organisation,
        kind=data.settings.kind,
        status="draft",
        settings_json=data.settings.model_dump_json(),
    )
    session.add(election)
    session.flush()
    append_entry(
        session,
        election.id,
        {
            "type": "election_created",
            "election": election.id,
            "name": data.name,
            "organisation": data.organisation,
            "settings": public_settings(data.settings),
            "by": actor(principal),
        },
    )
    record(
        session,
        election.id,
        principal,
        "election_created",
        subject=f"election:{election.id}",
        details={"name": data.name, "organisation": data.organisation, "kind": election.kind},
    )
    session.refresh(election)
    return election


def list_elections(
    session: Session, offset: int = 0, limit: int = 100
) -> tuple[int, list[Election]]:
    """How many elections there are, and one page of them, newest first."""
    total = session.exec(select(func.count()).select_from(Election)).one()
    page = session.exec(
        select(Election)
        .order_by(col(Election.created_at).desc(), col(Election.id))
        .offset(offset)
        .limit(limit)
    )
    return int(total), list(page)


def update_settings(
    session: Session, election: Election, new: ElectionSettings, principal: Principal
) -> Election:
    old = settings_of(election)
    if election.status in lifecycle.TERMINAL:
        raise ProblemError(ELECTION_ENDED)
    if new.kind != old.kind:
        raise ProblemError(SETTINGS_LOCKED, "the kind of an election cannot change")
    if election.status != "draft":
        only_schedule = new.model_copy(update={"schedule": old.schedule})
        if only_schedule != old or election.status in ("voting", "closed"):
            raise ProblemError(SETTINGS_LOCKED)
    election.settings_json = new.model_dump_json()
    election.updated_at = utcnow()
    session.add(election)
    append_entry(
        session,
        election.id,
        {
            "type": "settings_updated",
            "election": election.id,
            "settings": public_settings(new),
            "by": actor(principal),
        },
    )
    changed = sorted(
        k for k, v in new.model_dump(mode="json").items() if old.model_dump(mode="json")[k] != v
    )
    record(session, election.id, principal, "settings_changed", details={"changed": changed})
    session.flush()
    session.refresh(election)
    return election


def transition(
    session: Session,
    election: Election,
    target: str,
    principal: Principal,
    reason: str | None = None,
    ctx: Any = None,
) -> Election:
    if election.status in lifecycle.TERMINAL:
        raise ProblemError(ELECTION_ENDED)
    allowed = lifecycle.allowed_targets(election)
    if target not in allowed:
        raise ProblemError(
            INVALID_TRANSITION,
            f"cannot go from {election.status} to {target}",
            allowed=sorted(allowed),
        )
    unmet = lifecycle.unmet_conditions(session, election, target, ctx)
    if unmet:
        raise ProblemError(GUARD_FAILED, "; ".join(unmet), unmet=unmet)
    previous = election.status
    election.status = target
    election.updated_at = utcnow()
    session.add(election)
    session.flush()
    lifecycle.run_hooks(session, election, target, ctx)
    entry: dict[str, Any] = {
        "type": "phase_changed",
        "election": election.id,
        "from": previous,
        "to": target,
        "by": actor(principal),
    }
    if reason:
        entry["reason"] = reason
    append_entry(session, election.id, entry)
    record(
        session,
        election.id,
        principal,
        "election_cancelled" if target == "cancelled" else "phase_changed",
        subject=f"phase:{target}",
        reason=reason,
        details={"from": previous, "to": target},
    )
    session.refresh(election)
    return election
