"""Every router of the API, in one place."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from api.audit.endpoints import router as audit_router
from api.auth.endpoints import router as auth_router
from api.elections.endpoints import router as elections_router
from api.lists.endpoints import router as lists_router
from api.log.endpoints import router as log_router
from api.nominations.endpoints import router as nominations_router
from api.retention.endpoints import router as retention_router
from api.roll.endpoints import router as roll_router
from api.tally.endpoints import router as tally_router
from api.text import refuse_unstorable_text
from api.voting.endpoints import ballot_router
from api.voting.endpoints import router as voting_router

# Every request body is bounded while it is received (FastAPI's max_body_size: a 413 as soon
# as Content-Length or the bytes so far exceed it, before anything is parsed; api.problems words
# it as a problem). Routes that need another bound declare it: the roll import 20 MB, a ballot
# 96 KiB. The bound is on the routes, not the app, so the 413 passes api.problems' middleware.
MAX_BODY = 1024 * 1024


def include_routers(app: FastAPI, prefix: str) -> None:
    # FastAPI tries the routers in this order on every request, matching each route's pattern
    # in turn: the voter's paths come first (ballot and credential took ~80 µs to match when
    # last, ~10 µs first). The docs order their sections by api.main.TAGS instead.
    for router in (
        ballot_router,
        voting_router,
        auth_router,
        elections_router,
        log_router,
        roll_router,
        lists_router,
        nominations_router,
        tally_router,
        retention_router,
        audit_router,
    ):
        app.include_router(
            router,
            prefix=prefix,
            max_body_size=MAX_BODY,
            # Before any other dependency: NUL or a lone surrogate in any text is a 422.
            dependencies=[Depends(refuse_unstorable_text)],
        )
