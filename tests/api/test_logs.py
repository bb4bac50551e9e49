"""Structured JSON logs (api.logs), read from the app's own handler: every line is JSON with a
UTC RFC 3339 timestamp, level, logger and message; each request has one access line with its
route template, election, status, duration and request id — except the cast and receipt
routes, which log nothing; failed logins and throttling say why, never the code; no line holds
a client address."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.logs import QUIET, RequestIdFilter
from cli.client import StembusClient
from tests.api.test_voting_support import close_voting, receipts_of, voting_election

WRONG = "AAAA-AAAA-AAAA-AAAA-AAAA"  # well formed, nobody's
PEER = "203.0.113.77"  # the test client's address (TestClient's client=)
RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)")


class Lines:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.all() if line["logger"] == "stembus.access"]

    def clear(self) -> None:
        self.stream.seek(0)
        self.stream.truncate()


@pytest.fixture()
def lines(app: Any) -> Iterator[Lines]:
    """The app's own handler (its formatter and request-id filter), writing to a buffer."""
    (handler,) = [
        h
        for h in logging.getLogger("stembus").handlers
        if any(isinstance(f, RequestIdFilter) for f in h.filters)
    ]
    assert isinstance(handler, logging.StreamHandler)
    buf = io.StringIO()
    old = handler.setStream(buf)
    try:
        yield Lines(buf)
    finally:
        handler.setStream(old)


@pytest.fixture()
def peer_client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, client=(PEER, 5000)) as c:
        yield c


def test_a_line_per_request_with_its_fields_and_request_id(lines, election):
    lines.clear()
    r = election.client.get(election.url(), headers={"X-Request-ID": "req-42.a:b_C"})
    assert r.status_code == 200
    assert r.headers["X-Request-ID"] == "req-42.a:b_C"
    (line,) = lines.all()
    assert RFC3339_UTC.fullmatch(line["timestamp"])
    logged = datetime.fromisoformat(line["timestamp"])
    assert logged.utcoffset() is not None and logged.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - logged).total_seconds()) < 60
    assert line["level"] == "INFO" and line["logger"] == "stembus.access"
    assert line["message"] == "request"
    assert line["method"] == "GET"
    assert line["route"] == "/elections/{election_id}"  # the template (under /api/v1), no id
    assert line["election"] == election.id
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["request_id"] == "req-42.a:b_C"


@pytest.mark.parametrize(
    "given",
    [b"", b"x" * 65, b"two words", b'a"b', "é".encode(), b"a\\nb", b"{}", b"id;x=1"],
    ids=lambda s: repr(s)[:12],
)
def test_a_malformed_request_id_is_replaced(lines, client, given):
    lines.clear()
    r = client.get("/healthz", headers={"X-Request-ID": given})
    made = r.headers["X-Request-ID"]
    assert made.encode() != given and re.fullmatch(r"[0-9a-f]{32}", made)
    (line,) = lines.access()
    assert line["request_id"] == made


def test_a_request_id_is_made_when_none_is_given(lines, client):
    lines.clear()
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3
    assert {line["request_id"] for line in lines.access()} == ids
    assert all(line["route"] == "/healthz" for line in lines.access())


def test_unmatched_paths_log_no_path(lines, client):
    lines.clear()
    assert client.get("/api/v1/elections/abc/nothing-here/deadbeef").status_code == 404
    (line,) = lines.access()
    assert line["route"] == "unmatched" and line["status"] == 404
    assert "deadbeef" not in json.dumps(lines.all())


def test_the_quiet_routes_exist(app):
    # A renamed route would silently log again: each quiet template names a route.
    paths = app.openapi()["paths"]
    assert {f"/api/v1{t}" for t in QUIET} <= set(paths)
    assert "post" in paths["/api/v1/elections/{election_id}/ballots"]


def test_cast_and_receipt_routes_log_nothing(app, make_election, lines):
    ve = voting_election(app, make_election, n_voters=3, settings=None)
    sdk = StembusClient(http=ve.e.client)
    creds = [sdk.vote(ve.id, code, {"q1": ["yes"]})[0] for code in ve.codes.values()]
    close_voting(ve)
    lines.clear()
    # Cast (refused now that voting closed: still the cast route), and the receipts.
    r = ve.e.client.post(
        ve.e.url("/ballots"), json={"x": 1}, headers={"X-Request-ID": "cast-should-vanish"}
    )
    assert r.status_code in (409, 422), r.text
    assert r.headers["X-Request-ID"] == "cast-should-vanish"
    receipts = receipts_of(sdk, creds[0])
    assert sdk.check_receipt(receipts[0])["status"] == "included"
    assert ve.e.client.get(ve.e.url("/receipts/" + "00" * 32)).status_code == 404
    assert lines.all() == []
    # The access line is there for a route that is not quiet (the test is not blind).
    assert ve.e.client.get(ve.e.url("/log/checkpoint")).status_code == 200
    assert [line["route"] for line in lines.access()] == ["/elections/{election_id}/log/checkpoint"]


def test_voting_logs_access_lines_but_none_for_the_ballots(app, make_election, lines):
    lines.clear()
    ve = voting_election(app, make_election, n_voters=2, settings=None)
    sdk = StembusClient(http=ve.e.client)
    for code in ve.codes.values():
        sdk.vote(ve.id, code, {"q1": ["yes"]})
    routes = {line["route"] for line in lines.access()}
    assert "/elections/{election_id}/login" in routes
    assert "/elections/{election_id}/voting/credential" in routes
    assert not routes & QUIET
    assert "ballots" not in lines.stream.getvalue()


def test_failed_logins_and_throttling_are_logged_without_the_code(
    lines, peer_client, operator_headers
):
    from tests.conftest import ElectionFixture

    e = ElectionFixture(peer_client, operator_headers)
    lines.clear()
    typo = e.member_code[:-1]  # no code at all: not counted
    assert peer_client.post(e.url("/login"), json={"code": typo}).status_code == 401
    for _ in range(5):  # login_max_failures=5 in the test settings
        assert peer_client.post(e.url("/login"), json={"code": WRONG}).status_code == 401
    r = peer_client.post(e.url("/login"), json={"code": e.member_code})
    assert r.status_code == 429
    events = [line for line in lines.all() if line["logger"] == "stembus.auth"]
    assert [(x["event"], x.get("reason")) for x in events] == [
        ("login-failed", "not-a-code"),
        *[("login-failed", "wrong-code")] * 5,
        ("login-throttled", None),
    ]
    assert [x.get("failures") for x in events[1:6]] == [1, 2, 3, 4, 5]
    assert all(x["election"] == e.id and x["level"] == "WARNING" for x in events)
    assert events[-1]["retry_after"] > 0
    # Each carries its request's id, as does the request's access line.
    access = lines.access()
    assert len(access) == 7
    assert [x["request_id"] for x in events] == [x["request_id"] for x in access]
    assert [x["status"] for x in access] == [401] * 6 + [429]
    text = lines.stream.getvalue()
    for secret in (WRONG, e.member_code, typo, WRONG.replace("-", "")):
        assert secret not in text
    assert PEER not in text and "203.0.113" not in text
