"""/api/v1/elections: create, read, configure, move through phases, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.bounds import MAX_INT, MAX_PAGE
from api.created import created, set_location
from api.deps import CommitteeDep, OperatorDep, SessionDep
from api.elections import service
from api.elections.schemas import (
    CancelIn,
    ElectionCreate,
    ElectionList,
    ElectionOut,
    SettingsUpdate,
    TransitionIn,
)
from api.problems import AUTH, NOT_FOUND, problem_responses
from api.voting.keys import LOCAL_ORIGIN  # the guard of `voting` that has its own problem

router = APIRouter(prefix="/elections", tags=["elections"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ElectionOut,
    responses={
        **created("the election, in `draft`; `Location` is its URL"),
        **problem_responses(*AUTH),
    },
    summary="Create an election (operator)",
)
def create_election(
    body: ElectionCreate, session: SessionDep, op: OperatorDep, response: Response
) -> ElectionOut:
    out = service.to_out(service.create_election(session, body, op))
    set_location(response, f"/api/v1/elections/{out.id}")
    return out


@router.get(
    "",
    response_model=ElectionList,
    responses=problem_responses(*AUTH),
    summary="List all elections of this deployment (operator)",
)
def list_elections(
    session: SessionDep,
    op: OperatorDep,
    offset: Annotated[int, Query(ge=0, le=MAX_INT, description="elections to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="elections per page")] = 100,
) -> ElectionList:
    total, page = service.list_elections(session, offset, limit)
    return ElectionList(items=[service.to_out(e) for e in page], total=total)


@router.get(
    "/{election_id}",
    response_model=ElectionOut,
    responses=problem_responses(NOT_FOUND),
    summary="An election's public description, settings and phase",
)
def get_election(election_id: str, session: SessionDep) -> ElectionOut:
    return service.to_out(service.get_election(session, election_id))


@router.put(
    "/{election_id}/settings",
    response_model=ElectionOut,
    responses=problem_responses(*AUTH, NOT_FOUND, service.SETTINGS_LOCKED, service.ELECTION_ENDED),
    summary="Replace the election's settings (committee; draft only, then the schedule only)",
)
def update_settings(
    election_id: str, body: SettingsUpdate, session: SessionDep, who: CommitteeDep
) -> ElectionOut:
    election = service.get_election(session, election_id, for_update=True)
    return service.to_out(service.update_settings(session, election, body.settings, who))


@router.post(
    "/{election_id}/transitions",
    response_model=ElectionOut,
    responses=problem_responses(
        *AUTH,
        NOT_FOUND,
        service.INVALID_TRANSITION,
        service.GUARD_FAILED,
        service.ELECTION_ENDED,
        LOCAL_ORIGIN,
    ),
    summary="Move the election to its next phase (committee)",
)
def transition(
    election_id: str, body: TransitionIn, session: SessionDep, who: CommitteeDep
) -> ElectionOut:
    election = service.get_election(session, election_id, for_update=True)
    return service.to_out(service.transition(session, election, body.to, who))


@router.post(
    "/{election_id}/cancel",
    response_model=ElectionOut,
    responses=problem_responses(
        *AUTH, NOT_FOUND, service.INVALID_TRANSITION, service.ELECTION_ENDED
    ),
    summary="Cancel the election (committee); every access code stops working",
)
def cancel(election_id: str, body: CancelIn, session: SessionDep, who: CommitteeDep) -> ElectionOut:
    election = service.get_election(session, election_id, for_update=True)
    return service.to_out(service.transition(session, election, "cancelled", who, body.reason))
