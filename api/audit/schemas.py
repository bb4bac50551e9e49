"""The audit trail as the API answers it (contract: docs/audit.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.audit.service import Action
from api.timestamps import UtcDateTime


class Actor(BaseModel):
    role: Literal["committee", "operator", "system"]
    member_id: int | None = Field(description="the committee member who decided; else null")
    name: str | None = Field(
        description="the member's name at the time (null for the operator and the system, and "
        "after the purge)"
    )


class AuditEntryOut(BaseModel):
    id: int
    at: UtcDateTime
    actor: Actor
    action: Action
    subject: str | None = Field(
        description="what the decision is about, `<kind>:<id>` (e.g. `voter:12`, `list:3`, "
        "`phase:voting`)"
    )
    reason: str | None = Field(description="the reason given, where the decision takes one")
    details: dict[str, Any] = Field(description="counts and flags of the decision")


class AuditPage(BaseModel):
    total: int = Field(description="entries that match, over all pages")
    items: list[AuditEntryOut] = Field(description="newest first")


class AuditEntryWithElection(AuditEntryOut):
    election_id: str


class AuditPageAll(BaseModel):
    total: int = Field(description="entries that match, over all pages")
    items: list[AuditEntryWithElection] = Field(description="newest first")
