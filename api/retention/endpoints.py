"""/api/v1/elections/{id}/retention: how long personal data is kept, and the purge."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CommitteeOrOperatorDep, OperatorDep, SessionDep
from api.elections import service as elections
from api.problems import AUTH, NOT_FOUND, problem_responses
from api.retention import service
from api.retention.schemas import PurgeIn, PurgeOut, RetentionOut

router = APIRouter(prefix="/elections/{election_id}/retention", tags=["elections"])


def _out(st: service.RetentionState) -> RetentionOut:
    return RetentionOut(
        election_id=st.election_id,
        status=st.status,
        ended_at=st.ended_at,
        retention_days=st.retention_days,
        retain_until=st.retain_until,
        purged=st.purged_at_index is not None,
        purged_at_index=st.purged_at_index,
    )


@router.get(
    "",
    response_model=RetentionOut,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="Until when the election's personal data is kept, and whether it was purged "
    "(committee or operator)",
)
def retention(election_id: str, session: SessionDep, who: CommitteeOrOperatorDep) -> RetentionOut:
    return _out(service.state_of(session, elections.get_election(session, election_id)))


@router.post(
    "/purge",
    response_model=PurgeOut,
    responses=problem_responses(
        *AUTH, NOT_FOUND, service.NOT_ENDED, service.RETENTION_NOT_OVER, service.ALREADY_PURGED
    ),
    summary="Delete the personal data of an ended election; the log, record and results stay "
    "(operator)",
)
def purge(election_id: str, body: PurgeIn, session: SessionDep, op: OperatorDep) -> PurgeOut:
    election = elections.get_election(session, election_id, for_update=True)
    index, counts = service.purge(session, election, by="operator", force=body.force)
    return PurgeOut(election_id=election_id, log_index=index, counts=counts)
