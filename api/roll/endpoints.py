"""/api/v1/elections/{id}/roll, /me/registration, /invitations: the voter roll and invitations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.audit.service import record
from api.auth.codes import pseudonym
from api.bounds import MAX_INT, MAX_PAGE, RowId
from api.created import LOCATION_HEADER, created, set_location
from api.deps import CommitteeDep, CommitteeOrOperatorDep, SessionDep, SettingsDep, VoterDep
from api.elections.service import ELECTION_ENDED, get_election, refuse_ended
from api.problems import (
    AUTH,
    NOT_FOUND,
    TOO_LARGE,
    ProblemError,
    problem_responses,
    problem_type,
)
from api.roll import importer, invitations, outbox, service
from api.roll.models import Objection, Voter
from api.roll.schemas import (
    CodeOut,
    CommitteeObjectionOut,
    DiffVoter,
    FreezeOut,
    ImportReport,
    InvitationPreview,
    InvitationSelection,
    InvitationText,
    MailStatus,
    MailStatusPage,
    ObjectionIn,
    ObjectionList,
    ObjectionOut,
    OverrideIn,
    QueueReport,
    Registration,
    ResendSelection,
    ResolveIn,
    RollSummary,
    SendSelection,
    VoterDetail,
    VoterOut,
    VoterPage,
)

router = APIRouter(prefix="/elections/{election_id}", tags=["roll"], lifespan=outbox.lifespan)

ROLL_INVALID = problem_type(
    "roll-invalid",
    422,
    "The roll cannot be imported",
    "Nothing was imported. `errors` lists every bad row as {row, field, reason} (CSV: the line "
    "number with the header as row 1; JSON: the 1-based position); `error_count` is the total. "
    "Unknown columns are rejected, not ignored, so that no data is silently dropped.",
)
UNSUPPORTED_MEDIA = problem_type(
    "unsupported-media-type",
    415,
    "Unsupported content type",
    "Send the roll as `text/csv` or `application/json`.",
)

_ROW_SCHEMA = {
    "type": "object",
    "required": list(importer.REQUIRED),
    "additionalProperties": False,
    "properties": {
        "employee_number": {"type": "string", "maxLength": 64},
        "name": {"type": "string", "maxLength": 200},
        "email": {"type": "string", "maxLength": 320},
        "kiesgroep": {"type": "string"},
        "employment_start": {"type": "string", "format": "date"},
        "agency_worker": {"type": ["boolean", "string"]},
    },
}
_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The whole roll (≤ 20 MB, ≤ 200,000 rows). CSV: UTF-8, header row, "
        "comma or semicolon separated, columns " + ", ".join(importer.COLUMNS) + ".",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": _ROW_SCHEMA}},
        },
    }
}


@router.post(
    "/roll/import",
    response_model=ImportReport,
    responses=problem_responses(
        *AUTH,
        NOT_FOUND,
        ROLL_INVALID,
        UNSUPPORTED_MEDIA,
        TOO_LARGE,
        service.ROLL_FROZEN,
        service.ROLL_PHASE,
    ),
    openapi_extra=_IMPORT_BODY,
    max_body_size=importer.MAX_BYTES,
    summary="Import or re-import the whole roll (committee): a diff, applied unless dry_run",
    description="All or nothing: a roll with any bad row imports nothing and the problem lists "
    "every bad row. A re-import replaces the roll: voters missing from the new file leave the "
    "roll (their access codes stop working). `dry_run=true` only reports the diff.",
)
async def import_roll(
    election_id: str,
    request: Request,
    session: SessionDep,
    who: CommitteeDep,
    dry_run: Annotated[bool, Query(description="report the diff, change nothing")] = False,
) -> ImportReport:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("text/csv", "application/csv", "text/plain"):
        fmt = "csv"
    elif ctype == "application/json":
        fmt = "json"
    else:
        raise ProblemError(UNSUPPORTED_MEDIA, f"got {ctype or 'no content type'}")
    data = await request.body()  # bounded while received: max_body_size above

    def work() -> dict[str, Any]:
        election = get_election(session, election_id, for_update=True)
        groups = {g.id for g in service.settings_of(election).kiesgroepen}
        try:
            rows = importer.parse_roll(data, fmt, groups)
        except importer.RollFileError as e:
            raise ProblemError(
                ROLL_INVALID, e.detail, errors=e.errors, error_count=len(e.errors)
            ) from None
        except importer.RollRowsError as e:
            raise ProblemError(
                ROLL_INVALID,
                f"{e.total} errors; nothing was imported",
                errors=e.errors,
                error_count=e.total,
            ) from None
        report = service.import_roll(session, election, rows, dry_run)
        if not dry_run:
            record(
                session,
                election_id,
                who,
                "roll_imported",
                details={
                    k: report[k]
                    for k in ("rows", "added", "removed", "changed", "unchanged", "per_kiesgroep")
                },
            )
        return report

    return ImportReport.model_validate(await run_in_threadpool(work))


@router.get(
    "/roll",
    response_model=RollSummary,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="The roll at a glance: counts per kiesgroep, frozen or not, open objections",
)
def roll_summary(election_id: str, session: SessionDep, who: CommitteeDep) -> RollSummary:
    election = get_election(session, election_id)
    return RollSummary.model_validate(service.summary(session, election))


def _voter_out(v: Voter) -> dict[str, Any]:
    return {k: getattr(v, k) for k in VoterOut.model_fields}


@router.get(
    "/roll/voters",
    response_model=VoterPage,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="Voters on the roll (committee), filtered and paged",
)
def list_voters(
    election_id: str,
    session: SessionDep,
    who: CommitteeDep,
    kiesgroep: str | None = None,
    q: Annotated[str | None, Query(max_length=100, description="name or employee number")] = None,
    start: Annotated[int, Query(ge=0, le=MAX_INT, description="0-based position")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> VoterPage:
    get_election(session, election_id)
    total, rows = service.list_voters(session, election_id, kiesgroep, q, start, limit)
    end = start + len(rows)
    return VoterPage(
        total=total,
        start=start,
        items=[VoterOut.model_validate(_voter_out(v)) for v in rows],
        next=end if rows and end < total else None,
    )


def _detail(election, v: Voter) -> VoterDetail:  # type: ignore[no-untyped-def]
    el = service.explain(election, v)
    return VoterDetail(
        **_voter_out(v), months_of_service=el.months_of_service, reasons=list(el.reasons)
    )


@router.get(
    "/roll/voters/{voter_id}",
    response_model=VoterDetail,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="One voter with the reasons for their eligibility (committee)",
)
def get_voter(
    election_id: str, voter_id: RowId, session: SessionDep, who: CommitteeDep
) -> VoterDetail:
    election = get_election(session, election_id)
    return _detail(election, service.get_voter(session, election_id, voter_id))


@router.put(
    "/roll/voters/{voter_id}/override",
    response_model=VoterDetail,
    responses=problem_responses(*AUTH, NOT_FOUND, service.ROLL_FROZEN, service.ROLL_PHASE),
    summary="Override a voter's eligibility with a reason (committee); both null clears it",
)
def override(
    election_id: str, voter_id: RowId, body: OverrideIn, session: SessionDep, who: CommitteeDep
) -> VoterDetail:
    election = get_election(session, election_id, for_update=True)
    v = service.get_voter(session, election_id, voter_id)
    v = service.set_override(session, election, v, body.may_vote, body.may_stand, body.reason)
    record(
        session,
        election_id,
        who,
        "eligibility_overridden",
        subject=f"voter:{voter_id}",
        reason=body.reason,
        details={
            "may_vote": body.may_vote,
            "may_stand": body.may_stand,
            "voter_name": v.name,
            "employee_number": v.employee_number,
        },
    )
    return _detail(election, v)


@router.post(
    "/roll/freeze",
    response_model=FreezeOut,
    responses=problem_responses(
        *AUTH, NOT_FOUND, service.ROLL_FROZEN, service.ROLL_PHASE, service.ROLL_EMPTY
    ),
    summary="Freeze the roll (committee): appends `roll_frozen` with counts and a commitment",
    description="Possible after draft (the settings are then locked) and before voting. "
    "Eligibility is recomputed against the settings as they are now. The commitment is the "
    "hex SHA-256 of the canonical roll (see api/roll/commitment.py); no personal data is "
    "published. Voting cannot open before the roll is frozen.",
)
def freeze(election_id: str, session: SessionDep, who: CommitteeDep) -> FreezeOut:
    election = get_election(session, election_id, for_update=True)
    entry = service.freeze(session, election, who)
    out = FreezeOut.model_validate(entry)
    record(
        session,
        election_id,
        who,
        "roll_frozen",
        details={"counts": out.model_dump(mode="json")["counts"], "commitment": out.commitment},
    )
    return out


def _objection(o: Objection) -> ObjectionOut:
    return ObjectionOut(
        id=o.id,  # type: ignore[arg-type]
        text=o.text,
        status=o.status,
        resolution=o.resolution,
        created_at=o.created_at,
        resolved_at=o.resolved_at,
    )


def _committee_objection(o: Objection, v: Voter) -> CommitteeObjectionOut:
    return CommitteeObjectionOut(
        **_objection(o).model_dump(),
        voter_id=v.id,  # type: ignore[arg-type]
        voter=DiffVoter(employee_number=v.employee_number, name=v.name, kiesgroep=v.kiesgroep),
    )


@router.get(
    "/roll/objections",
    response_model=ObjectionList,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="Voters' objections to their registration (committee)",
)
def list_objections(
    election_id: str,
    session: SessionDep,
    who: CommitteeDep,
    status: Annotated[str | None, Query(pattern="^(open|resolved)$")] = None,
) -> ObjectionList:
    get_election(session, election_id)
    rows = service.list_objections(session, election_id, status)
    return ObjectionList(items=[_committee_objection(o, v) for o, v in rows])


@router.post(
    "/roll/objections/{objection_id}/resolve",
    response_model=CommitteeObjectionOut,
    responses=problem_responses(*AUTH, NOT_FOUND, service.OBJECTION_RESOLVED),
    summary="Resolve an objection with a note the voter sees (committee)",
)
def resolve_objection(
    election_id: str, objection_id: RowId, body: ResolveIn, session: SessionDep, who: CommitteeDep
) -> CommitteeObjectionOut:
    get_election(session, election_id)
    o, v = service.resolve_objection(session, election_id, objection_id, body.resolution)
    record(
        session,
        election_id,
        who,
        "objection_resolved",
        subject=f"objection:{objection_id}",
        reason=body.resolution,
        details={"voter_id": v.id, "voter_name": v.name, "employee_number": v.employee_number},
    )
    return _committee_objection(o, v)


@router.get(
    "/me/registration",
    response_model=Registration,
    responses=problem_responses(*AUTH, NOT_FOUND, service.NOT_ON_ROLL),
    summary="Your own registration on the roll, why you may (not) vote or stand, your pseudonym",
)
def my_registration(
    election_id: str, session: SessionDep, settings: SettingsDep, who: VoterDep
) -> Registration:
    election = get_election(session, election_id)
    v = service.current_voter(session, who, election_id)
    assert v.id is not None
    el = service.explain(election, v)
    frozen = service.is_frozen(session, election_id)
    return Registration(
        employee_number=v.employee_number,
        name=v.name,
        email=v.email,
        kiesgroep=v.kiesgroep,
        employment_start=v.employment_start,
        agency_worker=v.agency_worker,
        may_vote=v.may_vote,
        may_stand=v.may_stand,
        months_of_service=el.months_of_service,
        reference_date=service.reference_date(service.settings_of(election)),
        reasons=list(el.reasons),
        pseudonym=pseudonym(settings, election_id, v.id),
        roll_frozen=frozen,
        can_object=not frozen and election.status in service.IMPORT_PHASES,
        objections=[_objection(o) for o in service.objections_of(session, election_id, v.id)],
    )


@router.post(
    "/me/objections",
    status_code=status.HTTP_201_CREATED,
    response_model=ObjectionOut,
    responses={
        **created(
            "the objection, open; `Location` is your registration, which lists your objections "
            "and their resolution"
        ),
        **problem_responses(
            *AUTH,
            NOT_FOUND,
            service.NOT_ON_ROLL,
            service.ROLL_FROZEN,
            service.ROLL_PHASE,
            service.OPEN_OBJECTION_LIMIT,
        ),
    },
    summary="Object to your own registration (voter), until the roll is frozen",
)
def object_to_registration(
    election_id: str, body: ObjectionIn, session: SessionDep, who: VoterDep, response: Response
) -> ObjectionOut:
    election = get_election(session, election_id)
    v = service.current_voter(session, who, election_id)
    out = _objection(service.object_to(session, election, v, body.text))
    set_location(response, f"/api/v1/elections/{election_id}/me/registration")
    return out


@router.post(
    "/invitations/export",
    response_class=Response,
    responses={
        200: {
            "description": "CSV (employee_number,name,email,access_code) with NEW codes",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problem_responses(*AUTH, NOT_FOUND, ELECTION_ENDED),
    },
    summary="Generate new codes and export them for a mail merge (committee)",
    description="Codes are stored only as hashes, so they can be shown only when made: this "
    "generates a NEW code for every selected voter (by default those without an active code) "
    "and returns them once as CSV. Any earlier code of those voters stops working.",
)
def export_invitations(
    election_id: str,
    body: InvitationSelection,
    session: SessionDep,
    settings: SettingsDep,
    who: CommitteeDep,
) -> Response:
    refuse_ended(get_election(session, election_id, for_update=True))
    voters = invitations.select_voters(session, election_id, body.voter_ids, body.without_code_only)
    text = invitations.export_csv(session, settings, election_id, voters, who)
    record(
        session,
        election_id,
        who,
        "codes_exported",
        details={"count": len(voters), "without_code_only": body.without_code_only},
    )
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="stembus-{election_id}-codes.csv"',
            "Cache-Control": "no-store",
        },
    )


_QUEUED: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "queued; `Location` is the status of the election's mails",
        "headers": LOCATION_HEADER,
    }
}


def _counts(report: dict[str, Any]) -> dict[str, Any]:
    """The queue report's counts, for the audit trail (no voter named)."""
    return {k: report[k] for k in ("queued", "without_email", "already_queued")}


def _queued(
    response: Response, background: BackgroundTasks, request: Request, report: dict[str, Any]
) -> QueueReport:
    set_location(response, report["status_url"])
    # After the request's commit (SessionDep ends before the answer is sent): the worker then
    # finds the new rows at once instead of at its next look.
    background.add_task(request.app.state.wake_mailer)
    return QueueReport.model_validate(report)


@router.post(
    "/invitations/send",
    response_model=QueueReport,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **_QUEUED,
        **problem_responses(*AUTH, NOT_FOUND, ELECTION_ENDED, invitations.SMTP_NOT_CONFIGURED),
    },
    summary="Queue an e-mail with a new code to the selected voters (committee)",
    description="Each selected voter with an e-mail address gets a mail with a NEW code (by "
    "default only voters without an active code), delivered in the background with retries; "
    "nothing is sent inside the request. A voter's code changes only when the mail server "
    "accepts their message. Follow each mail at `Location` (`…/invitations/status`).",
)
def send_invitations(
    election_id: str,
    body: SendSelection,
    session: SessionDep,
    settings: SettingsDep,
    who: CommitteeDep,
    request: Request,
    response: Response,
    background: BackgroundTasks,
) -> QueueReport:
    election = get_election(session, election_id, for_update=True)
    refuse_ended(election)
    voters = invitations.select_voters(session, election_id, body.voter_ids, body.without_code_only)
    report = outbox.queue(session, settings, election, voters, who, body.text)
    record(session, election_id, who, "invitations_sent", details=_counts(report))
    return _queued(response, background, request, report)


@router.post(
    "/invitations/resend",
    response_model=QueueReport,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **_QUEUED,
        **problem_responses(*AUTH, NOT_FOUND, ELECTION_ENDED, invitations.SMTP_NOT_CONFIGURED),
    },
    summary="Queue the failed (or also the sent) mails again, each with a new code (committee)",
    description="By default the selected voters' failed mails; with `failed_only` false their "
    "sent ones too. Each gets a NEW code, active once the mail server accepts it (the earlier "
    "code works until then). `text` null keeps each mail's own text.",
)
def resend_invitations(
    election_id: str,
    body: ResendSelection,
    session: SessionDep,
    settings: SettingsDep,
    who: CommitteeDep,
    request: Request,
    response: Response,
    background: BackgroundTasks,
) -> QueueReport:
    election = get_election(session, election_id, for_update=True)
    refuse_ended(election)
    report = outbox.resend(
        session, settings, election, body.voter_ids, body.failed_only, body.text, who
    )
    record(session, election_id, who, "invitations_resent", details=_counts(report))
    return _queued(response, background, request, report)


@router.get(
    "/invitations/status",
    response_model=MailStatusPage,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="Where each voter's invitation is: queued, sent or failed with the reason",
)
def invitation_status(
    election_id: str,
    session: SessionDep,
    who: CommitteeOrOperatorDep,
    status: Annotated[MailStatus | None, Query(description="only mails in this state")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> MailStatusPage:
    get_election(session, election_id)
    return MailStatusPage.model_validate(
        outbox.status_page(session, election_id, status, offset, limit)
    )


@router.post(
    "/invitations/preview",
    response_model=InvitationPreview,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="The invitation mail as it would be sent (committee), with a sample name and code",
    description="The committee's text (dates, helpdesk, a note, the voter's page) fills a "
    "fixed Dutch and English template; the code and the address are in every mail. Nothing "
    "is stored or sent.",
)
def preview_invitation(
    election_id: str,
    body: InvitationText,
    session: SessionDep,
    settings: SettingsDep,
    who: CommitteeDep,
) -> InvitationPreview:
    election = get_election(session, election_id)
    return InvitationPreview.model_validate(invitations.preview(settings, election, body))


@router.post(
    "/roll/voters/{voter_id}/code",
    response_model=CodeOut,
    responses=problem_responses(*AUTH, NOT_FOUND, ELECTION_ENDED),
    summary="Regenerate one voter's access code (committee); the old one stops working",
)
def regenerate_code(
    election_id: str, voter_id: RowId, session: SessionDep, settings: SettingsDep, who: CommitteeDep
) -> CodeOut:
    refuse_ended(get_election(session, election_id, for_update=True))
    v = service.get_voter(session, election_id, voter_id)
    [(_, code)] = invitations.new_codes([v])
    invitations.store_codes(
        session, settings, election_id, [(voter_id, code)], via="regenerated", by=who
    )
    record(
        session,
        election_id,
        who,
        "code_regenerated",
        subject=f"voter:{voter_id}",
        details={"voter_name": v.name, "employee_number": v.employee_number},
    )
    return CodeOut(voter_id=voter_id, access_code=code)
