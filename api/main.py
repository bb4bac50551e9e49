"""The Stembus application factory."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig
from starlette.types import ASGIApp

from api import docs, health, problems
from api.contract import refine
from api.db import make_engine
from api.logs import REQUEST_ID_HEADER, RequestLogMiddleware, configure_logging
from api.settings import Settings, get_settings

API_PREFIX = "/api/v1"
DESCRIPTION = """Verifiable online elections for Dutch works councils (ondernemingsraden).

Errors are RFC 9457 `application/problem+json` documents with a stable `type` per error.
Authenticated routes take a bearer token from `POST /api/v1/elections/{id}/login` (an access
code) or, for the operator, from `stembus operator token`.
"""


# The order of the documentation's sections (the order of routes is the routers' order in
# api.routes, which puts the voter's hot paths first).
TAGS = [
    {"name": "elections", "description": "Create elections and move them through their phases"},
    {"name": "auth", "description": "Log in with an access code; the committee and trustees"},
    {"name": "roll", "description": "The voter roll, objections, invitations"},
    {"name": "nominations", "description": "The nomination campaign (anonymous nominators)"},
    {"name": "lists", "description": "Candidate lists: unions, free lists, consent, validation"},
    {"name": "voting", "description": "Keys, credentials (blind signatures), ballots, turnout"},
    {"name": "log", "description": "The public Merkle log: entries, checkpoints, proofs, receipts"},
    {"name": "tally", "description": "Trustee shares, the tally, results and the record"},
    {
        "name": "audit",
        "description": "The audit trail: every decision of the committee and operator",
    },
    {"name": "health", "description": "Liveness, readiness and metrics"},
    {"name": "problems", "description": "Every RFC 9457 problem type the API answers with"},
]


_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def _operation_id(route: APIRoute) -> str:
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


# Headers a browser frontend must be able to read on a cross-origin answer.
CORS_EXPOSED_HEADERS = ["Location", "Retry-After", "WWW-Authenticate", REQUEST_ID_HEADER]


class StembusApp(FastAPI):
    """FastAPI with CORS around the whole stack, when origins are configured.

    Starlette puts `add_middleware` middleware inside its ServerErrorMiddleware, whose 500
    answer (and any answer a middleware replaces, such as api.problems' 413) would then reach
    the browser without CORS headers: a frontend would see a network failure instead of the
    problem document. Wrapped here, outermost, every answer carries them."""

    cors_origins: list[str] = []

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = refine(super().openapi())
        return self.openapi_schema

    def build_middleware_stack(self) -> ASGIApp:
        # The request id and access line outside ServerErrorMiddleware, so its 500 answer has
        # them too; inside CORS, so a preflight (answered by CORS alone) logs no line.
        app: ASGIApp = RequestLogMiddleware(super().build_middleware_stack())
        if not self.cors_origins:
            return app
        return CORSMiddleware(
            app,
            allow_origins=self.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=CORS_EXPOSED_HEADERS,
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    app = StembusApp(
        title="Stembus",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        # Prometheus metrics are always on (/metrics); OpenTelemetry only when asked for.
        telemetry=None if settings.opentelemetry else _NO_TELEMETRY,
        generate_unique_id_function=_operation_id,
        openapi_url="/openapi.json",
        docs_url=None,  # api.docs serves /docs and /redoc from local assets
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.sqlalchemy_url)
    problems.install(app)
    app.cors_origins = list(settings.cors_origins)
    app.add_middleware(problems.TooLargeAsProblem)
    app.add_middleware(health.MetricsMiddleware)

    from api.routes import include_routers

    include_routers(app, API_PREFIX)
    app.include_router(health.router)
    app.include_router(problems.router)
    docs.install(app)
    from api import web

    web.install(app)  # the voter's pages, and HTML error pages for browsers (after problems)
    return app
