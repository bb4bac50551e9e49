"""Appending to and reading an election's public log.

Appends are serialised per election by one atomic `UPDATE election SET log_size = log_size + 1
... RETURNING log_size`: on PostgreSQL it takes the election's row lock until commit, on SQLite
the database write lock, so indices are dense and never reused even under concurrency.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from api.elections.models import Election
from api.log import tree
from api.log.models import LogEntry
from crypto.canonical import canonical_json
from crypto.merkle import leaf_hash

_ELECTION = Election.__table__  # type: ignore[attr-defined]
_ENTRY = LogEntry.__table__  # type: ignore[attr-defined]
# Built once (see api.db on hot-path statements).
_RESERVE = (
    update(_ELECTION)
    .where(_ELECTION.c.id == bindparam("eid"))
    .values(log_size=_ELECTION.c.log_size + bindparam("n"))
    .returning(_ELECTION.c.log_size)
)
_INSERT_ENTRIES = insert(_ENTRY)

FORBIDDEN_KEYS = frozenset({"email", "e_mail", "ip", "ip_address", "employee_number", "voter_name"})


def _check_public(entry: dict[str, Any]) -> None:
    # A guard against a careless caller: these keys never belong in the public log
    # (docs/protocol.md).
    stack: list[Any] = [entry]
    while stack:
        obj = stack.pop()
        if isinstance(obj, dict):
            bad = FORBIDDEN_KEYS & set(obj)
            if bad:
                raise ValueError(f"personal data key {sorted(bad)} in a public log entry")
            stack.extend(obj.values())
        elif isinstance(obj, list):
            stack.extend(obj)


def reserve_indices(session: Session, election_id: str, count: int) -> int:
    """Atomically reserve `count` log indices; returns the first one."""
    new_size = session.execute(_RESERVE, {"eid": election_id, "n": count}).scalar_one()
    # A Core UPDATE: no ORM evaluation over the identity map (measurable per append); the one
    # object it would update, this election if loaded, is set here instead.
    loaded = session.identity_map.get(identity_key(Election, election_id))
    if loaded is not None:
        set_committed_value(loaded, "log_size", int(new_size))
    return int(new_size) - count


def check_entry(election_id: str, e: dict[str, Any]) -> None:
    """What every entry of the public log must be: typed, of its election, no personal data."""
    if not isinstance(e.get("type"), str):
        raise ValueError("a log entry needs a string `type`")
    if e.get("election") != election_id:
        raise ValueError("a log entry must name its election")
    _check_public(e)


def append_entries(
    session: Session,
    election_id: str,
    entries: Sequence[dict[str, Any]],
) -> list[LogEntry]:
    """Append typed entries (each a JSON object with `type`) and return the stored rows, with
    one signed checkpoint for the new size."""
    if not entries:
        return []
    for e in entries:
        check_entry(election_id, e)
    encoded = []
    for e in entries:
        body = canonical_json(e)
        encoded.append((e["type"], body, leaf_hash(body)))
    return append_rows(session, election_id, encoded)


def append_rows(
    session: Session,
    election_id: str,
    encoded: Sequence[tuple[str, bytes, bytes]],
) -> list[LogEntry]:
    """Append entries already checked and encoded as (type, canonical bytes, leaf hash), in this
    order, with the Merkle tree and a signed checkpoint (api.log.tree.after_append)."""
    if not encoded:
        return []
    first = reserve_indices(session, election_id, len(encoded))
    rows = [
        LogEntry(election_id=election_id, idx=first + i, type=t, body=body, leaf_hash=leaf)
        for i, (t, body, leaf) in enumerate(encoded)
    ]
    # Core INSERT: one statement, no unit-of-work bookkeeping; the rows stay plain objects.
    session.execute(
        _INSERT_ENTRIES,
        [
            {
                "election_id": r.election_id,
                "idx": r.idx,
                "type": r.type,
                "body": r.body,
                "leaf_hash": r.leaf_hash,
            }
            for r in rows
        ],
    )
    # The Merkle tree and a signed checkpoint follow every append, in the same transaction.
    tree.after_append(session, tree.settings_of_session(session), election_id, rows)
    return rows


def append_entry(session: Session, election_id: str, entry: dict[str, Any]) -> LogEntry:
    return append_entries(session, election_id, [entry])[0]


def read_entries(session: Session, election_id: str, start: int, limit: int) -> list[LogEntry]:
    stmt = (
        select(LogEntry)
        .where(LogEntry.election_id == election_id, col(LogEntry.idx) >= start)
        .order_by(col(LogEntry.idx))
        .limit(limit)
    )
    return list(session.exec(stmt))


def entries_of_type(session: Session, election_id: str, type_: str) -> list[LogEntry]:
    stmt = (
        select(LogEntry)
        .where(LogEntry.election_id == election_id, LogEntry.type == type_)
        .order_by(col(LogEntry.idx))
    )
    return list(session.exec(stmt))
