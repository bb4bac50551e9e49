"""/api/v1/elections/{id}/colleagues, /nominations, /me/nominations: the nomination campaign."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.audit.service import record
from api.auth.tokens import Principal
from api.bounds import RowId
from api.created import created, set_location
from api.deps import CommitteeDep, SessionDep, SettingsDep, VoterDep, require
from api.elections.service import get_election
from api.nominations import service
from api.nominations.schemas import (
    Colleague,
    ColleagueList,
    MyNominations,
    NominationIn,
    NominationOut,
    NomineeState,
    RankedNominee,
    Ranking,
    ResponseIn,
)
from api.problems import AUTH, NOT_FOUND, problem_responses
from api.roll.service import NOT_ON_ROLL, current_voter

router = APIRouter(prefix="/elections/{election_id}", tags=["nominations"])
SearcherDep = Annotated[Principal, require("voter", "submitter")]
ListReaderDep = Annotated[Principal, require("committee", "voter", "submitter")]


def _colleague(v) -> Colleague:  # type: ignore[no-untyped-def]
    return Colleague(id=v.id, name=v.name, kiesgroep=v.kiesgroep)


@router.get(
    "/colleagues",
    response_model=ColleagueList,
    responses=problem_responses(*AUTH, NOT_FOUND, NOT_ON_ROLL),
    summary="Find colleagues who can be nominated or put on a list (voter, union account)",
    description="Case-insensitive search in names; at least 2 characters; at most 20 matches, "
    "each with only id, name and kiesgroep. Only colleagues eligible to stand are found.",
)
def search_colleagues(
    election_id: str,
    session: SessionDep,
    who: SearcherDep,
    q: Annotated[str, Query(min_length=2, max_length=100)],
    kiesgroep: Annotated[str | None, Query(max_length=32)] = None,
) -> ColleagueList:
    election = get_election(session, election_id)
    me = current_voter(session, who, election_id).id if who.has("voter") else None
    found = service.search_colleagues(session, election, q.strip(), kiesgroep, me)
    return ColleagueList(items=[_colleague(v) for v in found])


@router.post(
    "/nominations",
    status_code=status.HTTP_201_CREATED,
    response_model=NominationOut,
    responses={
        **created(
            "the nomination is recorded; `Location` is your own view of your nominations "
            "(a nomination has no URL of its own: nobody can read back who nominated whom)"
        ),
        **problem_responses(
            *AUTH,
            NOT_FOUND,
            NOT_ON_ROLL,
            service.NOMINATION_CLOSED,
            service.NOMINATION_REFUSED,
            service.ALREADY_NOMINATED,
            service.QUOTA_USED,
        ),
    },
    summary="Nominate a colleague, with an optional motivation (voter)",
    description="Nobody — not the committee, not the nominee — can read back who nominated "
    "whom: the committee sees counts and motivations, the nominee only a count.",
)
def nominate(
    election_id: str,
    body: NominationIn,
    session: SessionDep,
    settings: SettingsDep,
    who: VoterDep,
    response: Response,
) -> NominationOut:
    election = get_election(session, election_id, for_update=True)
    v = current_voter(session, who, election_id)
    left = service.nominate(session, settings, election, v, body.nominee_id, body.motivation)
    set_location(response, f"/api/v1/elections/{election_id}/me/nominations")
    return NominationOut(remaining=left)


@router.get(
    "/me/nominations",
    response_model=MyNominations,
    responses=problem_responses(*AUTH, NOT_FOUND, NOT_ON_ROLL),
    summary="Your nominations: whom you nominated, how many left, how often you were nominated",
)
def my_nominations(
    election_id: str, session: SessionDep, settings: SettingsDep, who: VoterDep
) -> MyNominations:
    election = get_election(session, election_id)
    v = current_voter(session, who, election_id)
    return MyNominations.model_validate(service.my_view(session, settings, election, v))


@router.put(
    "/me/nomination/response",
    response_model=NomineeState,
    responses=problem_responses(
        *AUTH, NOT_FOUND, NOT_ON_ROLL, service.NOT_NOMINATED, service.RESPONSE_CLOSED
    ),
    summary="As a nominee, accept or decline to stand (voter)",
    description="Accepting makes you visible to list submitters as an available candidate "
    "(`GET .../nominations/accepted`); a list still needs your consent.",
)
def respond(election_id: str, body: ResponseIn, session: SessionDep, who: VoterDep) -> NomineeState:
    election = get_election(session, election_id, for_update=True)
    v = current_voter(session, who, election_id)
    row = service.respond(session, election, v, body.accept)
    return NomineeState.model_validate(row, from_attributes=True)


@router.get(
    "/nominations/ranking",
    response_model=Ranking,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="The aggregated ranking (committee): per nominee a count and the motivations",
)
def ranking(election_id: str, session: SessionDep, who: CommitteeDep) -> Ranking:
    get_election(session, election_id)
    return Ranking(items=[RankedNominee(**x) for x in service.ranking(session, election_id)])


@router.post(
    "/nominations/nominees/{voter_id}/approached",
    response_model=NomineeState,
    responses=problem_responses(*AUTH, NOT_FOUND, service.NOT_NOMINATED),
    summary="Record that the committee approached a nominee (committee)",
)
def approached(
    election_id: str, voter_id: RowId, session: SessionDep, who: CommitteeDep
) -> NomineeState:
    election = get_election(session, election_id, for_update=True)
    row = service.mark_approached(session, election, voter_id)
    record(session, election_id, who, "nominee_approached", subject=f"voter:{voter_id}")
    return NomineeState.model_validate(row, from_attributes=True)


@router.get(
    "/nominations/accepted",
    response_model=ColleagueList,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="Nominees who accepted, to put on a list (committee, voters, union accounts)",
)
def accepted(election_id: str, session: SessionDep, who: ListReaderDep) -> ColleagueList:
    get_election(session, election_id)
    return ColleagueList(
        items=[_colleague(v) for v in service.accepted_nominees(session, election_id)]
    )
