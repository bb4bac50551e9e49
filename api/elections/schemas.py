"""Request and response bodies of the elections API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.timestamps import UtcDateTime
from rules.settings import ElectionSettings


class ElectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, examples=["OR-verkiezing 2027"])
    organisation: str = Field(min_length=1, max_length=200, examples=["Acme B.V."])
    settings: ElectionSettings = Field(default_factory=ElectionSettings)


class SettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settings: ElectionSettings


class ElectionOut(BaseModel):
    id: str
    name: str
    organisation: str
    kind: str
    status: str
    settings: ElectionSettings
    log_size: int
    allowed_transitions: list[str] = Field(description="phases the committee may move to now")
    created_at: UtcDateTime


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Literal["nomination", "candidacy", "lists_published", "voting", "closed", "tallied"] = (
        Field(
            description="`tallied` by hand only from `lists_published` when no kiesgroep holds a "
            "vote: the result (every candidate elected without a vote) is published at once"
        )
    )


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500)


class ElectionList(BaseModel):
    items: list[ElectionOut] = Field(description="one page, newest first")
    total: int = Field(description="elections of this deployment, over all pages")
