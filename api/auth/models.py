"""Committee members, trustees and access codes. Voters live in the roll (api.roll)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.elections.models import utcnow


class Member(SQLModel, table=True):
    """A member of an election's committee (verkiezingscommissie), possibly a trustee."""

    __tablename__ = "member"

    id: int | None = Field(default=None, primary_key=True)
    election_id: str = Field(foreign_key="election.id", index=True, max_length=32)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    is_committee: bool = True
    is_trustee: bool = False
    # Set when the member is removed (DELETE …/members/{id}): the row stays, for the trustee
    # shares and the audit trail that name it, but the member no longer logs in or is listed.
    removed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class AccessCode(SQLModel, table=True):
    """A personal access code, stored only as a keyed hash. One active code per holder."""

    __tablename__ = "access_code"
    __table_args__ = (UniqueConstraint("code_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    election_id: str = Field(foreign_key="election.id", index=True, max_length=32)
    holder_kind: str = Field(max_length=16)  # "member" | "voter"
    holder_id: int = Field(index=True)
    code_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    active: bool = True
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class LoginThrottle(SQLModel, table=True):
    """Failed login attempts per client and election in a fixed window (no raw addresses)."""

    __tablename__ = "login_throttle"

    election_id: str = Field(primary_key=True, max_length=32)
    client_hash: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    window_start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    failures: int = 0
