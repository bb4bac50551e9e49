"""Group commit of the voting paths (api.log.group_commit): the casts and issuances of one
process that queue while another batch holds the election's lock are pooled in one transaction,
and a batch that makes its kiesgroep due flushes it (api.log.pool). Forced here by holding the
queue's mutex until every thread has queued."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from api.log import group_commit
from api.problems import ProblemError
from api.voting import casting
from cli.client import StembusClient, ballot_entry, verify_receipt
from crypto import note
from crypto.canonical import canonical_json
from crypto.merkle import leaf_hash
from tests.api.test_voting_support import CONSULTATION, close_voting, voting_election


def _together(app: Any, election_id: str, calls: list[Callable[[Session], Any]]) -> list[Any]:
    """Run each call in its own thread and session, all of them in one batch."""
    out: list[Any] = [None] * len(calls)
    with Session(app.state.engine, info={"settings": app.state.settings}) as probe:
        queue = group_commit._queue(probe, election_id)

    def run(i: int) -> None:
        with Session(app.state.engine, info={"settings": app.state.settings}) as s:
            try:
                out[i] = calls[i](s)
                s.commit()
            except Exception as e:  # noqa: BLE001 - the caller's result
                s.rollback()
                out[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    queue.mutex.acquire()  # as if another batch held the lock: everyone queues
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(queue.pending) < len(calls):
            assert time.monotonic() < deadline, "the threads did not queue"
            time.sleep(0.01)
    finally:
        queue.mutex.release()
    for t in threads:
        t.join()
    return out


def _runs_sorted(entries: list[dict[str, Any]]) -> bool:
    leaves = [leaf_hash(canonical_json(e)) for e in entries]
    return leaves == sorted(leaves) and len(set(leaves)) == len(leaves)


def test_a_batch_that_makes_the_pool_due_flushes_it_in_sorted_runs(app, client, make_election):
    n = 10
    ve = voting_election(app, make_election, n_voters=n, settings={**CONSULTATION, "batch_size": 5})
    sdk = StembusClient(http=client)
    creds = [sdk.obtain_credential(ve.id, sdk.login(ve.id, code)) for code in ve.codes.values()]
    keys = sdk.keys(ve.id)
    entries = [ballot_entry(c, keys, {"q1": ["yes"]}, 1) for c in creds]
    # and a second ballot with seq 1 for the first credential: refused, without sinking the rest
    replay = ballot_entry(creds[0], keys, {"q1": ["no"]}, 1)
    calls = [
        (lambda s, e=e: casting.cast_ballot(s, app.state.settings, ve.id, e))
        for e in [*entries, replay]
    ]
    before = client.get(ve.e.url("/log/checkpoint")).json()["size"]
    assert before == len(ve.e.log())  # the issuances wait in the pool too
    results = _together(app, ve.id, calls)

    accepted = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, ProblemError)]
    assert len(accepted) == n and all(new for _, new in accepted), results
    assert len(refused) == 1 and refused[0].ptype is casting.SUPERSEDED
    verifier = sdk.log_verifier(ve.id)
    for (promise, _), entry in zip(accepted, entries, strict=True):
        opened = note.open_promise(promise.promise, verifier, verifier.name)
        assert opened.entry_hash == leaf_hash(canonical_json(entry))
    # The batch made 10 ballots: a flush of every pooled issuance, then all ballots but 5,
    # each run in leaf-hash order, then one checkpoint.
    log = ve.e.log()
    added = log[before:]
    assert [x["type"] for x in added] == ["issuance"] * n + ["ballot"] * (n - 5)
    assert _runs_sorted(added[:n]) and _runs_sorted(added[n:])
    assert client.get(ve.e.url("/log/checkpoint")).json()["size"] == len(log)
    assert client.get(ve.e.url(f"/log/checkpoints/{before + 1}")).status_code == 404
    # five receipts now, five promises still pending
    status = [
        sdk.receipt_status(ve.id, leaf_hash(canonical_json(e)))["status"]  # type: ignore[index]
        for e in entries
    ]
    assert sorted(status) == ["included"] * 5 + ["pending"] * 5
    for entry in entries:
        got = sdk.receipt_status(ve.id, leaf_hash(canonical_json(entry)))
        assert got is not None
        if got["status"] == "included":
            cp = verify_receipt(got["receipt"], entry, verifier)
            assert cp.size == len(log)  # the checkpoint signed after the flush
            check = sdk.check_receipt(got["receipt"])
            assert check["in_log"] and check["consistent"], check


def test_concurrent_issuance_and_casts_share_a_batch(app, client, make_election):
    n = 4
    ve = voting_election(app, make_election, n_voters=2 * n)
    sdk = StembusClient(http=client)
    codes = list(ve.codes.values())
    creds = [sdk.obtain_credential(ve.id, sdk.login(ve.id, c)) for c in codes[:n]]
    keys = sdk.keys(ve.id)
    entries = [ballot_entry(c, keys, {"q1": ["yes"]}, 1) for c in creds]
    # the other voters obtain their credentials at the same time, through the SDK over HTTP
    # would serialise on the test client; call the issuance endpoint function instead
    from api.auth.tokens import decode_token
    from api.voting import endpoints
    from api.voting.schemas import CredentialIn
    from crypto import blindrsa
    from crypto.canonical import b64e

    pub = keys.issuer_public("all")
    whos = [decode_token(app.state.settings, sdk.login(ve.id, c)) for c in codes[n:]]
    blinded = [b64e(blindrsa.blind(pub, blindrsa.prepare(bytes([i]) * 32))[0]) for i in range(n)]
    calls: list[Callable[[Session], Any]] = [
        (lambda s, e=e: casting.cast_ballot(s, app.state.settings, ve.id, e)) for e in entries
    ] + [
        (
            lambda s, w=w, b=b: endpoints.issue_credential(
                ve.id, CredentialIn(blinded_msg=b), s, app.state.settings, w
            )
        )
        for w, b in zip(whos, blinded, strict=True)
    ]
    before = len(ve.e.log())
    results = _together(app, ve.id, calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(ve.e.log()) == before  # 4 ballots: pooled, not yet due (2·20)
    for promise, _ in results[:n]:
        assert sdk.check_receipt(promise.model_dump())["status"] == "pending"
    # a retry of an issuance (same blinded message) gets the same signature and no new entry
    again = endpoints.issue_credential
    with Session(app.state.engine, info={"settings": app.state.settings}) as s:
        out = again(ve.id, CredentialIn(blinded_msg=blinded[0]), s, app.state.settings, whos[0])
        s.commit()
    assert out.blind_sig == results[n].blind_sig
    close_voting(ve)
    log = ve.e.log()
    added = [x["type"] for x in log[before:]]
    assert added == ["issuance"] * 2 * n + ["ballot"] * n + ["phase_changed"]
    for promise, _ in results[:n]:
        assert sdk.check_receipt(promise.model_dump())["status"] == "included"


def test_an_unexpected_failure_in_a_batch_fails_only_its_own_job(app, make_election):
    ve = voting_election(app, make_election, n_voters=1)

    def job(i: int) -> Callable[[Session], Any]:
        def work(s: Session) -> dict[str, Any]:
            if i == 1:
                raise RuntimeError("a fault in one job")
            return {"type": "issuance", "election": ve.id, "group": "all", "pseudonym": f"p{i}"}

        def call(s: Session) -> Any:
            return group_commit.submit(
                s,
                ve.id,
                work,
                lambda s, entry: entry["pseudonym"] if entry else None,
                lambda st: ProblemError(casting.BAD_LENGTH),
                group="all",
                batch_size=20,
            )

        return call

    results = _together(app, ve.id, [job(i) for i in range(4)])
    assert isinstance(results[1], RuntimeError)
    ok = [r for i, r in enumerate(results) if i != 1]
    assert sorted(ok) == ["p0", "p2", "p3"], results
    close_voting(ve)
    entries = [x for x in ve.e.log() if x["type"] == "issuance"]
    assert sorted(x["pseudonym"] for x in entries) == ["p0", "p2", "p3"]
