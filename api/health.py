"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from api.problems import ProblemType, problem_response, problem_responses

router = APIRouter(tags=["health"])

REQUESTS = Counter("stembus_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("stembus_http_request_seconds", "HTTP request latency", ["method", "route"])
NOT_READY = ProblemType("not-ready", 503, "Not ready", "The database cannot be reached.")


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
        return problem_response(NOT_READY)
    return Health(status="ready")


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def metrics_middleware(request: Request, call_next):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    # The route template, never the concrete path: paths carry ids, and ids must not become labels.
    name = getattr(route, "path", "unmatched")
    LATENCY.labels(request.method, name).observe(time.perf_counter() - start)
    REQUESTS.labels(request.method, name, str(response.status_code)).inc()
    return response
