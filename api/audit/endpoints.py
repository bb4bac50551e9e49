"""/api/v1/elections/{id}/audit and /api/v1/audit: the audit trail, for the committee and the
operator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.audit import service
from api.audit.models import AuditEntry
from api.audit.schemas import Actor, AuditEntryOut, AuditEntryWithElection, AuditPage, AuditPageAll
from api.bounds import MAX_INT, MAX_PAGE
from api.deps import CommitteeOrOperatorDep, OperatorDep, SessionDep
from api.elections.service import get_election
from api.problems import AUTH, NOT_FOUND, problem_responses

router = APIRouter(tags=["audit"])

Offset = Annotated[int, Query(ge=0, le=MAX_INT, description="entries to skip, newest first")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="entries per page")]
ActionFilter = Annotated[service.Action | None, Query(description="only this action")]


def _out(row: AuditEntry) -> dict[str, object]:
    return dict(
        id=row.id,
        at=row.at,
        actor=Actor(role=row.actor_role, member_id=row.actor_member_id, name=row.actor_name),  # type: ignore[arg-type]
        action=row.action,
        subject=row.subject,
        reason=row.reason,
        details=service.details_of(row),
    )


@router.get(
    "/elections/{election_id}/audit",
    response_model=AuditPage,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="The election's audit trail: every decision, who, when, why (committee or operator)",
)
def election_audit(
    election_id: str,
    session: SessionDep,
    who: CommitteeOrOperatorDep,
    offset: Offset = 0,
    limit: Limit = 100,
    action: ActionFilter = None,
) -> AuditPage:
    get_election(session, election_id)
    total, rows = service.page(session, election_id, action, offset, limit)
    return AuditPage(total=total, items=[AuditEntryOut.model_validate(_out(r)) for r in rows])


@router.get(
    "/elections/{election_id}/audit/export",
    response_class=Response,
    responses={
        200: {
            "description": "CSV, oldest first: " + ",".join(service.CSV_COLUMNS),
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problem_responses(*AUTH, NOT_FOUND),
    },
    summary="The election's audit trail as CSV (committee or operator)",
)
def export(election_id: str, session: SessionDep, who: CommitteeOrOperatorDep) -> Response:
    get_election(session, election_id)
    # Read whole before the answer starts: the request's session ends with the endpoint (a
    # trail holds hundreds to a few thousand rows, ~150 bytes each).
    body = "".join(service.export_csv(session, election_id)).encode("utf-8")
    return Response(
        content=body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="stembus-{election_id}-audit.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/audit",
    response_model=AuditPageAll,
    responses=problem_responses(*AUTH),
    summary="The audit trail of every election of this deployment (operator)",
)
def all_audit(
    session: SessionDep,
    op: OperatorDep,
    offset: Offset = 0,
    limit: Limit = 100,
    action: ActionFilter = None,
) -> AuditPageAll:
    total, rows = service.page(session, None, action, offset, limit)
    return AuditPageAll(
        total=total,
        items=[
            AuditEntryWithElection.model_validate({**_out(r), "election_id": r.election_id})
            for r in rows
        ],
    )
