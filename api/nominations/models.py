"""Nominations, stored so that nobody can read back who nominated whom.

A nomination row carries the nominee, the motivation and a `tag` = HMAC(key, election ‖ nominator
‖ nominee) — enough to refuse a second nomination of the same colleague by the same voter, but
no nominator column. How many nominations a voter has made is a separate counter
(`nomination_quota`), so `max_per_voter` holds. Rows carry no timestamp, so insertion times do not
link the two tables either. What remains: whoever holds both the deployment secret and the
database can recompute tags for every (voter, nominee) pair; no endpoint can.
"""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Nomination(SQLModel, table=True):
    __tablename__ = "nomination"
    __table_args__ = (UniqueConstraint("tag"),)

    id: int | None = Field(default=None, primary_key=True)
    election_id: str = Field(foreign_key="election.id", index=True, max_length=32)
    nominee_id: int = Field(foreign_key="voter.id", index=True)
    motivation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    tag: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class NominationQuota(SQLModel, table=True):
    """How many nominations a voter has made (never which)."""

    __tablename__ = "nomination_quota"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    voter_id: int = Field(foreign_key="voter.id", primary_key=True)
    used: int = 0


class Nominee(SQLModel, table=True):
    """The committee's follow-up of a nominee: approached, and the nominee's answer."""

    __tablename__ = "nominee"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=32)
    voter_id: int = Field(foreign_key="voter.id", primary_key=True)
    approached: bool = False
    response: str | None = Field(default=None, max_length=16)  # "accepted" | "declined"
