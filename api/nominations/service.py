"""The nomination campaign (the seed's "digitale OR-nominatie"). Nominations have no legal
standing; they feed the candidacy phase.

Privacy (see models): a nomination row names the nominee, never the nominator; the committee sees
per nominee a count and the motivations (sorted by text, so their order says nothing about
when or by whom they were written); a nominee sees only how many colleagues nominated them.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.auth.tokens import derive_key
from api.elections.models import Election
from api.elections.service import settings_of
from api.nominations.models import Nomination, NominationQuota, Nominee
from api.problems import NOT_FOUND, ProblemError, problem_type
from api.roll.models import Voter
from api.settings import Settings

NOMINATION_CLOSED = problem_type(
    "nomination-closed",
    409,
    "The nomination campaign is not open",
    "Nominations are made in the nomination phase, within its scheduled window when one is set.",
)
NOMINATION_REFUSED = problem_type(
    "nomination-refused",
    409,
    "This nomination is not possible",
    "You cannot nominate yourself, a colleague outside your kiesgroep (when the campaign is per "
    "kiesgroep), or a colleague who is not eligible to stand; and you must be entitled to vote.",
)
ALREADY_NOMINATED = problem_type(
    "already-nominated",
    409,
    "You already nominated this colleague",
    "Each voter nominates a colleague at most once.",
)
QUOTA_USED = problem_type(
    "nomination-limit",
    409,
    "No nominations left",
    "You have made the maximum number of nominations this election allows.",
)
NOT_NOMINATED = problem_type(
    "not-nominated",
    409,
    "Not nominated",
    "Only a nominated colleague can be approached or answer.",
)
RESPONSE_CLOSED = problem_type(
    "response-closed",
    409,
    "Too late to answer",
    "Nominees answer during the nomination and candidacy phases.",
)
SEARCH_LIMIT = 20


def _tag(settings: Settings, election_id: str, nominator_id: int, nominee_id: int) -> bytes:
    msg = f"{election_id}\n{nominator_id}\n{nominee_id}".encode()
    return hmac.new(derive_key(settings, "nomination"), msg, hashlib.sha256).digest()


def _aware(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def campaign_open(election: Election) -> bool:
    if election.status != "nomination":
        return False
    phase = settings_of(election).schedule.nomination
    now = datetime.now(UTC)
    if phase and phase.start and now < _aware(phase.start):
        return False
    return not (phase and phase.end and now >= _aware(phase.end))


def search_colleagues(
    session: Session, election: Election, q: str, kiesgroep: str | None, exclude: int | None
) -> list[Voter]:
    """Colleagues who can be nominated or put on a list: only id, name and kiesgroep leave."""
    pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    stmt = select(Voter).where(
        Voter.election_id == election.id,
        col(Voter.on_roll),
        col(Voter.may_stand),
        func.lower(Voter.name).like(pattern, escape="\\"),
    )
    if kiesgroep:
        stmt = stmt.where(Voter.kiesgroep == kiesgroep)
    if exclude is not None:
        stmt = stmt.where(Voter.id != exclude)
    return list(session.exec(stmt.order_by(col(Voter.name), col(Voter.id)).limit(SEARCH_LIMIT)))


def _quota(session: Session, election_id: str, voter_id: int) -> NominationQuota:
    row = session.exec(
        select(NominationQuota)
        .where(NominationQuota.election_id == election_id, NominationQuota.voter_id == voter_id)
        .with_for_update()
    ).first()
    if row is None:
        row = NominationQuota(election_id=election_id, voter_id=voter_id, used=0)
    return row


def nominate(
    session: Session,
    settings: Settings,
    election: Election,
    nominator: Voter,
    nominee_id: int,
    motivation: str | None,
) -> int:
    """Record one nomination; returns how many the nominator has left."""
    if not campaign_open(election):
        raise ProblemError(NOMINATION_CLOSED, f"the election is in {election.status}")
    es = settings_of(election)
    assert nominator.id is not None
    if not nominator.may_vote:
        raise ProblemError(NOMINATION_REFUSED, "you are not entitled to vote")
    nominee = session.get(Voter, nominee_id)
    if nominee is None or nominee.election_id != election.id or not nominee.on_roll:
        raise ProblemError(NOT_FOUND, "no such colleague")
    if nominee.id == nominator.id:
        raise ProblemError(NOMINATION_REFUSED, "you cannot nominate yourself")
    if es.nomination.scope == "kiesgroep" and nominee.kiesgroep != nominator.kiesgroep:
        raise ProblemError(NOMINATION_REFUSED, "only colleagues in your own kiesgroep")
    if not nominee.may_stand:
        raise ProblemError(NOMINATION_REFUSED, "this colleague is not eligible to stand")
    quota = _quota(session, election.id, nominator.id)
    tag = _tag(settings, election.id, nominator.id, nominee_id)
    if session.exec(select(Nomination.id).where(Nomination.tag == tag)).first() is not None:
        raise ProblemError(ALREADY_NOMINATED)
    if quota.used >= es.nomination.max_per_voter:
        raise ProblemError(QUOTA_USED, f"at most {es.nomination.max_per_voter}")
    quota.used += 1
    session.add(quota)
    session.add(
        Nomination(election_id=election.id, nominee_id=nominee_id, motivation=motivation, tag=tag)
    )
    session.flush()
    return es.nomination.max_per_voter - quota.used


def count_for(session: Session, election_id: str, voter_id: int) -> int:
    return int(
        session.exec(
            select(func.count()).where(
                Nomination.election_id == election_id, Nomination.nominee_id == voter_id
            )
        ).one()
    )


def nominee_row(session: Session, election_id: str, voter_id: int) -> Nominee:
    row = session.get(Nominee, (election_id, voter_id))
    if row is None:
        row = Nominee(election_id=election_id, voter_id=voter_id)
    return row


def my_view(session: Session, settings: Settings, election: Election, v: Voter) -> dict[str, Any]:
    """What a voter may know: whom *they* nominated (recomputed from the keyed tags, never
    stored), how many nominations they have left, and how many colleagues nominated them."""
    assert v.id is not None
    es = settings_of(election)
    q = session.get(NominationQuota, (election.id, v.id))
    used = q.used if q else 0
    mine: list[Voter] = []
    if used:
        stmt = select(Voter).where(Voter.election_id == election.id, col(Voter.on_roll))
        if es.nomination.scope == "kiesgroep":
            stmt = stmt.where(Voter.kiesgroep == v.kiesgroep)
        candidates = list(session.exec(stmt))
        tags = {_tag(settings, election.id, v.id, c.id): c for c in candidates}  # type: ignore[arg-type]
        found = session.exec(
            select(Nomination.tag).where(
                Nomination.election_id == election.id, col(Nomination.tag).in_(list(tags))
            )
        )
        mine = sorted((tags[bytes(t)] for t in found), key=lambda c: c.name)
    row = session.get(Nominee, (election.id, v.id))
    return {
        "campaign_open": campaign_open(election),
        "scope": es.nomination.scope,
        "max_per_voter": es.nomination.max_per_voter,
        "made": used,
        "remaining": es.nomination.max_per_voter - used,
        "nominated": [{"id": c.id, "name": c.name, "kiesgroep": c.kiesgroep} for c in mine],
        "received": count_for(session, election.id, v.id),
        "approached": bool(row and row.approached),
        "response": row.response if row else None,
    }


def respond(session: Session, election: Election, v: Voter, accept: bool) -> Nominee:
    if election.status not in ("nomination", "candidacy"):
        raise ProblemError(RESPONSE_CLOSED)
    assert v.id is not None
    if count_for(session, election.id, v.id) == 0:
        raise ProblemError(NOT_NOMINATED)
    row = nominee_row(session, election.id, v.id)
    row.response = "accepted" if accept else "declined"
    session.add(row)
    session.flush()
    return row


def mark_approached(session: Session, election: Election, voter_id: int) -> Nominee:
    v = session.get(Voter, voter_id)
    if v is None or v.election_id != election.id:
        raise ProblemError(NOT_FOUND, "no such voter")
    if count_for(session, election.id, voter_id) == 0:
        raise ProblemError(NOT_NOMINATED)
    row = nominee_row(session, election.id, voter_id)
    row.approached = True
    session.add(row)
    session.flush()
    return row


def ranking(session: Session, election_id: str) -> list[dict[str, Any]]:
    """Per nominee: the count and the motivations — never who nominated."""
    counts = dict(
        session.exec(
            select(Nomination.nominee_id, func.count())
            .where(Nomination.election_id == election_id)
            .group_by(col(Nomination.nominee_id))
        ).all()
    )
    if not counts:
        return []
    motivations: dict[int, list[str]] = {}
    for nid, text in session.exec(
        select(Nomination.nominee_id, Nomination.motivation).where(
            Nomination.election_id == election_id, col(Nomination.motivation).is_not(None)
        )
    ):
        motivations.setdefault(nid, []).append(text)  # type: ignore[arg-type]
    voters = {v.id: v for v in session.exec(select(Voter).where(col(Voter.id).in_(list(counts))))}
    states = {
        n.voter_id: n
        for n in session.exec(select(Nominee).where(Nominee.election_id == election_id))
    }
    out: list[dict[str, Any]] = []
    for nid, n in counts.items():
        v = voters[nid]
        st = states.get(nid)
        out.append(
            {
                "voter_id": nid,
                "name": v.name,
                "kiesgroep": v.kiesgroep,
                "may_stand": v.may_stand and v.on_roll,
                "nominations": n,
                "motivations": sorted(motivations.get(nid, [])),
                "approached": bool(st and st.approached),
                "response": st.response if st else None,
            }
        )
    out.sort(key=lambda x: (-x["nominations"], x["name"], x["voter_id"]))
    return out


def accepted_nominees(session: Session, election_id: str) -> list[Voter]:
    """Nominees who accepted: list submitters may put them on a list."""
    stmt = (
        select(Voter)
        .join(Nominee, col(Nominee.voter_id) == col(Voter.id))
        .where(
            Nominee.election_id == election_id,
            Nominee.response == "accepted",
            col(Voter.on_roll),
        )
        .order_by(col(Voter.name))
    )
    return list(session.exec(stmt))
