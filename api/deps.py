"""FastAPI dependencies: settings, the database session (the request boundary commits) and
the caller's principal, with per-election authorization."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from api.auth import revocation
from api.auth.tokens import Principal, TokenError, decode_token
from api.db import READS_ONLY
from api.db import commit as commit_or_unknown
from api.problems import FORBIDDEN, UNAUTHENTICATED, ProblemError
from api.settings import Settings

# The cheap dependencies are `async def`: FastAPI runs a plain `def` dependency in the
# threadpool, one thread hand-off (queue, condition, loop wake-up) each, per request.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def _off_loop(fn: Callable[[], object]) -> None:
    # Not through the endpoints' threadpool limiter: if every token were taken by endpoints
    # waiting for a lock this transaction holds, its commit would wait for them — a deadlock
    # until some timeout. FastAPI's own yield dependencies exit the same way.
    await anyio.to_thread.run_sync(fn, limiter=anyio.CapacityLimiter(1))


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session; commit on success, roll back on any error (as
    api.db.session_scope). Making a Session does no I/O, so only the commit or rollback goes
    to the threadpool: one thread hand-off instead of two, and none when the endpoint left no
    transaction open (the voting paths commit their own group transaction)."""
    session = Session(
        request.app.state.engine,
        expire_on_commit=False,
        info={"settings": request.app.state.settings},
    )
    try:
        yield session
        if session.in_transaction():  # else nothing to commit: no hand-off at all
            if _reads_only(session):
                session.commit()  # no I/O: only hands the connection back to the pool
            else:

                def commit() -> None:  # a failed COMMIT: its outcome is unknown (api.db)
                    commit_or_unknown(session)

                await _off_loop(commit)
    except BaseException:
        if session.in_transaction():
            try:
                await _off_loop(session.rollback)
            except Exception:  # noqa: BLE001, S110 - the first error is the answer
                pass  # e.g. the database is gone: the connection is discarded anyway
        raise
    finally:
        session.close()  # no I/O left: the transaction ended above


def _reads_only(session: Session) -> bool:
    """The session's transaction is api.db.reads_in_autocommit's: its statements committed as
    they ran, so its commit sends nothing to the database (a write after the mode ended runs in
    an ordinary transaction, on a connection without these options)."""
    options = session.connection().get_execution_options()
    return options.get("isolation_level") == "AUTOCOMMIT" or bool(options.get(READS_ONLY))


# scope="function": FastAPI ends this dependency (the commit) when the endpoint has returned,
# before the response is sent. With the default scope it ended after the response had gone
# out: a client could be told 201 for a write that was never committed, or that a kill -9 then
# lost (tests/test_durability.py, through a real server). A failed commit is now an error
# answer (api.problems), never a 2xx.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(
    auto_error=False, description="a token from /login or `stembus operator token`"
)


async def get_principal(
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


async def require_operator(principal: PrincipalDep) -> Principal:
    if not principal.has("operator"):
        raise ProblemError(FORBIDDEN, "requires role: operator")
    return principal


def require(*roles: str, check_code: bool = True):  # type: ignore[no-untyped-def]
    """Dependency: the caller holds one of `roles` in the election named by the path, with a
    token that is still alive (api.auth.revocation). `check_code=False` is for the hot voting
    routes, whose own read checks it (api.voting.issuance.voter_of)."""

    async def dep(election_id: str, request: Request, principal: PrincipalDep) -> Principal:
        scoped = _scoped(principal, election_id, roles)
        if check_code and scoped.election_id is not None:
            engine = request.app.state.engine
            await anyio.to_thread.run_sync(lambda: revocation.check(engine, scoped))
        return scoped

    return Depends(dep)


OperatorDep = Annotated[Principal, Depends(require_operator)]
CommitteeDep = Annotated[Principal, require("committee")]
CommitteeOrOperatorDep = Annotated[Principal, require("committee", "operator")]
TrusteeDep = Annotated[Principal, require("trustee")]
VoterDep = Annotated[Principal, require("voter")]
# The credential routes: the token's code is checked in the voter read they make anyway.
VoterCodeCheckedLaterDep = Annotated[Principal, require("voter", check_code=False)]
