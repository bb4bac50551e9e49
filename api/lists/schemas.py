"""Request and response bodies of union accounts, candidate lists, consent and publication."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from api.bounds import RowIdField
from api.timestamps import UtcDateTime


class SubmitterIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    union: str = Field(min_length=1, max_length=200, examples=["FNV"])
    name: str = Field(min_length=1, max_length=200, description="the representative")
    email: EmailStr | None = None


class SubmitterOut(BaseModel):
    id: int
    union: str
    name: str
    email: str | None
    active: bool


class SubmitterWithCode(SubmitterOut):
    access_code: str = Field(description="shown once; the account logs in with it")


class SubmitterList(BaseModel):
    items: list[SubmitterOut]


class ListIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kiesgroep: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200, examples=["FNV", "Vrije lijst Jansen"])
    not_union_member: bool = Field(
        default=False,
        description="free lists (voters): I declare I am not a member of a union that submits "
        "a list (WOR art. 9); ignored for union accounts",
    )


class CandidatesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voter_ids: list[RowIdField] = Field(max_length=100, description="in list order, first = 1")


class CandidateOut(BaseModel):
    id: int
    voter_id: int
    name: str
    position: int
    consent: bool | None = Field(description="null: not yet answered")
    problems: list[str] = Field(description="why the candidate could not be accepted now")


class ListOut(BaseModel):
    id: int
    kiesgroep: str
    name: str
    kind: Literal["union", "free"]
    status: Literal["draft", "submitted", "accepted", "rejected"]
    rejection_reason: str | None
    submitted_at: UtcDateTime | None
    submitted_by: str = Field(description="the union, or 'vrije lijst' for a free list")
    candidates: list[CandidateOut]


class ListList(BaseModel):
    items: list[ListOut]
    window_open: bool = Field(description="lists can be created, changed and submitted now")


class ValidationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    accept: bool
    reason: str | None = Field(default=None, max_length=2000, description="required to reject")


class CandidacyOut(BaseModel):
    candidate_id: int
    list_id: int
    list_name: str
    kiesgroep: str
    position: int
    list_status: str
    consent: bool | None


class CandidacyList(BaseModel):
    items: list[CandidacyOut]


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consent: bool


class PersonOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order: Literal["alphabetical", "lot"]


class PersonOrderOut(BaseModel):
    order: Literal["alphabetical", "lot"]
    lot_seed: str | None = Field(description="hex seed used by the lot, after publication")


class PublicCandidate(BaseModel):
    id: str
    name: str
    position: int


class PublicList(BaseModel):
    id: str
    name: str
    kind: str
    candidates: list[PublicCandidate]


class PublicGroup(BaseModel):
    id: str
    name: str
    seats: int | None
    voters: int | None = Field(description="voters entitled to vote, once the roll is frozen")
    vote_held: bool | None = Field(
        description="after publication: false when the group has no more candidates than "
        "seats; all its candidates are then elected without a vote"
    )
    votes_per_voter: int | None
    lists: list[PublicList]


class PublicOption(BaseModel):
    id: str
    text: str


class PublicQuestion(BaseModel):
    id: str
    text: str
    rule: str
    max_choices: int
    options: list[PublicOption]


class ElectionStatus(BaseModel):
    election: str
    status: str
    roll_frozen: bool
    lists_published: bool
    system: str
    groups: list[PublicGroup]
    questions: list[PublicQuestion]
