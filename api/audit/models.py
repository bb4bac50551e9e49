"""One row per committee, operator or scheduler decision (api.audit.service)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel

from api.elections.models import utcnow


class AuditEntry(SQLModel, table=True):
    """Who decided what, when, about what, and why. Written in the transaction of the decision,
    so a decision that is rolled back leaves no row. Never anything about casting or a ballot."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_election_action", "election_id", "action"),)

    id: int | None = Field(default=None, primary_key=True)
    election_id: str = Field(foreign_key="election.id", max_length=32)  # indexed below
    at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # "committee" | "operator" | "system"
    actor_role: str = Field(max_length=16)
    # The member who decided (committee), and their name at the time (scrubbed by the purge).
    actor_member_id: int | None = Field(default=None)
    actor_name: str | None = Field(default=None, max_length=200)
    action: str = Field(max_length=40)
    subject: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    details_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
