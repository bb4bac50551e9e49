"""/api/v1/elections/{id}/submitters, /lists, /me/candidacies, /status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status

from api.audit.service import record
from api.auth.tokens import Principal
from api.bounds import RowId
from api.created import created, set_location
from api.deps import CommitteeDep, SessionDep, SettingsDep, VoterDep, require
from api.elections.service import ELECTION_ENDED, get_election, refuse_ended
from api.lists import publication, service
from api.lists.models import CandidateList, Submitter
from api.lists.schemas import (
    CandidacyList,
    CandidacyOut,
    CandidateOut,
    CandidatesIn,
    ConsentIn,
    ElectionStatus,
    ListIn,
    ListList,
    ListOut,
    PersonOrderIn,
    PersonOrderOut,
    SubmitterIn,
    SubmitterList,
    SubmitterOut,
    SubmitterWithCode,
    ValidationIn,
)
from api.problems import AUTH, NOT_FOUND, problem_responses
from api.roll.service import NOT_ON_ROLL, current_voter

router = APIRouter(prefix="/elections/{election_id}", tags=["lists"])
OwnerDep = Annotated[Principal, require("submitter", "voter")]
ReaderDep = Annotated[Principal, require("committee", "submitter", "voter")]


def _submitter(s: Submitter, code: str | None = None) -> SubmitterOut:
    assert s.id is not None
    out = SubmitterOut(id=s.id, union=s.union, name=s.name, email=s.email, active=s.active)
    return SubmitterWithCode(**out.model_dump(), access_code=code) if code else out


@router.post(
    "/submitters",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmitterWithCode,
    responses={
        **created(
            "the account with its access code (shown once); `Location` is the list of "
            "submitters it appears in (an account has no URL of its own)"
        ),
        **problem_responses(*AUTH, NOT_FOUND),
    },
    summary="Register a union representative account (committee); returns its access code",
)
def add_submitter(
    election_id: str,
    body: SubmitterIn,
    session: SessionDep,
    settings: SettingsDep,
    who: CommitteeDep,
    response: Response,
) -> SubmitterOut:
    election = get_election(session, election_id)
    s, code = service.add_submitter(
        session, settings, election, body.union, body.name, str(body.email) if body.email else None
    )
    record(
        session,
        election_id,
        who,
        "submitter_registered",
        subject=f"submitter:{s.id}",
        details={"union": s.union, "submitter_name": s.name},
    )
    set_location(response, f"/api/v1/elections/{election_id}/submitters")
    return _submitter(s, code)


@router.get(
    "/submitters",
    response_model=SubmitterList,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="Union representative accounts (committee)",
)
def list_submitters(election_id: str, session: SessionDep, who: CommitteeDep) -> SubmitterList:
    get_election(session, election_id)
    return SubmitterList(
        items=[_submitter(s) for s in service.list_submitters(session, election_id)]
    )


@router.post(
    "/submitters/{submitter_id}/code",
    response_model=SubmitterWithCode,
    responses=problem_responses(*AUTH, NOT_FOUND, ELECTION_ENDED),
    summary="Regenerate a union account's access code (committee); the old one stops working",
)
def regenerate_submitter_code(
    election_id: str,
    submitter_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    who: CommitteeDep,
) -> SubmitterOut:
    refuse_ended(get_election(session, election_id, for_update=True))
    s = service.get_submitter(session, election_id, submitter_id)
    assert s.id is not None
    code = service.auth_service.regenerate_code(
        session, settings, election_id, "submitter", s.id, who
    )
    record(
        session,
        election_id,
        who,
        "submitter_code_regenerated",
        subject=f"submitter:{s.id}",
        details={"union": s.union, "submitter_name": s.name},
    )
    return _submitter(s, code)


def _list_out(session, lst: CandidateList) -> ListOut:  # type: ignore[no-untyped-def]
    if lst.kind == "union" and lst.submitter_id is not None:
        sub = session.get(Submitter, lst.submitter_id)
        by = sub.union if sub else "union"
    else:
        by = "vrije lijst"
    cands = [
        CandidateOut(
            id=c.id,  # type: ignore[arg-type]
            voter_id=v.id,  # type: ignore[arg-type]
            name=v.name,
            position=c.position,
            consent=c.consent,
            problems=service.candidate_problems(lst, v)
            + ([] if c.consent else ["no consent yet" if c.consent is None else "declined"]),
        )
        for c, v in service.candidates_of(session, lst.id)  # type: ignore[arg-type]
    ]
    return ListOut(
        id=lst.id,  # type: ignore[arg-type]
        kiesgroep=lst.kiesgroep,
        name=lst.name,
        kind=lst.kind,  # type: ignore[arg-type]
        status=lst.status,  # type: ignore[arg-type]
        rejection_reason=lst.rejection_reason,
        submitted_at=lst.submitted_at,
        submitted_by=by,
        candidates=cands,
    )


LIST_ERRORS = (service.SUBMISSION_CLOSED, service.LIST_STATE, NOT_ON_ROLL)


@router.post(
    "/lists",
    status_code=status.HTTP_201_CREATED,
    response_model=ListOut,
    responses={
        **created("the new list, without candidates; `Location` is its URL"),
        **problem_responses(
            *AUTH,
            NOT_FOUND,
            NOT_ON_ROLL,
            service.SUBMISSION_CLOSED,
            service.LIST_EXISTS,
            service.FREE_LIST_REFUSED,
        ),
    },
    summary="Start a list for a kiesgroep: a union account (union list) or a voter (free list)",
)
def create_list(
    election_id: str, body: ListIn, session: SessionDep, who: OwnerDep, response: Response
) -> ListOut:
    election = get_election(session, election_id, for_update=True)
    lst = service.create_list(
        session, election, who, body.kiesgroep, body.name, body.not_union_member
    )
    out = _list_out(session, lst)
    set_location(response, f"/api/v1/elections/{election_id}/lists/{out.id}")
    return out


@router.get(
    "/lists",
    response_model=ListList,
    responses=problem_responses(*AUTH, NOT_FOUND, NOT_ON_ROLL),
    summary="Lists: all of them for the committee, your own for a union account or voter",
)
def list_lists(election_id: str, session: SessionDep, who: ReaderDep) -> ListList:
    election = get_election(session, election_id)
    return ListList(
        items=[_list_out(session, x) for x in service.visible_lists(session, election_id, who)],
        window_open=service.window_open(election),
    )


@router.get(
    "/lists/person-order",
    response_model=PersonOrderOut,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="Person system: the stored order of the candidates (committee)",
)
def get_person_order(election_id: str, session: SessionDep, who: CommitteeDep) -> PersonOrderOut:
    election = get_election(session, election_id)
    p = service.stored_person_order(session, election.id)
    return PersonOrderOut(order=p[0], lot_seed=p[1])  # type: ignore[arg-type]


@router.get(
    "/lists/{list_id}",
    response_model=ListOut,
    responses=problem_responses(*AUTH, NOT_FOUND, NOT_ON_ROLL),
    summary="One list with its candidates, their consent and any problems",
)
def get_list(election_id: str, list_id: RowId, session: SessionDep, who: ReaderDep) -> ListOut:
    get_election(session, election_id)
    return _list_out(session, service.get_list(session, election_id, list_id, who))


@router.put(
    "/lists/{list_id}/candidates",
    response_model=ListOut,
    responses=problem_responses(*AUTH, NOT_FOUND, service.CANDIDATES_INVALID, *LIST_ERRORS),
    summary="Set the ordered candidates of your draft or rejected list",
    description="Candidates must be on the roll in the list's kiesgroep and eligible to stand. "
    "Consent already given by a person who stays on the list is kept. A rejected list becomes "
    "a draft again.",
)
def set_candidates(
    election_id: str, list_id: RowId, body: CandidatesIn, session: SessionDep, who: OwnerDep
) -> ListOut:
    election = get_election(session, election_id, for_update=True)
    lst = service.get_list(session, election_id, list_id, who, for_update=True)
    return _list_out(session, service.set_candidates(session, election, lst, body.voter_ids))


@router.post(
    "/lists/{list_id}/submit",
    response_model=ListOut,
    responses=problem_responses(*AUTH, NOT_FOUND, service.LIST_NOT_VALID, *LIST_ERRORS),
    summary="Submit your list to the committee, within the submission window",
)
def submit_list(election_id: str, list_id: RowId, session: SessionDep, who: OwnerDep) -> ListOut:
    election = get_election(session, election_id, for_update=True)
    lst = service.get_list(session, election_id, list_id, who, for_update=True)
    return _list_out(session, service.submit(session, election, lst))


@router.post(
    "/lists/{list_id}/validation",
    response_model=ListOut,
    responses=problem_responses(
        *AUTH, NOT_FOUND, service.LIST_NOT_VALID, service.LIST_STATE, service.SUBMISSION_CLOSED
    ),
    summary="Accept or reject a submitted list (committee); a rejection needs a reason",
)
def validate_list(
    election_id: str, list_id: RowId, body: ValidationIn, session: SessionDep, who: CommitteeDep
) -> ListOut:
    election = get_election(session, election_id, for_update=True)
    lst = service.get_list(session, election_id, list_id, who, for_update=True)
    lst = service.validate(session, election, lst, body.accept, body.reason)
    record(
        session,
        election_id,
        who,
        "list_accepted" if body.accept else "list_rejected",
        subject=f"list:{lst.id}",
        reason=body.reason,
        details={"kiesgroep": lst.kiesgroep, "list_name": lst.name, "status": lst.status},
    )
    return _list_out(session, lst)


def _candidacy(c, lst) -> CandidacyOut:  # type: ignore[no-untyped-def]
    return CandidacyOut(
        candidate_id=c.id,
        list_id=lst.id,
        list_name=lst.name,
        kiesgroep=lst.kiesgroep,
        position=c.position,
        list_status=lst.status,
        consent=c.consent,
    )


@router.get(
    "/me/candidacies",
    response_model=CandidacyList,
    responses=problem_responses(*AUTH, NOT_FOUND, NOT_ON_ROLL),
    summary="Lists that name you as a candidate (voter)",
)
def my_candidacies(election_id: str, session: SessionDep, who: VoterDep) -> CandidacyList:
    get_election(session, election_id)
    v = current_voter(session, who, election_id)
    return CandidacyList(items=[_candidacy(c, x) for c, x in service.my_candidacies(session, v)])


@router.put(
    "/me/candidacies/{candidate_id}/consent",
    response_model=CandidacyOut,
    responses=problem_responses(
        *AUTH, NOT_FOUND, NOT_ON_ROLL, service.CONSENT_ELSEWHERE, service.CONSENT_CLOSED
    ),
    summary="Consent to (or decline) your candidacy on a list (voter); at most one list",
)
def consent(
    election_id: str, candidate_id: RowId, body: ConsentIn, session: SessionDep, who: VoterDep
) -> CandidacyOut:
    election = get_election(session, election_id, for_update=True)
    v = current_voter(session, who, election_id)
    c, lst = service.give_consent(session, election, v, candidate_id, body.consent)
    return _candidacy(c, lst)


@router.put(
    "/lists/person-order",
    response_model=PersonOrderOut,
    responses=problem_responses(*AUTH, NOT_FOUND, service.PUBLISHED),
    summary="Person system: order candidates alphabetically or by the verifiable lot (committee)",
)
def set_person_order(
    election_id: str, body: PersonOrderIn, session: SessionDep, who: CommitteeDep
) -> PersonOrderOut:
    election = get_election(session, election_id, for_update=True)
    p = service.set_person_order(session, election, body.order)
    record(session, election_id, who, "person_order_set", details={"order": body.order})
    return PersonOrderOut(order=p.person_order, lot_seed=p.lot_seed)  # type: ignore[arg-type]


@router.get(
    "/status",
    response_model=ElectionStatus,
    responses=problem_responses(NOT_FOUND),
    summary="Public: per kiesgroep the seats, voters, published lists and whether a vote is held",
    description="Built from the public log only. `vote_held: false` marks a kiesgroep with no "
    "more candidates than seats: all its candidates are elected without a vote.",
)
def election_status(election_id: str, session: SessionDep) -> ElectionStatus:
    election = get_election(session, election_id)
    return ElectionStatus.model_validate(publication.public_status(session, election))
