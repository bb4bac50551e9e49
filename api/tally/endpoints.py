"""Tally routes: trustee shares and status, results (JSON and HTML), the election record."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from sqlalchemy import select as sa_select
from sqlmodel import col

from api.db import is_unavailable, session_scope
from api.deps import CommitteeDep, SessionDep, SettingsDep, TrusteeDep
from api.elections.service import get_election, settings_of
from api.log import tree
from api.log.tree_models import LogCheckpoint
from api.problems import (
    FORBIDDEN,
    NOT_FOUND,
    UNAUTHENTICATED,
    ProblemError,
    problem_responses,
    problem_type,
)
from api.tally import export, page, service
from api.tally.proces_verbaal import render_pdf
from api.tally.schemas import ResultsOut, ShareIn, TallyStatusOut
from rules.explain import pick_lang
from rules.record import record_lines

log = logging.getLogger("stembus.tally")


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Close voting at its scheduled end without a human (api.tally.service)."""

    async def loop() -> None:
        while True:
            try:
                await run_in_threadpool(
                    service.close_due_elections, app.state.engine, app.state.settings
                )
            except Exception as e:  # keep the loop alive; the next round retries
                if is_unavailable(e):  # an outage: one line, no traceback (api.problems)
                    log.warning(
                        "scheduled close failed",
                        extra={"event": "database-unavailable", "error": type(e).__name__},
                    )
                else:
                    log.exception("scheduled close failed")
            await asyncio.sleep(service.CLOSE_INTERVAL)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


router = APIRouter(prefix="/elections/{election_id}", tags=["tally"], lifespan=lifespan)


def _status_out(st: service.TallyStatus) -> TallyStatusOut:
    return TallyStatusOut(
        status=st.status,
        k=st.k,
        n=st.n,
        received=len(st.received),
        indices=st.received,
        bad_shares=st.bad,
        message=st.message,
        result_index=st.result_index,
    )


@router.get(
    "/tally",
    response_model=TallyStatusOut,
    responses=problem_responses(NOT_FOUND),
    summary="Tally status: phase and how many of the k trustee shares are in (public)",
)
def tally_status(election_id: str, session: SessionDep) -> TallyStatusOut:
    election = get_election(session, election_id)
    service.close_if_due(session, election)
    return _status_out(service.status(session, election))


@router.post(
    "/tally/shares",
    response_model=TallyStatusOut,
    responses=problem_responses(
        UNAUTHENTICATED,
        FORBIDDEN,
        NOT_FOUND,
        service.SHARES_NOT_ACCEPTED,
        service.INVALID_SHARE,
        service.SHARE_INDEX_TAKEN,
    ),
    summary="Hand in a trustee share; with k shares the key is rebuilt and counted (trustee)",
)
def submit_share(
    election_id: str,
    body: ShareIn,
    session: SessionDep,
    settings: SettingsDep,
    trustee: TrusteeDep,
) -> TallyStatusOut:
    election = get_election(session, election_id, for_update=True)
    service.close_if_due(session, election)
    return _status_out(service.submit_share(session, settings, election, trustee, body.share))


def _record_url(settings: Any, election_id: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/api/v1/elections/{election_id}/record"


def wants_html(accept: str | None) -> bool:
    """A browser's navigation (Accept names text/html and no JSON): it gets the page."""
    a = (accept or "").lower()
    return "text/html" in a and "json" not in a


@router.get(
    "/results",
    response_model=ResultsOut,
    responses={
        303: {"description": "a browser (Accept: text/html) is sent to the results page"},
        **problem_responses(NOT_FOUND, service.NOT_TALLIED),
    },
    summary="The result: the published `result` entry with display names (public)",
)
def results(
    election_id: str,
    session: SessionDep,
    settings: SettingsDep,
    accept: Annotated[str | None, Header(max_length=1000)] = None,
) -> Any:
    election = get_election(session, election_id)
    if wants_html(accept):  # a person never sees a JSON problem: the page says what there is
        return RedirectResponse(f"/api/v1/elections/{election_id}/results/page", status_code=303)
    index, result = service.result_of(session, election)
    url = _record_url(settings, election_id)
    return ResultsOut(
        election=election.id,
        name=election.name,
        organisation=election.organisation,
        status=election.status,
        result_index=index,
        result=result,
        names=service.names_of(session, election_id),
        record_url=url,
        verify=f"stembus verify {url}",
    )


NOT_A_CONSULTATION = problem_type(
    "not-a-consultation",
    409,
    "Not a consultation",
    "The export of aggregate counts is for consultations; a works council election's result "
    "is the `result` entry (`GET …/results`) and the proces-verbaal.",
)


@router.get(
    "/results/export",
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {},
            },
            "description": "rows of `scope, question, rule, item, measure, value` "
            "(api/tally/export.py): counts per option and scale point, mean and median, "
            "Borda points, ranks and the pairwise table, per total, kiesgroep shown on its own "
            "and `other` — never the text of an open answer",
        },
        **problem_responses(NOT_FOUND, service.NOT_TALLIED, NOT_A_CONSULTATION),
    },
    summary="The aggregate counts of a consultation as CSV or JSON (public)",
)
def results_export(
    election_id: str,
    session: SessionDep,
    format: Annotated[
        Literal["csv", "json"], Query(description="`csv` (default) or `json`")
    ] = "csv",
) -> Response:
    election = get_election(session, election_id)
    _, result = service.result_of(session, election)
    if result.get("kind") != "consultation":
        raise ProblemError(NOT_A_CONSULTATION, "this election is a works council election")
    name = f"uitslag-{election_id}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "json":
        return JSONResponse(
            {"columns": list(export.COLUMNS), "rows": export.rows(result)}, headers=headers
        )
    return Response(export.to_csv(result), media_type="text/csv; charset=utf-8", headers=headers)


@router.get(
    "/results/page",
    response_class=HTMLResponse,
    responses=problem_responses(NOT_FOUND),
    summary="The results page (HTML, Dutch or English, with a seat chart) to show employees "
    "(public); before the tally, a page that says when the result comes",
)
def results_page(
    election_id: str,
    session: SessionDep,
    settings: SettingsDep,
    lang: Annotated[
        str | None,
        Query(max_length=16, description="`nl` or `en`; default from Accept-Language, then nl"),
    ] = None,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> HTMLResponse:
    election = get_election(session, election_id)
    service.close_if_due(session, election)
    language = pick_lang(lang, accept_language)
    schedule = settings_of(election).schedule.voting
    voting = (schedule.start, schedule.end) if schedule else (None, None)
    headers = {
        "Content-Security-Policy": page.CSP,
        "Content-Language": language,
        "Vary": "Accept-Language",
    }
    if election.status != "tallied":
        st = service.status(session, election)
        html = page.render_pending(
            name=election.name,
            organisation=election.organisation,
            status=election.status,
            lang=language,
            voting=voting,
            shares=(len(st.received), st.k),
        )
        return HTMLResponse(html, headers=headers)
    index, result = service.result_of(session, election)
    html = page.render(
        name=election.name,
        organisation=election.organisation,
        result=result,
        names=service.names_of(session, election_id),
        record_url=_record_url(settings, election_id),
        result_index=index,
        lang=language,
        determined_at=election.updated_at,
        voting=voting,
    )
    return HTMLResponse(html, headers=headers)


@router.get(
    "/results/proces-verbaal",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "the proces-verbaal (PDF)"},
        **problem_responses(UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, service.NOT_TALLIED),
    },
    summary="The proces-verbaal: the official record of the result as a PDF to print and sign, "
    "Dutch or English (committee)",
)
def proces_verbaal(
    election_id: str,
    session: SessionDep,
    settings: SettingsDep,
    who: CommitteeDep,
    lang: Annotated[str | None, Query(max_length=16, description="`nl` (default) or `en`")] = None,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> Response:
    election = get_election(session, election_id)
    rec = service.proces_verbaal_record(session, election, _record_url(settings, election_id))
    language = pick_lang(lang, accept_language)
    pdf = render_pdf(rec, language)
    name = f"proces-verbaal-{election_id}-{language}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Language": language,
        },
    )


@router.get(
    "/record",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/x-ndjson": {}}, "description": "stembus-record/v1"},
        **problem_responses(NOT_FOUND),
    },
    summary="The election record: every entry, checkpoint and key, as JSON Lines (public)",
)
def record(election_id: str, request: Request) -> StreamingResponse:
    engine = request.app.state.engine
    settings = request.app.state.settings
    # No request-scoped session: on SQLite every transaction takes the write lock, and the
    # request's session would hold it while the body streams from a second one.
    for session in session_scope(engine, {"settings": settings}):
        election = get_election(session, election_id)
        verifier = tree.log_verifier(session, election_id)
        size = election.log_size
    if verifier is None:
        raise ProblemError(NOT_FOUND, "the election has no log yet")

    def lines() -> Iterator[bytes]:
        # Its own session: the response streams after the request's session has closed.
        for s in session_scope(engine, {"settings": settings}):
            yield from record_lines(
                election_id,
                verifier.name,
                verifier.key_string,
                size,
                service.iter_bodies(s, election_id, upto=size),
                _checkpoints(s, election_id, size),
            )

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="stembus-{election_id}.jsonl"'},
    )


def _checkpoints(session: Any, election_id: str, size: int) -> Iterator[tuple[int, str]]:
    start = 0
    while True:
        rows = session.execute(
            sa_select(col(LogCheckpoint.size), col(LogCheckpoint.note))
            .where(
                col(LogCheckpoint.election_id) == election_id,
                col(LogCheckpoint.size) >= start,
                col(LogCheckpoint.size) <= size,
            )
            .order_by(col(LogCheckpoint.size))
            .limit(service.BATCH)
        ).all()
        if not rows:
            return
        for s, text in rows:
            yield int(s), str(text)
        start = int(rows[-1][0]) + 1
