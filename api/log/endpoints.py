"""The public log: anyone can read an election's entries (no authentication)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import SessionDep
from api.elections.service import get_election
from api.log import service
from api.problems import NOT_FOUND, problem_responses

router = APIRouter(prefix="/elections/{election_id}/log", tags=["log"])


class EntryOut(BaseModel):
    index: int
    leaf_hash: str = Field(description="hex SHA-256(0x00 ‖ canonical entry bytes)")
    entry: dict[str, Any] = Field(description="the entry; its RFC 8785 encoding is the leaf")


class EntryPage(BaseModel):
    election: str
    size: int = Field(description="entries in the log now")
    start: int
    entries: list[EntryOut]
    next: int | None = Field(description="`start` of the next page, null at the end")


@router.get(
    "/entries",
    response_model=EntryPage,
    responses=problem_responses(NOT_FOUND),
    summary="Entries of the public log, by index range",
)
def read_entries(
    election_id: str,
    session: SessionDep,
    start: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EntryPage:
    election = get_election(session, election_id)
    rows = service.read_entries(session, election_id, start, limit)
    end = start + len(rows)
    return EntryPage(
        election=election_id,
        size=election.log_size,
        start=start,
        entries=[
            EntryOut(index=r.idx, leaf_hash=r.leaf_hash.hex(), entry=json.loads(r.body))
            for r in rows
        ],
        next=end if end < election.log_size else None,
    )
