"""The rules of the roll: import with a diff, eligibility and overrides, objections, freezing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.auth.service import Holder, register_holder
from api.auth.tokens import Principal
from api.elections import lifecycle
from api.elections.models import Election
from api.elections.service import actor, settings_of
from api.log.service import append_entry
from api.problems import NOT_FOUND, ProblemError, problem_type
from api.roll.commitment import roll_commitment
from api.roll.importer import RollRow
from api.roll.models import Objection, RollState, Voter
from rules.eligibility import apply_override, eligibility
from rules.settings import ElectionSettings

ROLL_FROZEN = problem_type(
    "roll-frozen",
    409,
    "The roll is frozen",
    "The roll was frozen (its commitment is in the log); it can no longer change.",
)
ROLL_PHASE = problem_type(
    "roll-wrong-phase",
    409,
    "Not possible in this phase",
    "The roll changes only before voting; it is frozen once the settings are locked (after "
    "draft) and before voting opens.",
)
ROLL_EMPTY = problem_type(
    "roll-empty", 409, "The roll is empty", "Import a roll before freezing it."
)
NOT_ON_ROLL = problem_type(
    "not-on-roll",
    404,
    "Not on the roll",
    "The token's voter is not (or no longer) on this election's roll.",
)
OBJECTION_RESOLVED = problem_type(
    "objection-resolved", 409, "Already resolved", "This objection has already been resolved."
)
OPEN_OBJECTION_LIMIT = problem_type(
    "too-many-objections",
    409,
    "Too many open objections",
    "A voter can have at most 5 open objections; wait for the committee to resolve them.",
)
MAX_OPEN_OBJECTIONS = 5
# Where the roll can still change / be frozen. Freezing waits until the settings are locked
# (after draft), because eligibility depends on them.
IMPORT_PHASES = frozenset({"draft", "nomination", "candidacy", "lists_published"})
FREEZE_PHASES = frozenset({"nomination", "candidacy", "lists_published"})
MAX_DIFF_DETAILS = 1000


def reference_date(es: ElectionSettings) -> date:
    """Service is counted up to the first voting day (docs/rules.md): the setting, else the
    scheduled voting start, else today."""
    if es.reference_date:
        return es.reference_date
    if es.schedule.voting and es.schedule.voting.start:
        return es.schedule.voting.start.date()
    return datetime.now(UTC).date()


def rights(
    es: ElectionSettings,
    ref: date,
    start: date,
    agency: bool,
    vote_override: bool | None,
    stand_override: bool | None,
    reason: str | None = None,
):  # type: ignore[no-untyped-def]
    result = eligibility(
        start,
        ref,
        agency_worker=agency,
        min_months_to_vote=es.min_months_to_vote,
        min_months_to_stand=es.min_months_to_stand,
        agency_months=es.agency_months,
    )
    if vote_override is not None or stand_override is not None:
        result = apply_override(
            result, reason or "(no reason recorded)", vote_override, stand_override
        )
    return result


def get_state(session: Session, election_id: str, *, for_update: bool = False) -> RollState:
    stmt = select(RollState).where(RollState.election_id == election_id)
    if for_update:
        stmt = stmt.with_for_update()
    state = session.exec(stmt).first()
    if state is None:
        state = RollState(election_id=election_id)
        session.add(state)
        session.flush()
    return state


def is_frozen(session: Session, election_id: str) -> bool:
    state = session.get(RollState, election_id)
    return bool(state and state.frozen)


def _check_mutable(session: Session, election: Election) -> RollState:
    if election.status not in IMPORT_PHASES:
        raise ProblemError(ROLL_PHASE, f"the election is in {election.status}")
    state = get_state(session, election.id, for_update=True)
    if state.frozen:
        raise ProblemError(ROLL_FROZEN)
    return state


_FIELDS = ("name", "email", "kiesgroep", "employment_start", "agency_worker")


def import_roll(
    session: Session, election: Election, rows: list[RollRow], dry_run: bool
) -> dict[str, Any]:
    """Replace the roll by `rows`: a diff (added, removed, changed) and, unless `dry_run`,
    applied in one transaction. Removed voters stay as rows but leave the roll."""
    state = _check_mutable(session, election)
    es = settings_of(election)
    ref = reference_date(es)
    # Plain column tuples, not ORM objects: a 100,000-row roll must import in seconds.
    existing = {
        r.employee_number: r
        for r in session.execute(
            sa_select(
                col(Voter.id),
                col(Voter.employee_number),
                col(Voter.name),
                col(Voter.email),
                col(Voter.kiesgroep),
                col(Voter.employment_start),
                col(Voter.agency_worker),
                col(Voter.may_vote),
                col(Voter.may_stand),
                col(Voter.vote_override),
                col(Voter.stand_override),
                col(Voter.override_reason),
                col(Voter.on_roll),
            ).where(col(Voter.election_id) == election.id)
        )
    }
    added: list[RollRow] = []
    changed: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    seen: set[str] = set()
    now = datetime.now(UTC)
    # Many employees share a start date: compute each distinct case once.
    cache: dict[tuple[date, bool], tuple[bool, bool]] = {}
    for row in rows:
        seen.add(row.employee_number)
        old = existing.get(row.employee_number)
        if old is not None and (old.vote_override is not None or old.stand_override is not None):
            el = rights(
                es,
                ref,
                row.employment_start,
                row.agency_worker,
                old.vote_override,
                old.stand_override,
                old.override_reason,
            )
            may_vote, may_stand = el.may_vote, el.may_stand
        else:
            key = (row.employment_start, row.agency_worker)
            if key not in cache:
                el = rights(es, ref, row.employment_start, row.agency_worker, None, None)
                cache[key] = (el.may_vote, el.may_stand)
            may_vote, may_stand = cache[key]
        values = {
            "name": row.name,
            "email": row.email,
            "kiesgroep": row.kiesgroep,
            "employment_start": row.employment_start,
            "agency_worker": row.agency_worker,
            "may_vote": may_vote,
            "may_stand": may_stand,
        }
        if old is None:
            added.append(row)
            inserts.append(
                {
                    **values,
                    "election_id": election.id,
                    "employee_number": row.employee_number,
                    "vote_override": None,
                    "stand_override": None,
                    "override_reason": None,
                    "created_at": now,
                    "on_roll": True,
                }
            )
            continue
        if not old.on_roll:
            added.append(row)
            updates.append({"id": old.id, **values, "on_roll": True})
            continue
        diff = [f for f in _FIELDS if getattr(old, f) != values[f]]
        if diff:
            changed.append(
                {"employee_number": row.employee_number, "name": row.name, "fields": diff}
            )
        if diff or old.may_vote != may_vote or old.may_stand != may_stand:
            updates.append({"id": old.id, **values})
    removed = [v for n, v in existing.items() if v.on_roll and n not in seen]
    if not dry_run:
        table = Voter.__table__  # type: ignore[attr-defined]  # Core executemany: no ORM work
        if inserts:
            session.execute(insert(table), inserts)
        if updates:
            session.execute(update(Voter), updates)
        if removed:
            gone = [
                {"id": v.id, "on_roll": False, "may_vote": False, "may_stand": False}
                for v in removed
            ]
            session.execute(update(Voter), gone)
        state.imports += 1
        session.add(state)
        session.flush()
    counts = Counter(r.kiesgroep for r in rows)
    return {
        "dry_run": dry_run,
        "rows": len(rows),
        "added": len(added),
        "removed": len(removed),
        "changed": len(changed),
        "unchanged": len(rows) - len(added) - len(changed),
        "per_kiesgroep": dict(sorted(counts.items())),
        "details_truncated": max(len(added), len(removed), len(changed)) > MAX_DIFF_DETAILS,
        "added_voters": [
            {"employee_number": r.employee_number, "name": r.name, "kiesgroep": r.kiesgroep}
            for r in added[:MAX_DIFF_DETAILS]
        ],
        "removed_voters": [
            {"employee_number": v.employee_number, "name": v.name, "kiesgroep": v.kiesgroep}
            for v in removed[:MAX_DIFF_DETAILS]
        ],
        "changed_voters": changed[:MAX_DIFF_DETAILS],
    }


def list_voters(
    session: Session,
    election_id: str,
    kiesgroep: str | None,
    q: str | None,
    offset: int,
    limit: int,
) -> tuple[int, list[Voter]]:
    stmt = select(Voter).where(Voter.election_id == election_id, col(Voter.on_roll))
    if kiesgroep:
        stmt = stmt.where(Voter.kiesgroep == kiesgroep)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            func.lower(Voter.name).like(like) | func.lower(Voter.employee_number).like(like)
        )
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(Voter.employee_number)).offset(offset).limit(limit))
    return int(total), list(rows)


def get_voter(session: Session, election_id: str, voter_id: int) -> Voter:
    v = session.get(Voter, voter_id)
    if v is None or v.election_id != election_id or not v.on_roll:
        raise ProblemError(NOT_FOUND, "no such voter on the roll")
    return v


def current_voter(session: Session, principal: Principal, election_id: str) -> Voter:
    """The voter behind a voter token, if still on the roll."""
    v = session.get(Voter, principal.holder_id) if principal.holder_id is not None else None
    if v is None or v.election_id != election_id or not v.on_roll:
        raise ProblemError(NOT_ON_ROLL)
    return v


def explain(election: Election, v: Voter):  # type: ignore[no-untyped-def]
    es = settings_of(election)
    return rights(
        es,
        reference_date(es),
        v.employment_start,
        v.agency_worker,
        v.vote_override,
        v.stand_override,
        v.override_reason,
    )


def set_override(
    session: Session,
    election: Election,
    v: Voter,
    may_vote: bool | None,
    may_stand: bool | None,
    reason: str,
) -> Voter:
    """The committee's per-voter override with its reason (docs/rules.md); both None clears it."""
    _check_mutable(session, election)
    v.vote_override, v.stand_override = may_vote, may_stand
    v.override_reason = reason if (may_vote is not None or may_stand is not None) else None
    el = explain(election, v)
    v.may_vote, v.may_stand = el.may_vote, el.may_stand
    session.add(v)
    session.flush()
    return v


def _recompute_all(session: Session, election: Election) -> None:
    """Eligibility against the settings as they are now (the schedule may have moved)."""
    es = settings_of(election)
    ref = reference_date(es)
    updates = []
    cols = sa_select(
        col(Voter.id),
        col(Voter.employment_start),
        col(Voter.agency_worker),
        col(Voter.vote_override),
        col(Voter.stand_override),
        col(Voter.override_reason),
        col(Voter.may_vote),
        col(Voter.may_stand),
    ).where(col(Voter.election_id) == election.id, col(Voter.on_roll))
    cache: dict[tuple[Any, ...], Any] = {}
    for v in session.execute(cols):
        key = (v.employment_start, v.agency_worker, v.vote_override, v.stand_override)
        if key not in cache:
            cache[key] = rights(es, ref, *key, v.override_reason)
        el = cache[key]
        if (el.may_vote, el.may_stand) != (v.may_vote, v.may_stand):
            updates.append({"id": v.id, "may_vote": el.may_vote, "may_stand": el.may_stand})
    if updates:
        session.execute(update(Voter), updates)
        session.expire_all()


def freeze(session: Session, election: Election, principal: Principal) -> dict[str, Any]:
    if election.status not in FREEZE_PHASES:
        raise ProblemError(
            ROLL_PHASE,
            f"the roll is frozen after draft and before voting; the election is in "
            f"{election.status}",
        )
    state = get_state(session, election.id, for_update=True)
    if state.frozen:
        raise ProblemError(ROLL_FROZEN)
    _recompute_all(session, election)
    rows = list(
        session.execute(
            sa_select(
                col(Voter.employee_number),
                col(Voter.name),
                col(Voter.kiesgroep),
                col(Voter.employment_start),
                col(Voter.agency_worker),
                col(Voter.may_vote),
                col(Voter.may_stand),
            ).where(col(Voter.election_id) == election.id, col(Voter.on_roll))
        )
    )
    if not rows:
        raise ProblemError(ROLL_EMPTY)
    counts: dict[str, dict[str, int]] = {
        g.id: {"voters": 0, "may_vote": 0, "may_stand": 0}
        for g in settings_of(election).kiesgroepen
    }
    for r in rows:
        c = counts.setdefault(r[2], {"voters": 0, "may_vote": 0, "may_stand": 0})
        c["voters"] += 1
        c["may_vote"] += int(r[5])
        c["may_stand"] += int(r[6])
    commitment = roll_commitment(election.id, [tuple(r) for r in rows])  # type: ignore[misc]
    state.frozen = True
    state.commitment = commitment
    state.frozen_at = datetime.now(UTC)
    session.add(state)
    entry = {
        "type": "roll_frozen",
        "election": election.id,
        "counts": counts,
        "commitment": commitment,
        "by": actor(principal),
    }
    append_entry(session, election.id, entry)
    return entry


def summary(session: Session, election: Election) -> dict[str, Any]:
    state = session.get(RollState, election.id)
    counts: dict[str, dict[str, int]] = {
        g.id: {"voters": 0, "may_vote": 0, "may_stand": 0}
        for g in settings_of(election).kiesgroepen
    }
    stmt = (
        select(Voter.kiesgroep, Voter.may_vote, Voter.may_stand, func.count())
        .where(Voter.election_id == election.id, col(Voter.on_roll))
        .group_by(col(Voter.kiesgroep), col(Voter.may_vote), col(Voter.may_stand))
    )
    for g, mv, ms, n in session.exec(stmt):
        c = counts.setdefault(g, {"voters": 0, "may_vote": 0, "may_stand": 0})
        c["voters"] += n
        c["may_vote"] += n if mv else 0
        c["may_stand"] += n if ms else 0
    open_objections = session.exec(
        select(func.count()).where(Objection.election_id == election.id, Objection.status == "open")
    ).one()
    return {
        "frozen": bool(state and state.frozen),
        "commitment": state.commitment if state else None,
        "imports": state.imports if state else 0,
        "reference_date": reference_date(settings_of(election)),
        "counts": counts,
        "open_objections": int(open_objections),
    }


def object_to(session: Session, election: Election, v: Voter, text: str) -> Objection:
    """A voter objects to their own registration, until the roll is frozen."""
    if election.status not in IMPORT_PHASES:
        raise ProblemError(ROLL_PHASE, f"the election is in {election.status}")
    if is_frozen(session, election.id):
        raise ProblemError(ROLL_FROZEN, "objections are possible until the roll is frozen")
    n_open = session.exec(
        select(func.count()).where(Objection.voter_id == v.id, Objection.status == "open")
    ).one()
    if n_open >= MAX_OPEN_OBJECTIONS:
        raise ProblemError(OPEN_OBJECTION_LIMIT)
    assert v.id is not None
    o = Objection(election_id=election.id, voter_id=v.id, text=text)
    session.add(o)
    session.flush()
    return o


def objections_of(session: Session, election_id: str, voter_id: int) -> list[Objection]:
    return list(
        session.exec(
            select(Objection)
            .where(Objection.election_id == election_id, Objection.voter_id == voter_id)
            .order_by(col(Objection.id))
        )
    )


def list_objections(
    session: Session, election_id: str, status: str | None
) -> list[tuple[Objection, Voter]]:
    stmt = (
        select(Objection, Voter)
        .join(Voter, col(Voter.id) == col(Objection.voter_id))
        .where(Objection.election_id == election_id)
    )
    if status:
        stmt = stmt.where(Objection.status == status)
    return list(session.exec(stmt.order_by(col(Objection.id))))  # type: ignore[arg-type]


def resolve_objection(
    session: Session, election_id: str, objection_id: int, resolution: str
) -> tuple[Objection, Voter]:
    o = session.get(Objection, objection_id)
    if o is None or o.election_id != election_id:
        raise ProblemError(NOT_FOUND, "no such objection")
    if o.status != "open":
        raise ProblemError(OBJECTION_RESOLVED)
    o.status, o.resolution, o.resolved_at = "resolved", resolution, datetime.now(UTC)
    session.add(o)
    session.flush()
    v = session.get(Voter, o.voter_id)
    assert v is not None
    return o, v


@lifecycle.guard("voting")
def _roll_frozen_before_voting(session: Session, election: Election, ctx: Any) -> list[str]:
    if not is_frozen(session, election.id):
        return ["the voter roll is not frozen (POST .../roll/freeze)"]
    return []


_V = Voter.__table__.c  # type: ignore[attr-defined]
_HOLDER_READ = sa_select(_V.kiesgroep, _V.on_roll).where(
    _V.id == bindparam("v"), _V.election_id == bindparam("e")
)


def _voter_holder(session: Session, election_id: str, holder_id: int) -> Holder | None:
    """Login resolver for voters: a voter taken off the roll by a re-import can no longer log
    in. The voter's kiesgroep goes into the login answer (the issuer key to blind for)."""
    row = session.execute(_HOLDER_READ, {"v": holder_id, "e": election_id}).first()
    if row is None or not row.on_roll:
        return None
    return Holder({"voter"}, f"voter:{holder_id}", row.kiesgroep)


register_holder("voter", _voter_holder)
