"""RFC 9457 problem details: every error a client can cause has a stable `type`, a status and
a title, and each route declares the problems it may answer with (`problem_responses`).

`type` is a relative URI `/problems/<slug>`; `GET /problems/<slug>` describes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("stembus.errors")


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    description: str

    @property
    def uri(self) -> str:
        return f"/problems/{self.slug}"


REGISTRY: dict[str, ProblemType] = {}


def problem_type(slug: str, status: int, title: str, description: str) -> ProblemType:
    if slug in REGISTRY:
        raise ValueError(f"problem type {slug!r} registered twice")
    pt = ProblemType(slug, status, title, description)
    REGISTRY[slug] = pt
    return pt


# Problems every route can answer with.
VALIDATION = problem_type(
    "validation-error",
    422,
    "Invalid request",
    "The request body, query or path is invalid; `errors` lists each field and why.",
)
MALFORMED = problem_type(
    "malformed-request",
    400,
    "Malformed request",
    "The body is not valid JSON, or not sent as `application/json` (e.g. as `text/plain`).",
)
NOT_FOUND = problem_type(
    "not-found", 404, "Not found", "No such resource, or it is not visible to you."
)
ROUTE_NOT_FOUND = problem_type("route-not-found", 404, "No such route", "The URL names no route.")
METHOD_NOT_ALLOWED = problem_type(
    "method-not-allowed", 405, "Method not allowed", "The route exists but not with this method."
)
UNAUTHENTICATED = problem_type(
    "unauthenticated",
    401,
    "Authentication required",
    "A valid "
    "bearer token is required: missing, malformed, expired, or of "
    "the wrong audience or algorithm.",
)
TOKEN_REVOKED = problem_type(
    "token-revoked",
    401,
    "Token revoked",
    "The token was issued for an access code that has since been regenerated, or its election "
    "has ended (tallied or cancelled). Log in again with the current code, if there is one.",
)
FORBIDDEN = problem_type(
    "forbidden", 403, "Forbidden", "Your role in this election does not allow this action."
)
TOO_LARGE = problem_type(
    "payload-too-large",
    413,
    "Payload too large",
    "The request body exceeds the limit for this route.",
)
RATE_LIMITED = problem_type(
    "rate-limited", 429, "Too many attempts", "Too many failed attempts; wait and try again."
)
# The two problems of every authenticated route: no valid token, or the wrong role/election.
AUTH = (UNAUTHENTICATED, TOKEN_REVOKED, FORBIDDEN)
DB_UNAVAILABLE = problem_type(
    "service-unavailable",
    503,
    "The database is unavailable",
    "The database cannot be reached or is restarting; try again after `Retry-After` seconds. "
    "`outcome` says what became of the request: `not_applied` (nothing was changed) or "
    "`unknown` (the database failed while committing: the change may have been saved; read "
    "before repeating a change that is not retry-safe).",
)
RETRY_AFTER_UNAVAILABLE = 5
INTERNAL = problem_type(
    "internal-error",
    500,
    "Internal error",
    "An unexpected error; nothing was changed. Report it with the time of the request.",
)


class ProblemDetails(BaseModel):
    """RFC 9457 problem details object."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI of the problem type, stable per error")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="per-field errors (validation problems)"
    )


class ProblemError(Exception):
    """Raise anywhere in the API to answer with a problem document."""

    def __init__(self, ptype: ProblemType, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or ptype.title)
        self.ptype = ptype
        self.detail = detail
        self.extra = extra


def problem_response(
    ptype: ProblemType, detail: str | None = None, instance: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"type": ptype.uri, "title": ptype.title, "status": ptype.status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if ptype.status == 401 else None
    if ptype.status in (429, 503) and "retry_after" in extra:
        headers = {"Retry-After": str(extra["retry_after"])}
    return JSONResponse(body, status_code=ptype.status, media_type=PROBLEM_JSON, headers=headers)


def problem_responses(*types: ProblemType) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: each status with the problem types it may carry."""
    by_status: dict[int, list[ProblemType]] = {}
    for t in (*types, MALFORMED, VALIDATION, INTERNAL, DB_UNAVAILABLE):
        by_status.setdefault(t.status, []).append(t)
    out: dict[int | str, dict[str, Any]] = {}
    for status, ts in sorted(by_status.items()):
        names = "; ".join(f"`{t.uri}` {t.title}" for t in ts)
        out[status] = {
            "model": ProblemDetails,
            "description": names,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
    return out


def _clean_errors(errors: list[Any]) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())]
        # Never echo the input back: it may hold personal data or secrets.
        out.append({"loc": loc, "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))})
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.ptype, exc.detail, instance=request.url.path, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem_response(
                MALFORMED, "the body is not valid JSON", instance=request.url.path
            )
        if _not_json(request) and any(tuple(e.get("loc", ())) == ("body",) for e in errors):
            # FastAPI reads a JSON body only when it is declared JSON; otherwise the whole body
            # fails validation as "not an object". That is the wrong content type, not a wrong
            # member: say so (e.g. `fetch` sends a string body as text/plain).
            return problem_response(
                MALFORMED, "the body must be sent as application/json", instance=request.url.path
            )
        return problem_response(
            VALIDATION,
            "the request is invalid",
            instance=request.url.path,
            errors=_clean_errors(list(errors)),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        ptype = {
            404: ROUTE_NOT_FOUND,
            405: METHOD_NOT_ALLOWED,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            413: TOO_LARGE,
            400: MALFORMED,  # FastAPI: a body it cannot decode ("error parsing the body")
        }.get(exc.status_code)
        if ptype is None:
            generic = ProblemType(f"http-{exc.status_code}", exc.status_code, "HTTP error", "")
            return problem_response(generic, str(exc.detail), instance=request.url.path)
        detail = {TOO_LARGE: _TOO_LARGE_DETAIL, MALFORMED: str(exc.detail)}.get(ptype)
        return problem_response(ptype, detail, instance=request.url.path)

    from sqlalchemy.exc import DBAPIError, DisconnectionError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from api.db import CommitOutcomeUnknown, is_unavailable

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        if not (isinstance(exc, CommitOutcomeUnknown) or is_unavailable(exc)):
            return await _unexpected(request, exc)
        unknown = isinstance(exc, CommitOutcomeUnknown)
        cause = exc.cause if isinstance(exc, CommitOutcomeUnknown) else exc
        # One line, no traceback, no SQL and no parameters (they may hold personal data): the
        # error's class and the driver's error class say what happened.
        orig = getattr(cause, "orig", None)
        log.warning(
            "database unavailable",
            extra={
                "event": "database-unavailable",
                "method": request.method,
                "route": getattr(request.scope.get("route"), "path", "unmatched"),
                "error": type(cause).__name__,
                "driver_error": type(orig).__name__ if orig is not None else None,
                "outcome": "unknown" if unknown else "not_applied",
            },
        )
        detail = (
            "the database failed while committing: the change may or may not have been saved"
            if unknown
            else "the database cannot be reached; nothing was changed"
        )
        return problem_response(
            DB_UNAVAILABLE,
            detail,
            instance=request.url.path,
            outcome="unknown" if unknown else "not_applied",
            retry_after=RETRY_AFTER_UNAVAILABLE,
        )

    for cls in (DBAPIError, DisconnectionError, PoolTimeout, CommitOutcomeUnknown):
        app.add_exception_handler(cls, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The route template, never the path (it may hold an entry hash, e.g. a receipt's).
        route = getattr(request.scope.get("route"), "path", "unmatched")
        log.exception("unhandled error", extra={"method": request.method, "route": route})
        return problem_response(INTERNAL, instance=request.url.path)


_TOO_LARGE_DETAIL = "the request body is too large"


def _not_json(request: Request) -> bool:
    """A declared content type that FastAPI does not read as JSON (`application/json` or
    `application/*+json`); no declared type is read as JSON."""
    declared = request.headers.get("content-type")
    if not declared:
        return False
    main = declared.split(";", 1)[0].strip().lower()
    return not (
        main == "application/json" or (main.startswith("application/") and main.endswith("+json"))
    )


class TooLargeAsProblem:
    """FastAPI's request body limit (`max_body_size`, api.routes) answers its 413 in plain
    text, from below the exception handlers; this answers the problem document instead."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_problem(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the plain-text body of the replaced answer
            if (
                message["type"] == "http.response.start"
                and message["status"] == 413
                and not any(
                    k == b"content-type" and v.startswith(PROBLEM_JSON.encode())
                    for k, v in message.get("headers", ())
                )
            ):
                replaced = True
                answer = problem_response(TOO_LARGE, _TOO_LARGE_DETAIL, instance=scope["path"])
                await answer(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, send_problem)


router = APIRouter(tags=["problems"])


class ProblemTypeOut(BaseModel):
    type: str
    status: int
    title: str
    description: str


@router.get(
    "/problems",
    response_model=list[ProblemTypeOut],
    responses=problem_responses(),
    summary="Every problem type this API answers with",
)
def list_problem_types() -> list[ProblemTypeOut]:
    return [
        ProblemTypeOut(type=t.uri, status=t.status, title=t.title, description=t.description)
        for t in sorted(REGISTRY.values(), key=lambda t: t.slug)
    ]


@router.get(
    "/problems/{slug}",
    response_model=ProblemTypeOut,
    responses=problem_responses(NOT_FOUND),
    summary="One problem type, described",
)
def get_problem_type(slug: str) -> ProblemTypeOut:
    t = REGISTRY.get(slug)
    if t is None:
        raise ProblemError(NOT_FOUND, "no such problem type")
    return ProblemTypeOut(type=t.uri, status=t.status, title=t.title, description=t.description)
