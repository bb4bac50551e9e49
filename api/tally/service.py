"""Closing, trustee shares, reconstruction and the tally (docs/protocol.md "Tally").

Closing: by the committee (the lifecycle transition voting → closed) or at the scheduled end
(`settings.schedule.voting.end`). The scheduled close happens without a human in two ways, both
through :func:`close_if_due` (the ordinary transition, so the log gets the same
``phase_changed {to: "closed", by: "system"}`` entry): lazily, whenever a tally route touches the
election, and from a background task in the app's lifespan (:func:`close_due_elections`, every
``CLOSE_INTERVAL`` seconds; api.tally.endpoints registers it on its router).

Shares: a trustee hands in a share (text form of crypto.shamir) while the election is closed.
Once k distinct indices are in, :func:`crypto.shamir.recover_matching` tries k-subsets until the
X25519 public key derived from the candidate secret equals the published sealing key; shares
inconsistent with it are reported by index only. Then, in the same transaction: the
``decryption_key`` entry, the tally (rules.tally, two streaming passes over the log in the
database), the ``result`` entry, and ``phase_changed {from: closed, to: tallied, by: system}`` —
the lifecycle's ``tallied`` is reached only here — or, for an election in which no kiesgroep
holds a vote, by the committee's transition lists_published → tallied, which appends the result
of :func:`rules.tally.compute_uncontested_result` (every candidate elected without a vote;
docs/rules.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.models import Member
from api.auth.tokens import Principal
from api.db import session_scope
from api.elections import lifecycle
from api.elections import service as elections
from api.elections.models import Election, utcnow
from api.log import atrest
from api.log.models import LogEntry
from api.log.pool import rewrite_all_seq_rows
from api.log.service import append_entry
from api.log.tree_models import LogCheckpoint
from api.problems import ProblemError, problem_type
from api.settings import Settings
from api.tally import proces_verbaal
from api.tally.models import TrusteeShare
from crypto import sealing, shamir
from crypto.canonical import b64d, b64e
from rules.tally import ElectionLog, TallyError, compute_result, compute_uncontested_result

log = logging.getLogger("stembus.tally")

SHARES_NOT_ACCEPTED = problem_type(
    "shares-not-accepted",
    409,
    "Shares are not accepted now",
    "Trustees hand in shares only after voting has closed and before the tally.",
)
INVALID_SHARE = problem_type(
    "invalid-share",
    422,
    "Invalid share",
    "The share is malformed, fails its checksum, or belongs to another election or k-of-n.",
)
SHARE_INDEX_TAKEN = problem_type(
    "share-index-taken",
    409,
    "Share already handed in",
    "Another trustee has already handed in the share with this index.",
)
NOT_TALLIED = problem_type(
    "not-tallied", 409, "No result yet", "The election has not been tallied yet."
)

SYSTEM = Principal(subject="system", roles=frozenset())
CLOSE_INTERVAL = 30.0
BATCH = 2000


# --------------------------------------------------------------------------------- closing


def _voting_end(election: Election) -> datetime | None:
    end = elections.settings_of(election).schedule.voting
    if end is None or end.end is None:
        return None
    when = end.end
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def close_if_due(session: Session, election: Election, now: datetime | None = None) -> bool:
    """Close voting when its scheduled end has passed (the ordinary lifecycle transition)."""
    if election.status != "voting":
        return False
    end = _voting_end(election)
    if end is None or (now or datetime.now(UTC)) < end:
        return False
    elections.transition(session, election, "closed", SYSTEM)
    log.info("voting closed at the scheduled end", extra={"election": election.id})
    return True


def close_due_elections(engine: Engine, settings: Settings) -> list[str]:
    """Close every election whose voting end has passed; returns their ids."""
    closed: list[str] = []
    for session in session_scope(engine, {"settings": settings}):
        ids = list(session.exec(select(Election.id).where(Election.status == "voting")))
    for eid in ids:
        for session in session_scope(engine, {"settings": settings}):
            election = elections.get_election(session, eid, for_update=True)
            if close_if_due(session, election):
                closed.append(eid)
    return closed


# --------------------------------------------------------------------------------- the log


def iter_entries(
    session: Session,
    election_id: str,
    types: tuple[str, ...] | None = None,
    upto: int | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Entries in index order, fetched in keyset batches (bounded memory on both databases)."""
    for idx, body in iter_bodies(session, election_id, types, upto):
        yield idx, json.loads(body)


def iter_bodies(
    session: Session,
    election_id: str,
    types: tuple[str, ...] | None = None,
    upto: int | None = None,
) -> Iterator[tuple[int, bytes]]:
    start = 0
    while True:
        stmt = sa_select(col(LogEntry.idx), col(LogEntry.body)).where(
            col(LogEntry.election_id) == election_id, col(LogEntry.idx) >= start
        )
        if types:
            stmt = stmt.where(col(LogEntry.type).in_(types))
        if upto is not None:
            stmt = stmt.where(col(LogEntry.idx) < upto)
        rows = session.execute(stmt.order_by(col(LogEntry.idx)).limit(BATCH)).all()
        if not rows:
            return
        for idx, body in rows:
            yield int(idx), bytes(body)
        start = int(rows[-1][0]) + 1


def latest_entry(
    session: Session, election_id: str, type_: str
) -> tuple[int, dict[str, Any]] | None:
    row = session.exec(
        select(LogEntry)
        .where(LogEntry.election_id == election_id, LogEntry.type == type_)
        .order_by(col(LogEntry.idx).desc())
        .limit(1)
    ).first()
    return (row.idx, json.loads(row.body)) if row else None


def lot_checkpoint(session: Session, election_id: str, closed_index: int) -> tuple[int, bytes]:
    """The first checkpoint whose size > the index of the voting-closed entry (rules.tally)."""
    cp = session.exec(
        select(LogCheckpoint)
        .where(LogCheckpoint.election_id == election_id, col(LogCheckpoint.size) > closed_index)
        .order_by(col(LogCheckpoint.size))
        .limit(1)
    ).first()
    if cp is None:
        raise TallyError("no checkpoint contains the voting-closed entry")
    return cp.size, bytes(cp.root)


# --------------------------------------------------------------------------------- shares


@dataclass
class TallyStatus:
    status: str
    k: int | None = None
    n: int | None = None
    received: list[int] = field(default_factory=list)
    bad: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None
    result_index: int | None = None


def _keys(session: Session, election_id: str) -> dict[str, Any] | None:
    found = latest_entry(session, election_id, "keys")
    return found[1] if found else None


def _label(election_id: str, index: int) -> str:
    return f"trustee-share/{election_id}/{index}"


def _stored_shares(session: Session, settings: Settings, election_id: str) -> list[shamir.Share]:
    rows = session.exec(
        select(TrusteeShare)
        .where(TrusteeShare.election_id == election_id)
        .order_by(col(TrusteeShare.share_index))
    ).all()
    out = []
    for row in rows:
        try:
            text = atrest.decrypt(
                settings, bytes(row.share_enc), _label(election_id, row.share_index)
            )
            out.append(shamir.Share.from_text(text.decode("ascii"), verify=False))
        except (InvalidTag, ValueError):
            log.error("stored share could not be read", extra={"election": election_id})
    return out


def status(session: Session, election: Election) -> TallyStatus:
    keys = _keys(session, election.id)
    trustees = (keys or {}).get("trustees") or {}
    indices = list(
        session.exec(
            select(TrusteeShare.share_index)
            .where(TrusteeShare.election_id == election.id)
            .order_by(col(TrusteeShare.share_index))
        )
    )
    st = TallyStatus(
        status=election.status, k=trustees.get("k"), n=trustees.get("n"), received=indices
    )
    found = latest_entry(session, election.id, "result") if election.status == "tallied" else None
    if found:
        st.result_index = found[0]
    return st


def submit_share(
    session: Session, settings: Settings, election: Election, principal: Principal, text: str
) -> TallyStatus:
    if election.status != "closed":
        raise ProblemError(SHARES_NOT_ACCEPTED, f"the election is {election.status}")
    keys = _keys(session, election.id)
    if keys is None:
        raise ProblemError(SHARES_NOT_ACCEPTED, "the election has no published keys")
    trustees = keys.get("trustees") or {}
    k, n = trustees.get("k"), trustees.get("n")
    try:
        share = shamir.Share.from_text(text)
    except shamir.ShareError as exc:
        raise ProblemError(INVALID_SHARE, str(exc)) from None
    if share.election_id != election.id:
        raise ProblemError(INVALID_SHARE, "the share belongs to another election")
    if (share.threshold, share.total) != (k, n):
        raise ProblemError(INVALID_SHARE, f"the election's trustees are {k} of {n}")
    if principal.holder_id is None:
        raise ProblemError(INVALID_SHARE, "the token names no trustee")
    row = session.get(TrusteeShare, (election.id, share.index))
    if row is not None and row.member_id != principal.holder_id:
        raise ProblemError(SHARE_INDEX_TAKEN, f"share {share.index} was handed in already")
    blob = atrest.encrypt(
        settings, share.to_text().encode("ascii"), _label(election.id, share.index)
    )
    if row is None:
        row = TrusteeShare(
            election_id=election.id,
            share_index=share.index,
            member_id=principal.holder_id,
            share_enc=blob,
        )
    else:  # the same trustee corrects their share
        row.share_enc = blob
    session.add(row)
    session.flush()
    st = status(session, election)
    if k is None or len(st.received) < k:
        st.message = f"{len(st.received)} of {k} shares needed received"
        return st
    shares = _stored_shares(session, settings, election.id)
    sealing_key = b64d(keys["sealing_key"])
    try:
        recovery = shamir.recover_matching(
            shares,
            lambda secret: sealing.public_key_from_private(secret) == sealing_key,
            election_id=election.id,
        )
    except shamir.RecoveryError as exc:
        st.bad = [{"index": b.index, "reason": b.reason} for b in exc.bad]
        st.message = (
            f"the {len(shares)} shares do not reconstruct the sealing key: at least one is wrong; "
            "another trustee's share is needed"
        )
        return st
    run_tally(session, election, recovery.secret, list(recovery.used_indices))
    st = status(session, election)
    st.bad = [{"index": b.index, "reason": b.reason} for b in recovery.bad]
    st.message = "the sealing key is reconstructed and the election is tallied"
    return st


# --------------------------------------------------------------------------------- tally


def _log_context(session: Session, election_id: str) -> ElectionLog:
    ctx = ElectionLog()
    for idx, entry in iter_entries(session, election_id):
        ctx.add(idx, entry)
    return ctx


@lifecycle.guard("tallied")
def _uncontested_only(session: Session, election: Election, ctx: Any) -> list[str]:
    """By hand, `tallied` is only for an election in which no kiesgroep holds a vote."""
    if election.kind == "consultation":
        return ["a consultation always holds a vote: voting, closing and the tally come first"]
    published = latest_entry(session, election.id, "lists_published")
    if published is None:
        return ["the lists are not published"]
    contested = [g["group"] for g in published[1].get("groups", []) if g.get("vote_held", True)]
    if contested:
        return [
            f"kiesgroep(en) {', '.join(contested)} hold a vote: prepare the keys "
            "(stembus ceremony), open voting, close it and let the trustees tally"
        ]
    if latest_entry(session, election.id, "keys") is not None:
        return ["the voting keys are prepared: open voting instead"]
    return []


@lifecycle.on_enter("tallied")
def _append_uncontested_result(session: Session, election: Election, ctx: Any) -> None:
    result = compute_uncontested_result(_log_context(session, election.id))
    append_entry(session, election.id, result)
    # The committee's transition is its own audit row (phase_changed); this one says that the
    # result was published without a vote, so the trail names every tally.
    record(session, election.id, "system", "tally_completed", details={"uncontested": True})


def run_tally(
    session: Session, election: Election, secret: bytes, used: list[int]
) -> dict[str, Any]:
    """Append the decryption key, count, append the result, enter ``tallied``."""
    eid = election.id
    # No cast can hold a seq row any more: every one is written anew, none skipped
    # (api.log.pool: no row keeps the transaction of its ballot's arrival).
    rewrite_all_seq_rows(session, eid)
    append_entry(
        session,
        eid,
        {
            "type": "decryption_key",
            "election": eid,
            "sealing_private_key": b64e(secret),
            "shares_used": sorted(used),
        },
    )
    ctx = _log_context(session, eid)
    ctx.check_ready()
    assert ctx.closed_index is not None
    lot_cp = lot_checkpoint(session, eid, ctx.closed_index)
    result = compute_result(ctx, secret, iter_entries(session, eid, ("ballot",)), lot_cp)
    append_entry(session, eid, result)
    election.status = "tallied"
    election.updated_at = utcnow()
    session.add(election)
    session.flush()
    append_entry(
        session,
        eid,
        {
            "type": "phase_changed",
            "election": eid,
            "from": "closed",
            "to": "tallied",
            "by": "system",
        },
    )
    # The tally runs when the k-th share is in: nobody decides it, so the system does.
    record(
        session,
        eid,
        "system",
        "phase_changed",
        subject="phase:tallied",
        details={"from": "closed", "to": "tallied"},
    )
    record(session, eid, "system", "tally_completed", details={"shares_used": sorted(used)})
    session.refresh(election)
    return result


def result_of(session: Session, election: Election) -> tuple[int, dict[str, Any]]:
    close_if_due(session, election)
    if election.status != "tallied":
        raise ProblemError(NOT_TALLIED, f"the election is {election.status}")
    found = latest_entry(session, election.id, "result")
    if found is None:
        raise ProblemError(NOT_TALLIED, "no result entry")
    return found


def proces_verbaal_record(
    session: Session, election: Election, record_url: str
) -> proces_verbaal.Record:
    """Everything the proces-verbaal shows (api.tally.proces_verbaal), from the log, the
    committee and the final checkpoint."""
    index, result = result_of(session, election)
    frozen = latest_entry(session, election.id, "roll_frozen")
    committee = list(
        session.exec(
            select(Member.name)
            .where(
                Member.election_id == election.id,
                col(Member.is_committee).is_(True),
                col(Member.removed_at).is_(None),
            )
            .order_by(col(Member.id))
        )
    )
    cp = session.exec(
        select(LogCheckpoint)
        .where(LogCheckpoint.election_id == election.id)
        .order_by(col(LogCheckpoint.size).desc())
        .limit(1)
    ).first()
    assert cp is not None  # a tallied election has checkpoints
    schedule = elections.settings_of(election).schedule.voting
    return proces_verbaal.Record(
        election_id=election.id,
        name=election.name,
        organisation=election.organisation,
        result=result,
        names=names_of(session, election.id),
        roll_counts=dict((frozen[1].get("counts") if frozen else None) or {}),
        committee=committee,
        checkpoint_size=cp.size,
        checkpoint_root=bytes(cp.root).hex(),
        record_url=record_url,
        determined_at=election.updated_at,
        created_at=election.created_at,
        voting=(schedule.start, schedule.end) if schedule else (None, None),
        result_index=index,
    )


def names_of(session: Session, election_id: str) -> dict[str, Any]:
    """Display names of kiesgroepen, lists, candidates and options, from the public log."""
    out: dict[str, Any] = {"groups": {}, "lists": {}, "candidates": {}, "questions": {}}
    created = latest_entry(session, election_id, "settings_updated") or latest_entry(
        session, election_id, "election_created"
    )
    if created:
        for g in created[1].get("settings", {}).get("kiesgroepen", []):
            out["groups"][g["id"]] = g.get("name", g["id"])
    lists = latest_entry(session, election_id, "lists_published")
    for g in lists[1].get("groups", []) if lists else []:
        for lst in g.get("lists", []):
            out["lists"][lst["id"]] = lst.get("name", lst["id"])
            for c in lst.get("candidates", []):
                out["candidates"][c["id"]] = c.get("name", c["id"])
    questions = latest_entry(session, election_id, "questions_published")
    for q in questions[1].get("questions", []) if questions else []:
        out["questions"][q["id"]] = {
            "text": q.get("text", q["id"]),
            "options": {o["id"]: o.get("text", o["id"]) for o in q.get("options", [])},
            "min_label": q.get("min_label", ""),
            "max_label": q.get("max_label", ""),
        }
    return out
