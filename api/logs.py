"""Structured JSON logs (python-json-logger): one line per event on stderr, with an RFC 3339
UTC timestamp, level, logger, message, the request id and the fields passed with `extra=`.

Every request gets an access line (method, route template, election, status, duration in ms,
request id), except the routes in QUIET: the cast route and the receipt routes log no line of
their own and no request id (docs/protocol.md "Threat model": nothing on the cast path may tie
a ballot to a moment or a client); they are counted in the Prometheus metrics (api.health).
No line holds a client address, a raw path (paths carry ids and entry hashes) or a code.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.health import route_label

REQUEST_ID_HEADER = "X-Request-ID"
# A request id a client or proxy sends is kept only when well-formed: 1-64 characters of
# letters, digits and `._:-` (a UUID, a ULID, a trace id); anything else is replaced by one of
# ours, so a header can neither forge log syntax nor grow a line without bound.
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,64}")
_HEADER_NAME = REQUEST_ID_HEADER.lower().encode()

# Route templates (as their routers have them, under /api/v1; the metrics' labels) that log no
# access line and carry no request id into any log line: casting a ballot and fetching or
# checking its receipt (whatever the method, so a 405 is quiet too).
QUIET = frozenset(
    {
        "/elections/{election_id}/ballots",
        "/elections/{election_id}/receipts/{entry_hash}",
        "/elections/{election_id}/log/receipts/check",
    }
)

access_log = logging.getLogger("stembus.access")


class _Request:
    __slots__ = ("request_id", "scope")

    def __init__(self, request_id: str, scope: Scope) -> None:
        self.request_id = request_id
        self.scope = scope

    def quiet(self) -> bool:
        return getattr(self.scope.get("route"), "path", None) in QUIET


_current: ContextVar[_Request | None] = ContextVar("stembus_request", default=None)


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to each record logged while it is handled (the context
    variable follows the request into the threadpool of sync routes); none on a quiet route."""

    def filter(self, record: logging.LogRecord) -> bool:
        req = _current.get()
        if req is not None and not req.quiet():
            record.request_id = req.request_id
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()  # stderr, written in the logging thread: no hand-off
    handler.setFormatter(
        JsonFormatter(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,  # RFC 3339 in UTC, from the record's creation time
        )
    )
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger("stembus")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == _HEADER_NAME:
            if _REQUEST_ID.fullmatch(value):
                return value.decode()
            break
    return secrets.token_hex(16)


class RequestLogMiddleware:
    """The request id (answered in `X-Request-ID`) and the access line, as a plain ASGI
    middleware (no task group or memory stream, as api.health.MetricsMiddleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        req = _Request(_request_id(scope), scope)
        token = _current.set(req)
        header = (_HEADER_NAME, req.request_id.encode())
        status = 500  # what the client gets if the app fails before it answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if not req.quiet() and access_log.isEnabledFor(logging.INFO):
                extra: dict[str, Any] = {
                    "event": "request",
                    "method": scope["method"],
                    "route": route_label(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                }
                election = scope.get("path_params", {}).get("election_id")
                if election is not None:
                    extra["election"] = election
                access_log.info("request", extra=extra)
            _current.reset(token)
