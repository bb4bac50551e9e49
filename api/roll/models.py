"""The voter roll (kiezersregister). Personal data: never published; only counts and a
commitment are."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, DateTime, Index, LargeBinary, Text, UniqueConstraint
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


class MailOutbox(SQLModel, table=True):
    """One queued invitation per (election, voter): delivered in the background (api.roll.outbox).

    The new access code waits here only encrypted (AES-256-GCM under the keys-at-rest key,
    label ``mail-code/<election>/<voter>``) and is deleted once the mail server accepted the
    message (its hash then becomes the voter's active code) or the mail finally failed.
    `reason` is the mail server's answer with the recipient's address taken out."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        UniqueConstraint("election_id", "voter_id"),
        Index("ix_mail_outbox_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    election_id: str = Field(foreign_key="election.id", index=True, max_length=32)
    voter_id: int = Field(foreign_key="voter.id")
    status: str = Field(default="queued", max_length=16)  # queued | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # A worker's claim: its random token, and until when the claim holds (a worker killed
    # mid-batch leaves rows that another may take once this has passed).
    claim_token: str | None = Field(default=None, max_length=32)
    claimed_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    reason: str | None = Field(default=None, max_length=200)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # The committee's InvitationText (languages, dates, helpdesk, note, voter page) as JSON.
    text_json: str = Field(sa_column=Column(Text, nullable=False))
    requested_by: str = Field(max_length=16)  # the acting role, for the codes_issued entry
    code_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
