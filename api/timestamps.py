"""Timestamps in answers are UTC with an offset (RFC 3339 `date-time`, as the contract says).

The service stores UTC; SQLite keeps no time zone, so a stored time comes back naive there. An
answer's field typed `UtcDateTime` marks a naive time as UTC and converts an aware one to UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
