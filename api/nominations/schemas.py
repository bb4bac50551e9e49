"""Request and response bodies of the nomination campaign."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.bounds import RowIdField


class Colleague(BaseModel):
    """Only what is needed to pick a person: no e-mail address, no employee number."""

    id: int
    name: str
    kiesgroep: str


class ColleagueList(BaseModel):
    items: list[Colleague] = Field(description="at most 20, by name")


class NominationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    nominee_id: RowIdField
    motivation: str | None = Field(default=None, max_length=500)


class NominationOut(BaseModel):
    remaining: int = Field(description="nominations you can still make")


class MyNominations(BaseModel):
    campaign_open: bool
    scope: Literal["kiesgroep", "any"]
    max_per_voter: int
    made: int
    remaining: int
    nominated: list[Colleague] = Field(description="the colleagues you nominated")
    received: int = Field(description="how many colleagues nominated you (never who)")
    approached: bool = Field(description="the committee recorded that it approached you")
    response: Literal["accepted", "declined"] | None


class ResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept: bool


class NomineeState(BaseModel):
    voter_id: int
    approached: bool
    response: Literal["accepted", "declined"] | None


class RankedNominee(BaseModel):
    voter_id: int
    name: str
    kiesgroep: str
    may_stand: bool
    nominations: int
    motivations: list[str] = Field(description="sorted by text; never who wrote them")
    approached: bool
    response: Literal["accepted", "declined"] | None


class Ranking(BaseModel):
    items: list[RankedNominee]
