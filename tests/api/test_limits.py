"""Request bodies are bounded while they are received, and a request that only read commits
without a thread hand-off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlmodel import Session

import api.deps
from api.bounds import MAX_INT
from api.db import reads_in_autocommit
from api.routes import MAX_BODY
from api.voting.endpoints import MAX_BALLOT_BODY
from tests.api.test_roll_support import person, to_csv


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    # A generator body: httpx sends it chunked, without a Content-Length to refuse up front.
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        sent += n
        yield b" " * n


def _too_large(r) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == "/problems/payload-too-large"
    assert body["detail"] == "the request body is too large"


def test_a_ballot_body_is_bounded_declared_or_chunked(election):
    url = election.url("/ballots")
    json_ct = {"Content-Type": "application/json"}
    # Not JSON at all: refused for its size before any parsing (a parse error would be 400).
    _too_large(
        election.client.post(url, content=b"{not json" + b" " * MAX_BALLOT_BODY, headers=json_ct)
    )
    # Chunked, no Content-Length: refused once the bytes so far pass the bound.
    _too_large(election.client.post(url, content=_chunks(2 * 1024 * 1024), headers=json_ct))
    # At the bound it is read and judged on its content (here: not a ballot).
    r = election.client.post(
        url, content=b"{" + b" " * (MAX_BALLOT_BODY - 2) + b"}", headers=json_ct
    )
    assert r.status_code == 422, r.text


def test_every_route_has_a_default_bound(election):
    url = election.url("/login")
    json_ct = {"Content-Type": "application/json"}
    _too_large(election.client.post(url, content=b"{" + b" " * MAX_BODY + b"}", headers=json_ct))
    _too_large(election.client.post(url, content=_chunks(MAX_BODY + 1), headers=json_ct))
    # The bound refused the body, not the code: a real login still works.
    assert election.login(election.member_code)


def test_the_roll_import_may_exceed_the_default_bound(election):
    rows = [person(i) for i in range(1, 14_001)]
    body = to_csv(rows)
    assert len(body) > MAX_BODY
    r = election.client.post(
        election.url("/roll/import"),
        content=body,
        params={"dry_run": "true"},
        headers={**election.committee, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text[:300]


def test_a_reads_only_session_ends_without_io(app):
    engine = app.state.engine
    with Session(engine) as session:
        reads_in_autocommit(session)
        session.execute(text("SELECT 1"))
        assert session.in_transaction()
        assert api.deps._reads_only(session)
        session.commit()
        session.execute(text("SELECT 1"))  # an ordinary transaction again
        assert session.in_transaction()
        assert not api.deps._reads_only(session)
        session.rollback()


@pytest.fixture()
def hand_offs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = api.deps._off_loop

    async def counting(fn):  # type: ignore[no-untyped-def]
        calls.append(getattr(fn, "__name__", "?"))
        await real(fn)

    monkeypatch.setattr(api.deps, "_off_loop", counting)
    return calls


def test_only_a_write_commits_through_a_thread(election, hand_offs):
    # A login only reads: its session ends on the event loop, without a thread hand-off.
    assert election.login(election.member_code)
    assert hand_offs == []
    # A write commits in the threadpool, and what it wrote is there afterwards.
    r = election.client.post(
        election.url("/members"),
        json={"name": "Tweede lid", "committee": True},
        headers=election.committee,
    )
    assert r.status_code == 201, r.text
    assert hand_offs == ["commit"]
    assert election.login(r.json()["access_code"])


def test_integers_beyond_the_columns_are_422_not_500(election):
    c, huge = election.client, 10**20
    checks = [
        c.get(election.url(f"/log/checkpoints/{huge}")),
        c.get(election.url("/log/entries"), params={"start": huge}),
        c.get(election.url("/log/proofs/inclusion"), params={"index": 0, "size": huge}),
        c.get(election.url("/log/proofs/consistency"), params={"from": 1, "to": huge}),
        c.get(election.url(f"/roll/voters/{2**40}"), headers=election.committee),
        c.post(election.url("/log/receipts/check"), json={"entry_hash": "0" * 64, "index": huge}),
    ]
    for r in checks:
        assert r.status_code == 422, (r.request.url, r.status_code, r.text)
        assert r.json()["type"] == "/problems/validation-error"
    # At the bound the request reaches the service and gets its own answer.
    r = c.get(election.url(f"/log/checkpoints/{MAX_INT}"))
    assert r.status_code == 404, r.text
    r = c.get(election.url(f"/roll/voters/{MAX_INT}"), headers=election.committee)
    assert r.status_code == 404, r.text
