"""Login with an access code, and the committee (members and trustees) of an election."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from api.audit.service import record
from api.auth import service
from api.auth.clients import client_address
from api.auth.tokens import Principal
from api.bounds import RowId
from api.db import reads_in_autocommit
from api.deps import CommitteeOrOperatorDep, SessionDep, SettingsDep, require
from api.elections.service import ELECTION_ENDED, get_election, refuse_ended
from api.problems import (
    AUTH,
    FORBIDDEN,
    NOT_FOUND,
    RATE_LIMITED,
    ProblemError,
    problem_responses,
)
from api.timestamps import UtcDateTime

router = APIRouter(prefix="/elections/{election_id}", tags=["auth"])


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64, description="the personal access code")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret
    expires_at: UtcDateTime
    roles: list[str]
    group: str | None = Field(
        default=None,
        description="a voter's kiesgroep: the group whose issuer key to blind the credential "
        "for (docs/protocol.md Issuance); null for other roles",
    )


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    committee: bool = True
    trustee: bool = False


class MemberOut(BaseModel):
    id: int
    name: str
    email: str | None
    committee: bool
    trustee: bool


class MemberWithCode(MemberOut):
    access_code: str = Field(description="shown once; deliver it to the member personally")


class MemberList(BaseModel):
    items: list[MemberOut]


def _out(m, code: str | None = None) -> MemberOut:  # type: ignore[no-untyped-def]
    data = dict(id=m.id, name=m.name, email=m.email, committee=m.is_committee, trustee=m.is_trustee)
    return MemberWithCode(**data, access_code=code) if code else MemberOut(**data)


@router.post(
    "/login",
    response_model=TokenOut,
    responses=problem_responses(NOT_FOUND, service.BAD_CODE, RATE_LIMITED),
    summary="Exchange a personal access code for a short-lived token",
)
def login(
    election_id: str, body: LoginIn, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenOut:
    reads_in_autocommit(session)  # the success path only reads
    client = client_address(request, tuple(settings.trusted_proxies))
    token, exp, holder = service.login(session, settings, election_id, body.code, client)
    return TokenOut(
        access_token=token, expires_at=exp, roles=sorted(holder.roles), group=holder.group
    )


@router.post(
    "/members",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberWithCode,
    responses=problem_responses(*AUTH, NOT_FOUND, ELECTION_ENDED, service.TRUSTEES_FIXED),
    summary="Appoint a committee member or trustee (operator or committee)",
)
def add_member(
    election_id: str,
    body: MemberIn,
    session: SessionDep,
    settings: SettingsDep,
    who: CommitteeOrOperatorDep,
) -> MemberOut:
    election = get_election(session, election_id, for_update=True)
    refuse_ended(election)
    if not (body.committee or body.trustee):
        raise ProblemError(FORBIDDEN, "a member needs the committee or the trustee role")
    service.check_appointment(session, election, body.trustee)
    m, code = service.add_member(
        session,
        settings,
        election,
        body.name,
        str(body.email) if body.email else None,
        body.committee,
        body.trustee,
    )
    record(
        session,
        election_id,
        who,
        "member_appointed",
        subject=f"member:{m.id}",
        details={"member_name": m.name, "committee": m.is_committee, "trustee": m.is_trustee},
    )
    return _out(m, code)


@router.get(
    "/members",
    response_model=MemberList,
    responses=problem_responses(*AUTH, NOT_FOUND),
    summary="The committee and trustees (operator or committee)",
)
def list_members(election_id: str, session: SessionDep, who: CommitteeOrOperatorDep) -> MemberList:
    get_election(session, election_id)
    return MemberList(items=[_out(m) for m in service.list_members(session, election_id)])


@router.post(
    "/members/{member_id}/code",
    response_model=MemberWithCode,
    responses=problem_responses(*AUTH, NOT_FOUND, ELECTION_ENDED),
    summary="Regenerate a member's access code; the old one stops working",
)
def regenerate_code(
    election_id: str,
    member_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    who: CommitteeOrOperatorDep,
) -> MemberOut:
    refuse_ended(get_election(session, election_id, for_update=True))
    m = service.get_member(session, election_id, member_id)
    assert m.id is not None
    code = service.regenerate_code(session, settings, election_id, "member", m.id, who)
    record(
        session,
        election_id,
        who,
        "member_code_regenerated",
        subject=f"member:{m.id}",
        details={"member_name": m.name},
    )
    return _out(m, code)


@router.delete(
    "/members/{member_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(
        *AUTH,
        NOT_FOUND,
        ELECTION_ENDED,
        service.SELF_REMOVAL,
        service.TRUSTEES_FIXED,
        service.LAST_COMMITTEE_MEMBER,
    ),
    summary="Remove a committee member or trustee (operator, or another committee member)",
)
def remove_member(
    election_id: str, member_id: RowId, session: SessionDep, who: CommitteeOrOperatorDep
) -> Response:
    election = get_election(session, election_id, for_update=True)
    refuse_ended(election)
    m = service.get_member(session, election_id, member_id)
    service.remove_member(session, election, m, who)
    record(
        session,
        election_id,
        who,
        "member_removed",
        subject=f"member:{m.id}",
        details={"member_name": m.name, "committee": m.is_committee, "trustee": m.is_trustee},
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


MemberDep = Annotated[Principal, require("committee", "trustee", "voter")]


class WhoAmI(BaseModel):
    election: str
    roles: list[str]
    subject: str


@router.get(
    "/me",
    response_model=WhoAmI,
    responses=problem_responses(*AUTH),
    summary="Who the token belongs to (any role of this election)",
)
def whoami(election_id: str, who: MemberDep) -> WhoAmI:
    return WhoAmI(election=election_id, roles=sorted(who.roles), subject=who.subject)
