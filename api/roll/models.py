"""The voter roll (kiezersregister). Personal data: never published, only counts and a commitment."""

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
