"""The voter roll (kiezersregister). Personal data: never published; only counts and a
commitment are."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.elections.models import utcnow


class Voter(SQLModel, table=True):
    """One employee on an election's roll, with eligibility computed from the settings."""

    __tablename__ = "voter"
    __table_args__ = (UniqueConstraint("election_id", "employee_number"),)

    id: int | None = Field(default=None, primary_key=True)
    election_id: str = Field(foreign_key="election.id", index=True, max_length=32)
    employee_number: str = Field(max_length=64)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    kiesgroep: str = Field(max_length=32)
    employment_start: date = Field(sa_column=Column(Date, nullable=False))
    agency_worker: bool = False
    # Computed from the settings (rules.eligibility), then the committee's override if any.
    may_vote: bool = False
    may_stand: bool = False
    vote_override: bool | None = None
    stand_override: bool | None = None
    override_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # A re-import that leaves an employee out keeps the row (codes, candidacies and objections
    # refer to it) but takes them off the roll: no login, may_vote and may_stand false.
    on_roll: bool = True


class RollState(SQLModel, table=True):
    """Per election: whether the roll is frozen, and the commitment published when it was."""

    __tablename__ = "roll_state"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    frozen: bool = False
    commitment: str | None = Field(default=None, max_length=64)
    imports: int = 0
    frozen_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class Objection(SQLModel, table=True):
    """A voter's objection (bezwaar) to their own registration; the committee resolves it."""

    __tablename__ = "roll_objection"

    id: int | None = Field(default=None, primary_key=True)
    election_id: str = Field(foreign_key="election.id", index=True, max_length=32)
    voter_id: int = Field(foreign_key="voter.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", max_length=16)  # "open" | "resolved"
    resolution: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    resolved_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
