"""Tables of the Merkle log: perfect-subtree hashes, signed checkpoints and the log key.

Rows are written once and never updated (crypto.merkle: perfect subtrees are immutable), and no
row holds a time: a checkpoint's position in the log is its size.
"""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel


class LogNode(SQLModel, table=True):
    """Hash of the perfect subtree over leaves [idx·2^level, (idx+1)·2^level); level 0 = leaves."""

    __tablename__ = "log_node"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    level: int = Field(primary_key=True)
    idx: int = Field(primary_key=True)
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class LogCheckpoint(SQLModel, table=True):
    """A C2SP tlog-checkpoint signed by the log key, one per append (or batch of appends)."""

    __tablename__ = "log_checkpoint"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    size: int = Field(primary_key=True)
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))


class LogKey(SQLModel, table=True):
    """The election's Ed25519 log key; the private half only encrypted (api.log.atrest)."""

    __tablename__ = "log_key"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    origin: str = Field(max_length=300)
    public_key: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    private_key_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
