"""The pool of issuance and ballot entries, and its flushes (docs/protocol.md "Publication in
shuffled batches"; the rule itself is rules.flush).

Everything here runs holding the election's lock (api.log.group_commit for the voting paths, the
lifecycle transition for the flush at close), so pooling, counting and flushing of one election
are serialised across processes, on PostgreSQL by the election's row lock and on SQLite by the
database's one writer.

What a flush leaves behind orders nothing by arrival:

* the log rows are inserted in log order, which within a run is leaf-hash order, all in the
  flush's one transaction (one `xmin`, physical order = log order);
* the pooled rows are deleted, and the ballots kept back are inserted anew in leaf-hash order
  (their `xmin`/`ctid`, or nothing on SQLite's rowid-less table, are the flush's, not their
  arrival's);
* the per-credential `seq` rows (api.voting.models.BallotSeq) of every credential with a ballot
  in the pool are deleted and inserted anew, in credential order: the `seq` rule itself claims
  the row when the ballot arrives (it must be atomic across pooled and appended ballots), and the
  flush rewrites it, so after the flush its system columns and position are the flush's (but for
  a row a cast holds at that moment, which the flush must not wait for: `_rewrite_seq_rows`);
  the close and the tally rewrite every row of the election.

Dead row versions stay in PostgreSQL's heap until VACUUM (they are not "surviving rows", and a
dump with pg_dump never shows them); the deployment's autovacuum removes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, func, insert, select
from sqlmodel import Session

from api.elections import lifecycle
from api.elections.models import Election
from api.log.models import LogEntry, PooledEntry
from api.log.service import append_rows, check_entry
from api.voting.models import BallotSeq
from crypto.canonical import b64d, canonical_json
from crypto.merkle import leaf_hash
from rules import flush as flush_rules
from rules.settings import ElectionSettings

_POOL = PooledEntry.__table__  # type: ignore[attr-defined]
_SEQ = BallotSeq.__table__  # type: ignore[attr-defined]
_P = _POOL.c
_INSERT = insert(_POOL)
_COUNT_BALLOTS = select(func.count()).where(
    _P.election_id == bindparam("e"), _P.group == bindparam("g"), _P.type == "ballot"
)
_GROUP_ROWS = select(_P.leaf_hash, _P.type, _P.body).where(
    _P.election_id == bindparam("e"), _P.group == bindparam("g")
)
_DELETE_GROUP = delete(_POOL).where(_P.election_id == bindparam("e"), _P.group == bindparam("g"))
_POOLED_GROUPS = select(_P.group).where(_P.election_id == bindparam("e")).distinct()
_HAS = select(_P.type).where(_P.election_id == bindparam("e"), _P.leaf_hash == bindparam("h"))
_SEQ_ROWS = select(_SEQ.c.credential, _SEQ.c.group, _SEQ.c.seq).where(
    _SEQ.c.election_id == bindparam("e"),
    _SEQ.c.credential.in_(bindparam("creds", expanding=True)),
)
_SEQ_ALL = select(_SEQ.c.credential, _SEQ.c.group, _SEQ.c.seq).where(
    _SEQ.c.election_id == bindparam("e")
)
_SEQ_DELETE = delete(_SEQ).where(
    _SEQ.c.election_id == bindparam("e"),
    _SEQ.c.credential.in_(bindparam("creds", expanding=True)),
)
_SEQ_INSERT = insert(_SEQ)
_CHUNK = 5000


class Encoded(NamedTuple):
    """An entry with its RFC 8785 bytes and leaf hash, for a caller that computed them already
    (the cast path needs the hash before it pools the ballot: no second encoding)."""

    entry: dict[str, Any]
    body: bytes
    leaf_hash: bytes


class Pooled:
    """One pooled entry: its leaf hash, type and canonical bytes."""

    __slots__ = ("leaf_hash", "type", "body")

    def __init__(self, leaf: bytes, type_: str, body: bytes) -> None:
        self.leaf_hash = leaf
        self.type = type_
        self.body = body


def pool_entries(
    session: Session, election_id: str, entries: Sequence[dict[str, Any] | Encoded]
) -> None:
    """Pool accepted issuance and ballot entries (each names its election and group), given as
    they are or already encoded. An entry already pooled (the same bytes) is not pooled twice:
    the caller's atomic rule decides."""
    if not entries:
        return
    rows = []
    for item in entries:
        if isinstance(item, Encoded):
            e, body, leaf = item
        else:
            e = item
            body = canonical_json(e)
            leaf = leaf_hash(body)
        check_entry(election_id, e)
        if e["type"] not in ("issuance", "ballot"):
            raise ValueError(f"only issuance and ballot entries are pooled, not {e['type']}")
        rows.append(
            {
                "election_id": election_id,
                "leaf_hash": leaf,
                "group": e["group"],
                "type": e["type"],
                "body": body,
            }
        )
    rows.sort(key=lambda r: r["leaf_hash"])
    session.execute(_INSERT, rows)


def is_pooled(session: Session, election_id: str, entry_hash: bytes) -> bool:
    return session.execute(_HAS, {"e": election_id, "h": entry_hash}).first() is not None


def pooled_ballots(session: Session, election_id: str, group: str) -> int:
    return int(session.execute(_COUNT_BALLOTS, {"e": election_id, "g": group}).scalar_one())


def flush_if_due(session: Session, election_id: str, group: str, batch_size: int) -> bool:
    """Flush the group if its pool holds 2·B ballots (rules.flush.due); True if it did."""
    if not flush_rules.due(pooled_ballots(session, election_id, group), batch_size):
        return False
    flush(session, election_id, group, batch_size, whole=False)
    return True


def flush_all(session: Session, election_id: str, batch_size: int) -> int:
    """Flush every pool of the election whole (at close, before `voting closed`), one group after
    another in group order, each with its checkpoint; returns the entries appended."""
    groups = sorted(session.execute(_POOLED_GROUPS, {"e": election_id}).scalars())
    return sum(len(flush(session, election_id, g, batch_size, whole=True)) for g in groups)


def flush(
    session: Session, election_id: str, group: str, batch_size: int, *, whole: bool
) -> list[LogEntry]:
    """One flush of one group (rules.flush.plan_flush), then one signed checkpoint."""
    found = session.execute(_GROUP_ROWS, {"e": election_id, "g": group}).all()
    pooled = [Pooled(bytes(h), t, bytes(b)) for h, t, b in found]
    issuances = [p for p in pooled if p.type == "issuance"]
    ballots = [p for p in pooled if p.type == "ballot"]
    plan = flush_rules.plan_flush(issuances, ballots, batch_size, whole=whole)
    appended = [*plan.issuances, *plan.ballots]
    session.execute(_DELETE_GROUP, {"e": election_id, "g": group})
    if plan.kept:
        session.execute(
            _INSERT,
            [
                {
                    "election_id": election_id,
                    "leaf_hash": p.leaf_hash,
                    "group": group,
                    "type": p.type,
                    "body": p.body,
                }
                for p in plan.kept  # in leaf-hash order (plan_flush sorts them)
            ],
        )
    _rewrite_seq_rows(session, election_id, ballots)
    if not appended:
        return []
    return append_rows(session, election_id, [(p.type, p.body, p.leaf_hash) for p in appended])


def _rewrite_seq_rows(session: Session, election_id: str, ballots: Sequence[Pooled] | None) -> None:
    """Delete and insert anew, in credential order, the seq rows of the credentials of
    `ballots` (None: of every credential of the election), so that their system columns and
    position are this transaction's.

    A cast claims its credential's row *before* it waits for the election's lock, which the
    flush holds (api.log.group_commit: lock order is job rows, then the election). So the flush
    must never wait for a seq row: on PostgreSQL it takes only the rows no cast holds now
    (FOR UPDATE SKIP LOCKED). A row skipped is one a cast is changing at this moment: if that
    cast is accepted, its row is its own new version (an arrival of a ballot now pooled, to be
    rewritten by that ballot's flush); if not, the row is rewritten by the next flush of its
    group, the close, or the tally (`rewrite_all_seq_rows`), at the latest. SQLite has one
    writer at a time, so no cast holds a row while the flush runs."""
    params: dict[str, Any] = {"e": election_id}
    if ballots is None:
        stmt = _SEQ_ALL
    else:
        creds = sorted({_credential(p.body) for p in ballots})
        if not creds:
            return
        params["creds"] = creds
        stmt = _SEQ_ROWS
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = sorted((bytes(c), g, s) for c, g, s in session.execute(stmt, params).all())
    if not rows:
        return
    # In chunks: an election's every row (at the close, at the tally) can be far more than the
    # bound parameters one statement may carry (SQLite: 32,766).
    for i in range(0, len(rows), _CHUNK):
        chunk = [c for c, _, _ in rows[i : i + _CHUNK]]
        session.execute(_SEQ_DELETE, {"e": election_id, "creds": chunk})
    session.execute(
        _SEQ_INSERT,
        [{"election_id": election_id, "credential": c, "group": g, "seq": s} for c, g, s in rows],
    )


def rewrite_all_seq_rows(session: Session, election_id: str) -> None:
    """Every seq row of the election anew (see `_rewrite_seq_rows`): at the close and when the
    result is published, so no row is left with the transaction of a ballot's arrival."""
    _rewrite_seq_rows(session, election_id, None)


def _credential(body: bytes) -> bytes:
    return b64d(json.loads(body)["credential"])


@lifecycle.on_enter("closed")
@lifecycle.on_enter("cancelled")
def _flush_at_close(session: Session, election: Election, ctx: Any) -> None:
    """Every pool whole, just before the `phase_changed` entry that closes voting (or cancels
    the election): every promise given is kept by the log that ends voting."""
    settings = ElectionSettings.model_validate_json(election.settings_json)
    flush_all(session, election.id, settings.batch_size)
    rewrite_all_seq_rows(session, election.id)
