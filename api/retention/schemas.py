"""Retention: the state of an election's personal data, and the purge."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class RetentionOut(BaseModel):
    election_id: str
    status: str
    ended_at: datetime | None = Field(description="when the election was tallied or cancelled")
    retention_days: int
    retain_until: datetime | None = Field(
        description="from then on `stembus purge --due` purges it; null while it runs"
    )
    purged: bool
    purged_at_index: int | None = Field(description="index of the personal_data_purged entry")


class PurgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force: bool = Field(
        default=False, description="purge before the retention period is over (operator's call)"
    )


class PurgeOut(BaseModel):
    election_id: str
    log_index: int = Field(description="index of the personal_data_purged entry in the log")
    counts: dict[str, int] = Field(description="rows anonymised or deleted, per kind")
