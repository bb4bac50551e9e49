"""An election (verkiezing) or consultation (raadpleging) and its lifecycle state."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Election(SQLModel, table=True):
    __tablename__ = "election"

    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    organisation: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    status: str = Field(max_length=32, index=True)
    settings_json: str = Field(sa_column=Column(Text, nullable=False))
    # Number of entries in the election's public log; incremented atomically by every append,
    # which also serialises appends per election (row lock on PostgreSQL, write lock on SQLite).
    log_size: int = Field(default=0)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
