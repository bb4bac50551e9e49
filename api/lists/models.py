"""Union representative accounts, candidate lists and candidates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel

from api.elections.models import utcnow


class Submitter(SQLModel, table=True):
    """A union representative account (holder kind "submitter"), registered by the committee."""

    __tablename__ = "list_submitter"

    id: int | None = Field(default=None, primary_key=True)
    election_id: str = Field(foreign_key="election.id", index=True, max_length=32)
    union: str = Field(max_length=200)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    active: bool = True
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class CandidateList(SQLModel, table=True):
    """A list for one kiesgroep: draft → submitted → accepted | rejected (→ draft to fix)."""

    __tablename__ = "candidate_list"

    id: int | None = Field(default=None, primary_key=True)
    election_id: str = Field(foreign_key="election.id", index=True, max_length=32)
    kiesgroep: str = Field(max_length=32)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)  # "union" | "free"
    submitter_id: int | None = Field(default=None, foreign_key="list_submitter.id")
    voter_id: int | None = Field(default=None, foreign_key="voter.id")
    status: str = Field(default="draft", max_length=16)
    rejection_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    submitted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Candidate(SQLModel, table=True):
    """A person on a list, in order. `consent` is given through the person's own voter login."""

    __tablename__ = "candidate"

    id: int | None = Field(default=None, primary_key=True)
    election_id: str = Field(foreign_key="election.id", index=True, max_length=32)
    list_id: int = Field(foreign_key="candidate_list.id", index=True)
    voter_id: int = Field(foreign_key="voter.id", index=True)
    position: int
    consent: bool | None = None


class ListPublication(SQLModel, table=True):
    """Per election: the person-system order and, after publication, what was published."""

    __tablename__ = "list_publication"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    person_order: str = Field(default="alphabetical", max_length=16)  # or "lot"
    published: bool = False
    lot_seed: str | None = Field(default=None, max_length=64)
