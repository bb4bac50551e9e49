"""Races against the real database (SQLite or PostgreSQL), with threads and separate sessions:
one credential per voter, and one ballot per (credential, seq).

Threads through one app queue behind that process's group commit (api.log.group_commit), so
their jobs run one after another; only two apps with an engine each (two server processes)
make two transactions race at the database, where the atomic statements (the claim's
INSERT … ON CONFLICT, the conditional seq upsert) must decide."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from api.auth.tokens import Principal
from api.elections.service import get_election
from api.main import create_app
from api.problems import ProblemError
from api.voting import casting, issuance
from api.voting.models import BallotSeq, CredentialIssuance
from cli.client import StembusClient, ballot_entry, verify_promise
from crypto import blindrsa, merkle
from crypto.canonical import b64d, b64e, canonical_json
from tests.api.test_voting_support import close_voting, voting_election
from tests.conftest import bearer

THREADS = 8


def _race(app, work: Callable[[Session], Any]) -> list[Any]:
    """Run `work` in THREADS threads at once, each in its own transaction; results or errors."""
    barrier = threading.Barrier(THREADS)
    out: list[Any] = [None] * THREADS

    def run(i: int) -> None:
        with Session(app.state.engine, info={"settings": app.state.settings}) as s:
            barrier.wait()
            try:
                out[i] = work(s)
                s.commit()
            except ProblemError as e:
                s.rollback()
                out[i] = e
            except Exception as e:  # noqa: BLE001 - reported by the assertion below
                s.rollback()
                out[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_concurrent_double_issuance_yields_exactly_one_credential(app, client, make_election):
    ve = voting_election(app, make_election, n_voters=1)
    sdk = StembusClient(http=client)
    token = sdk.login(ve.id, next(iter(ve.codes.values())))
    me = client.get(ve.e.url("/me"), headers={"Authorization": f"Bearer {token}"}).json()
    voter_id = int(me["subject"].split(":")[1])
    principal = Principal(
        subject=me["subject"], roles=frozenset({"voter"}), election_id=ve.id, holder_id=voter_id
    )
    pub = sdk.keys(ve.id).issuer_public("all")
    blinded = [
        b64e(blindrsa.blind(pub, blindrsa.prepare(bytes([i]) * 32))[0]) for i in range(THREADS)
    ]
    counter = iter(range(THREADS))
    lock = threading.Lock()

    def work(s: Session) -> Any:
        with lock:
            i = next(counter)
        election = get_election(s, ve.id)
        return issuance.issue_credential(s, app.state.settings, election, principal, blinded[i])

    results = _race(app, work)
    ok = [r for r in results if isinstance(r, issuance.Issued)]
    refused = [r for r in results if isinstance(r, ProblemError)]
    assert len(ok) == 1, results
    assert len(refused) == THREADS - 1
    assert all(r.ptype is issuance.ALREADY_ISSUED for r in refused)
    with Session(app.state.engine) as s:
        n = s.exec(
            select(func.count())
            .select_from(CredentialIssuance)
            .where(CredentialIssuance.election_id == ve.id)
        ).one()
    assert n == 1
    close_voting(ve)
    assert sum(1 for x in ve.e.log() if x["type"] == "issuance") == 1


def test_concurrent_casts_with_one_credential_and_seq_keep_exactly_one(app, client, make_election):
    ve = voting_election(app, make_election, n_voters=1)
    sdk = StembusClient(http=client)
    cred = sdk.obtain_credential(ve.id, sdk.login(ve.id, next(iter(ve.codes.values()))))
    keys = sdk.keys(ve.id)
    # Different ciphertexts (HPKE is randomized): distinct entries, all with seq 1.
    entries = [ballot_entry(cred, keys, {"q1": ["yes"]}, 1) for _ in range(THREADS)]
    assert len({e["ciphertext"] for e in entries}) == THREADS
    counter = iter(range(THREADS))
    lock = threading.Lock()

    def work(s: Session) -> Any:
        with lock:
            i = next(counter)
        return casting.cast_ballot(s, app.state.settings, ve.id, entries[i])

    results = _race(app, work)
    ok = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, ProblemError)]
    assert len(ok) == 1, results
    assert len(refused) == THREADS - 1
    assert all(r.ptype is casting.SUPERSEDED for r in refused)
    with Session(app.state.engine) as s:
        row = s.get(BallotSeq, (ve.id, b64d(cred.credential)))
        assert row is not None and row.seq == 1
    close_voting(ve)
    ballots = [x for x in ve.e.log() if x["type"] == "ballot"]
    assert len(ballots) == 1 and ballots[0]["seq"] == 1
    # and the winner's promise is kept: its entry is in the log
    check = sdk.check_receipt(ok[0][0].model_dump())
    assert check["status"] == "included" and check["in_log"] and check["receipt"] is not None


def test_two_processes_batches_issue_and_cast_at_once_without_deadlock(
    app, client, make_election, settings
):
    """Two server processes run group commits of one election at the same time (here: a second
    app with an engine of its own, so a batch queue of its own). Each batch's claims and seq
    rows take KEY SHARE locks on the election row through their foreign keys before the batch
    takes the election's lock; with a plain FOR UPDATE two such batches deadlocked."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    n = 24
    ve = voting_election(app, make_election, n_voters=n)
    other = create_app(settings)
    try:
        with TestClient(other, raise_server_exceptions=False) as client2:
            sdks = [StembusClient(http=client), StembusClient(http=client2)]
            for s in sdks:
                s.keys(ve.id)
            codes = list(ve.codes.values())
            barrier = threading.Barrier(8)
            errors: list[BaseException] = []

            def run(i: int) -> None:
                sdk = sdks[i % 2]
                barrier.wait()
                for code in codes[i::8]:
                    try:
                        cred, _ = sdk.vote(ve.id, code, {"q1": ["yes"]})
                        sdk.revote(cred, {"q1": ["no"]})
                    except BaseException as e:  # noqa: BLE001 - asserted below
                        errors.append(e)

            threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        other.state.engine.dispose()
    assert errors == []
    # 48 ballots: at least one flush at 2·20 pooled ballots ran while they came in
    flushed = sum(1 for x in ve.e.log() if x["type"] == "ballot")
    assert 20 <= flushed <= 2 * n - 20, flushed
    close_voting(ve)
    log = ve.e.log()
    assert sum(1 for x in log if x["type"] == "issuance") == n
    assert sum(1 for x in log if x["type"] == "ballot") == 2 * n


# Rounds of a two-process race: each round is one pair of requests released by one barrier.
ROUNDS = 8


@contextmanager
def _second_process(settings) -> Iterator[TestClient]:
    """Another server process: a second app with an engine (pool, group-commit queue) of its
    own, on the same database."""
    other = create_app(settings)
    try:
        with TestClient(other, raise_server_exceptions=False) as c:
            yield c
    finally:
        other.state.engine.dispose()


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together by a barrier; their results or errors."""
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = calls[i]()
        except BaseException as e:  # noqa: BLE001 - reported by the caller's assertions
            out[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _summary(answers: list[Any]) -> list[Any]:
    """For an assertion message: each answer's status and problem type (or its error)."""
    return [
        a
        if isinstance(a, BaseException)
        else (a.status_code, _problem_type(a) if a.status_code >= 400 else "ok")
        for a in answers
    ]


def _problem_type(r: Any) -> str:
    return str(r.json().get("type")) if r.headers["content-type"].endswith("json") else r.text


def test_one_voter_issued_at_once_through_two_processes_gets_one_credential(
    app, client, make_election, settings
):
    """docs/protocol.md "Issuance" step 3 across processes: the same voter's credential requested
    by two server processes at once. With the same blinded_msg both get the one blind_sig;
    with different ones exactly one is signed and the other refused. Either way: one
    credential row and one issuance entry per voter."""
    ve = voting_election(app, make_election, n_voters=ROUNDS)
    sdk = StembusClient(http=client)
    pub = sdk.keys(ve.id).issuer_public("all")
    url = ve.e.url("/voting/credential")
    expected: dict[str, tuple[bytes, bytes]] = {}  # pseudonym -> (blinded_msg, blind_sig)
    with _second_process(settings) as client2:
        for rnd, code in enumerate(ve.codes.values()):
            token = sdk.login(ve.id, code)
            same = rnd % 2 == 0
            msgs = [blindrsa.prepare(os.urandom(32)) for _ in range(2)]
            blinded = [blindrsa.blind(pub, m) for m in msgs]
            if same:
                msgs[1], blinded[1] = msgs[0], blinded[0]
            calls = [
                partial(c.post, url, json={"blinded_msg": b64e(b[0])}, headers=bearer(token))
                for c, b in zip((client, client2), blinded, strict=True)
            ]
            answers = _at_once(calls)
            detail = f"round {rnd} (same msg: {same}): {_summary(answers)}"
            assert not any(isinstance(a, BaseException) for a in answers), detail
            statuses = [a.status_code for a in answers]
            if same:
                assert statuses == [200, 200], detail
                assert answers[0].json() == answers[1].json(), detail
                w = 0
            else:
                assert sorted(statuses) == [200, 409], detail
                w = statuses.index(200)
                assert _problem_type(answers[1 - w]) == "/problems/credential-already-issued"
            got = answers[w].json()
            sig = b64d(got["blind_sig"])
            # the blind signature is over the winner's message: it finalizes to a valid
            # RSASSA-PSS signature (raises otherwise)
            blindrsa.finalize(pub, msgs[w], sig, blinded[w][1])
            expected[got["pseudonym"]] = (blinded[w][0], sig)
            # a retry of either request after the race gets the same answer as before
            for c, b in zip((client, client2), blinded, strict=True):
                again = c.post(url, json={"blinded_msg": b64e(b[0])}, headers=bearer(token))
                if b[0] == blinded[w][0]:
                    assert again.status_code == 200 and again.json() == got
                else:
                    assert again.status_code == 409, again.text
    assert len(expected) == ROUNDS
    with Session(app.state.engine) as s:
        rows = s.exec(
            select(CredentialIssuance).where(CredentialIssuance.election_id == ve.id)
        ).all()
        stored = sorted((bytes(r.blinded_msg), bytes(r.blind_sig or b"")) for r in rows)
    assert len(rows) == ROUNDS and len({r.voter_id for r in rows}) == ROUNDS
    assert stored == sorted(expected.values())
    close_voting(ve)
    issuances = Counter(x["pseudonym"] for x in ve.e.log() if x["type"] == "issuance")
    assert issuances == Counter(expected.keys())  # one issuance entry per voter, not two


def test_one_credential_cast_at_once_through_two_processes_keeps_one_ballot_per_seq(
    app, client, make_election, settings
):
    """docs/protocol.md "Casting" step 4 across processes: the same credential with the same seq
    cast by two server processes at once. Exactly one is accepted (201); of two different
    ballots (even rounds; HPKE is randomized) the other is refused (409); the identical entry
    sent twice (odd rounds) is refused too while the winner's pool row is not committed, or
    gets the same promise (200) once it is. The log holds one ballot per (credential, seq)."""
    ve = voting_election(app, make_election, n_voters=1)
    sdk = StembusClient(http=client)
    cred = sdk.obtain_credential(ve.id, sdk.login(ve.id, next(iter(ve.codes.values()))))
    keys = sdk.keys(ve.id)
    url = ve.e.url("/ballots")
    winners: list[dict[str, Any]] = []
    with _second_process(settings) as client2:
        for seq in range(1, ROUNDS + 1):
            first = ballot_entry(cred, keys, {"q1": ["yes"]}, seq)
            second = first if seq % 2 else ballot_entry(cred, keys, {"q1": ["no"]}, seq)
            calls = [
                partial(
                    c.post,
                    url,
                    content=json.dumps(entry),
                    headers={"Content-Type": "application/json"},
                )
                for c, entry in ((client, first), (client2, second))
            ]
            answers = _at_once(calls)
            detail = f"seq {seq}: {_summary(answers)}"
            assert not any(isinstance(a, BaseException) for a in answers), detail
            statuses = [a.status_code for a in answers]
            w = statuses.index(201) if 201 in statuses else -1
            assert w >= 0 and statuses.count(201) == 1, detail
            loser = answers[1 - w]
            if loser.status_code == 200:  # the identical entry, after the winner committed
                assert first is second and loser.json() == answers[w].json(), detail
            else:
                assert loser.status_code == 409, detail
                assert _problem_type(loser) == "/problems/ballot-seq-not-greater"
            entry = (first, second)[w]
            verify_promise(
                answers[w].json(), merkle.leaf_hash(canonical_json(entry)), keys.log_verifier
            )
            winners.append(entry)
    close_voting(ve)
    ballots = sorted((x for x in ve.e.log() if x["type"] == "ballot"), key=lambda b: b["seq"])
    assert [b["seq"] for b in ballots] == list(range(1, ROUNDS + 1))
    assert {b["credential"] for b in ballots} == {cred.credential}
    assert [merkle.leaf_hash(canonical_json(b)) for b in ballots] == [
        merkle.leaf_hash(canonical_json(e)) for e in winners
    ]
    with Session(app.state.engine) as s:
        row = s.get(BallotSeq, (ve.id, b64d(cred.credential)))
        assert row is not None and row.seq == ROUNDS
    turnout = client.get(ve.e.url("/voting/turnout"), headers=ve.e.committee).json()
    assert (turnout["credentials_issued"], turnout["voted"]) == (1, 1)
