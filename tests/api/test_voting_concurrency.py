"""Races against the real database (SQLite or PostgreSQL), with threads and separate sessions:
one credential per voter, and one ballot per (credential, seq)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, func, select

from api.auth.tokens import Principal
from api.elections.service import get_election
from api.problems import ProblemError
from api.voting import casting, issuance
from api.voting.models import BallotSeq, CredentialIssuance
from cli.client import StembusClient, ballot_entry
from crypto import blindrsa
from crypto.canonical import b64d, b64e
from tests.api.test_voting_support import voting_election

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
    ballots = [x for x in ve.e.log() if x["type"] == "ballot"]
    assert len(ballots) == 1 and ballots[0]["seq"] == 1
    with Session(app.state.engine) as s:
        row = s.get(BallotSeq, (ve.id, b64d(cred.credential)))
        assert row is not None and row.seq == 1
    # and the log is still one consistent tree: the receipt of the winner checks
    cred.seq = 1
    check = sdk.check_receipt(ok[0].model_dump())
    assert check["in_log"] and check["consistent"]


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
    log = ve.e.log()
    assert sum(1 for x in log if x["type"] == "issuance") == n
    assert sum(1 for x in log if x["type"] == "ballot") == 2 * n
