"""Request and response bodies of the tally routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, WithJsonSchema

from api.contract import RESULT_ENTRY_REF


class ShareIn(BaseModel):
    share: str = Field(
        min_length=10,
        max_length=2000,
        description="the share's text form `stembus-share-v1:…` (whitespace is ignored)",
    )


class TallyStatusOut(BaseModel):
    status: str = Field(description="the election's phase")
    k: int | None = Field(description="shares needed to rebuild the sealing key")
    n: int | None = Field(description="trustees (shares made)")
    received: int = Field(description="shares handed in so far")
    indices: list[int] = Field(description="indices of the shares handed in")
    bad_shares: list[dict[str, Any]] = Field(
        default_factory=list, description="shares not consistent with the key: index and reason"
    )
    message: str | None = None
    result_index: int | None = Field(default=None, description="log index of the result entry")


class ResultsOut(BaseModel):
    election: str
    name: str
    organisation: str
    status: str
    result_index: int = Field(description="index of the `result` entry in the log")
    result: Annotated[dict[str, Any], WithJsonSchema(RESULT_ENTRY_REF)] = Field(
        description="the `result` entry (docs/log-entries.md)"
    )
    names: dict[str, Any] = Field(description="display names of groups, lists and candidates")
    record_url: str
    verify: str = Field(description="command that re-checks the whole election")
