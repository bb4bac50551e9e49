"""A COMMIT that loses its database connection is answered 503 with outcome `unknown`, never
a 2xx and never "nothing was changed": the write may or may not have landed. Real PostgreSQL:
the route's own backend is terminated between its write and the request's commit."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.deps import SessionDep
from api.main import create_app
from tests.conftest import DB_ENV, _pg_admin


@pytest.mark.skipif(not os.environ.get(DB_ENV), reason="needs PostgreSQL (terminates a backend)")
def test_a_commit_that_loses_its_connection_is_of_unknown_outcome(settings, database_url):
    app = create_app(settings)

    @app.post("/test-only/write-then-lose-the-connection")
    def write(session: SessionDep) -> dict[str, bool]:
        session.execute(text("UPDATE election SET name = name WHERE id = 'no-such-election'"))
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with _pg_admin(database_url) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return {"ok": True}  # the commit runs after this, before the answer is sent

    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            r = c.post("/test-only/write-then-lose-the-connection")
            assert r.status_code == 503, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["type"] == "/problems/service-unavailable"
            assert r.json()["outcome"] == "unknown"
            assert int(r.headers["retry-after"]) > 0
            # And the service goes on: the next request gets a fresh connection.
            assert c.get("/readyz").status_code == 200
    finally:
        app.state.engine.dispose()
