"""The election log (bulletin board): one append-only sequence of typed entries per election.

Each row is one leaf of the election's RFC 9162 Merkle tree: `body` holds the RFC 8785 bytes and
`leaf_hash` = SHA-256(0x00 ‖ body). The Merkle interior nodes and signed checkpoints are kept in
their own tables (api.log), so proofs never need a rebuild.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, LargeBinary
from sqlmodel import Field, SQLModel


class LogEntry(SQLModel, table=True):
    __tablename__ = "log_entry"
    __table_args__ = (Index("ix_log_entry_election_type", "election_id", "type"),)

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    idx: int = Field(primary_key=True)
    type: str = Field(max_length=64)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, index=True))


class PooledEntry(SQLModel, table=True):
    """An accepted `issuance` or `ballot` entry waiting for its kiesgroep's flush (docs/protocol.md
    "Publication in shuffled batches"; api.log.pool). Keyed by content only: no arrival time,
    no counter, no voter. The API never serves these rows; a flush appends them to the log and
    deletes them (re-inserting the ballots it keeps back, so no surviving row carries the
    transaction or physical position of its arrival). On SQLite the table has no rowid, which
    would otherwise number the rows in arrival order."""

    __tablename__ = "log_pool"
    __table_args__ = (
        Index("ix_log_pool_election_group", "election_id", "group"),
        {"sqlite_with_rowid": False},
    )

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    group: str = Field(max_length=32)
    type: str = Field(max_length=16)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
