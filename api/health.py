"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
import os
import time

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from pydantic import BaseModel
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import (
    RETRY_AFTER_UNAVAILABLE,
    UNAUTHENTICATED,
    problem_response,
    problem_responses,
    problem_type,
)

router = APIRouter(tags=["health"])

REQUESTS = Counter("stembus_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("stembus_http_request_seconds", "HTTP request latency", ["method", "route"])
NOT_READY = problem_type(
    "not-ready",
    503,
    "Not ready",
    "The database cannot be reached; `Retry-After` says when to ask again.",
)


class Health(BaseModel):
    status: str


@router.get(
    "/healthz",
    response_model=Health,
    responses=problem_responses(),
    summary="Liveness: the process answers",
)
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses=problem_responses(NOT_READY),
    summary="Readiness: the database answers",
)
def readyz(request: Request) -> Response | Health:
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        return problem_response(NOT_READY, retry_after=RETRY_AFTER_UNAVAILABLE)
    return Health(status="ready")


# Where the workers of `stembus serve --workers N` keep their metrics (prometheus-client's
# multiprocess mode: each worker writes its own files, /metrics adds them up, so every worker
# answers with the same totals). Set before any worker imports prometheus_client.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _registry() -> CollectorRegistry:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return problem_response(UNAUTHENTICATED, "/metrics needs STEMBUS_METRICS_TOKEN")
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


# Routes outside the routers (FastAPI's /openapi.json, the docs' assets) have no route in the
# scope; they get their fixed path as label. Anything else unmatched is one label, never the
# path (paths carry ids, and ids must not become labels).
_FIXED = frozenset({"/openapi.json", "/docs", "/redoc", "/metrics"})


def route_label(scope: Scope) -> str:
    route = getattr(scope.get("route"), "path", None)
    if route:
        return str(route)
    path = scope.get("path", "")
    if path in _FIXED:
        return str(path)
    if path.startswith("/docs/assets/"):
        return "/docs/assets"
    return "unmatched"


class MetricsMiddleware:
    """Request count and latency per route template, as a plain ASGI middleware.

    Not Starlette's BaseHTTPMiddleware (what `@app.middleware("http")` makes): that one runs the
    rest of the app in a task group behind a memory stream, about a quarter of a millisecond per
    request here. This one only wraps `send` to see the status.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app fails before it answers

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # The route template, never the concrete path; on the cast path nothing but the
            # method, the route and the status (docs/protocol.md "Threat model").
            name = route_label(scope)
            method = scope["method"]
            LATENCY.labels(method, name).observe(time.perf_counter() - start)
            REQUESTS.labels(method, name, str(status)).inc()
