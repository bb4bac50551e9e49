"""FastAPI dependencies: settings, the database session (the request boundary commits) and
the caller's principal, with per-election authorization."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from api.auth.tokens import Principal, TokenError, decode_token
from api.db import session_scope
from api.problems import FORBIDDEN, UNAUTHENTICATED, ProblemError
from api.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(request: Request) -> Iterator[Session]:
    yield from session_scope(request.app.state.engine, {"settings": request.app.state.settings})


SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(
    auto_error=False, description="a token from /login or `stembus operator token`"
)


def get_principal(
    settings: SettingsDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise ProblemError(UNAUTHENTICATED, "missing bearer token")
    try:
        return decode_token(settings, creds.credentials)
    except TokenError:
        raise ProblemError(UNAUTHENTICATED, "invalid or expired token") from None


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _scoped(principal: Principal, election_id: str, roles: tuple[str, ...]) -> Principal:
    if "operator" in roles and principal.has("operator"):
        return principal
    if principal.election_id != election_id:
        # A token of another election: as if the election did not exist for this caller.
        raise ProblemError(FORBIDDEN, "this token is for another election")
    if not any(principal.has(r) for r in roles if r != "operator"):
        raise ProblemError(FORBIDDEN, f"requires role: {' or '.join(roles)}")
    return principal


def require_operator(principal: PrincipalDep) -> Principal:
    if not principal.has("operator"):
        raise ProblemError(FORBIDDEN, "requires role: operator")
    return principal


def require(*roles: str):  # type: ignore[no-untyped-def]
    """Dependency: the caller holds one of `roles` in the election named by the path."""

    def dep(election_id: str, principal: PrincipalDep) -> Principal:
        return _scoped(principal, election_id, roles)

    return Depends(dep)


OperatorDep = Annotated[Principal, Depends(require_operator)]
CommitteeDep = Annotated[Principal, require("committee")]
CommitteeOrOperatorDep = Annotated[Principal, require("committee", "operator")]
TrusteeDep = Annotated[Principal, require("trustee")]
VoterDep = Annotated[Principal, require("voter")]
