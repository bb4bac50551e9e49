"""Publication in shuffled batches (docs/protocol.md v1.1) through the API: the pool and its
flushes, ballot promises and receipts by entry hash, the refused `Authorization` header, the
setting, and the committee's linking attack that the batches defeat — with every access code, the
public log, the decryption key and a dump of the database including its system columns
(PostgreSQL's `xmin` and `ctid`, SQLite's `rowid`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from benchmarks.attack_linking import first_appearances, system_order
from cli.client import StembusClient, ballot_entry
from crypto import note, sealing
from crypto.canonical import b64d, b64e, canonical_json
from crypto.merkle import leaf_hash
from tests.api.test_voting_support import CONSULTATION, close_voting, voting_election
from tests.conftest import bearer

SMALL = {**CONSULTATION, "batch_size": 5}


def _problem(r: Any, status: int, slug: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["type"] == f"/problems/{slug}", r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def _pooled(app: Any, election_id: str) -> list[tuple[str, str]]:
    with app.state.engine.connect() as c:
        rows = c.execute(
            text('SELECT type, "group" FROM log_pool WHERE election_id = :e'), {"e": election_id}
        ).all()
    return sorted((str(t), str(g)) for t, g in rows)


def test_batch_size_is_a_published_setting_of_at_least_five(make_election, operator_headers):
    e = make_election(CONSULTATION)
    assert e.data["settings"]["batch_size"] == 20  # the default, published with the settings
    created = e.log()[0]
    assert created["type"] == "election_created" and created["settings"]["batch_size"] == 20
    r = e.client.post(
        "/api/v1/elections",
        json={"name": "x", "organisation": "y", "settings": {**CONSULTATION, "batch_size": 4}},
        headers=operator_headers,
    )
    assert r.status_code == 422 and "batch_size" in r.text, r.text


def test_a_ballot_with_an_authorization_header_is_refused_before_it_is_read(
    app, client, make_election
):
    ve = voting_election(app, make_election, n_voters=1)
    sdk = StembusClient(http=client)
    token = sdk.login(ve.id, next(iter(ve.codes.values())))
    cred = sdk.obtain_credential(ve.id, token)
    entry = ballot_entry(cred, sdk.keys(ve.id), {"q1": ["yes"]}, 1)
    url = ve.e.url("/ballots")
    # a valid ballot and a body that is not JSON: the same refusal, so the header is looked at
    # before the body is read or parsed
    for body in (json.dumps(entry).encode(), b"{not json"):
        r = client.post(
            url, content=body, headers={**bearer(token), "Content-Type": "application/json"}
        )
        _problem(r, 400, "ballot-with-authorization")
    # (a body declared larger than 96 KiB is refused even earlier, unread, by the size bound)
    r = client.post(
        url, content=b"x" * (200 * 1024), headers={**bearer(token), "Content-Type": "text/plain"}
    )
    _problem(r, 413, "payload-too-large")
    r = client.post(url, json=entry, headers={"Authorization": "Basic Zm9vOmJhcg=="})
    _problem(r, 400, "ballot-with-authorization")
    assert _pooled(app, ve.id) == [("issuance", "all")]  # nothing of the ballot was kept
    # without the header the same ballot is accepted
    assert client.post(url, json=entry).status_code == 201


def test_promises_pending_then_receipts(app, client, make_election):
    ve = voting_election(app, make_election, n_voters=2)
    sdk = StembusClient(http=client)
    codes = list(ve.codes.values())
    cred, promise = sdk.vote(ve.id, codes[0], {"q1": ["yes"]})
    entry_hash = promise["entry_hash"]
    # The promise: the log key's signed note over election and entry hash only.
    key = client.get(ve.e.url("/log/key")).json()
    verifier = note.Verifier.from_key_string(key["verifier_key"])
    opened = note.open_promise(promise["promise"], verifier, key["origin"])
    assert opened.entry_hash.hex() == entry_hash
    text_lines = note.parse_note(promise["promise"])[0].splitlines()
    assert text_lines == ["stembus/ballot-promise/v1", key["origin"], entry_hash]
    # Pending: not an error, not in the public log, and the check says so.
    r = client.get(ve.e.url(f"/receipts/{entry_hash}"))
    assert r.status_code == 200 and r.json() == {
        "status": "pending",
        "election": ve.id,
        "entry_hash": entry_hash,
        "receipt": None,
    }
    assert all(x["type"] not in ("ballot", "issuance") for x in ve.e.log())
    check = sdk.check_receipt(promise)
    assert (check["kind"], check["status"], check["signature_valid"]) == (
        "promise",
        "pending",
        True,
    )
    assert check["in_log"] is False and check["index"] is None
    # Unknown hashes: a 404 of their own; a malformed hash: a validation error.
    _problem(client.get(ve.e.url(f"/receipts/{'ab' * 32}")), 404, "unknown-ballot")
    r = client.get(ve.e.url("/receipts/XYZ"))
    assert r.status_code == 422, r.text
    close_voting(ve)
    r = client.get(ve.e.url(f"/receipts/{entry_hash}")).json()
    assert r["status"] == "included"
    receipt = r["receipt"]
    assert receipt["entry_hash"] == entry_hash
    check = sdk.check_receipt(promise)
    assert check["status"] == "included" and check["in_log"] and check["receipt"] == receipt
    assert check["index"] == receipt["index"]
    # the same entry sent again after the close: refused (voting is over), the promise stands
    assert sdk.collect_receipts(cred) == (1, 0)


def test_a_promise_the_log_does_not_keep_and_a_forged_promise(app, client, make_election):
    ve = voting_election(app, make_election, n_voters=1)
    from sqlmodel import Session

    from api.log import tree

    with Session(app.state.engine, info={"settings": app.state.settings}) as s:
        signer = tree.log_signer(s, app.state.settings, ve.id)
    assert signer is not None
    url = ve.e.url("/log/receipts/check")
    # signed by the log key for an entry the service never accepted: "missing"
    broken = note.sign_promise(note.BallotPromise(signer.name, b"\x11" * 32), signer)
    out = client.post(url, json={"promise": broken}).json()
    assert (out["kind"], out["status"], out["in_log"]) == ("promise", "missing", False)
    # another key with the log's name, or a checkpoint passed off as a promise: invalid
    forger = note.Signer.generate(signer.name)
    forged = note.sign_promise(note.BallotPromise(signer.name, b"\x11" * 32), forger)
    _problem(client.post(url, json={"promise": forged}), 422, "invalid-receipt")
    cp = client.get(ve.e.url("/log/checkpoint")).json()["note"]
    _problem(client.post(url, json={"promise": cp}), 422, "invalid-receipt")
    # a promise with an entry_hash that is not the one it names
    r = client.post(url, json={"promise": broken, "entry_hash": "22" * 32})
    _problem(r, 422, "invalid-receipt")


def test_flushes_append_sorted_runs_and_keep_back_batch_size(app, client, make_election):
    n = 23
    ve = voting_election(app, make_election, n_voters=n, settings=SMALL)
    sdk = StembusClient(http=client)
    before = len(ve.e.log())
    sizes = []
    for i, code in enumerate(ve.codes.values()):
        sdk.vote(ve.id, code, {"q1": ["yes" if i % 2 else "no"]})
        sizes.append(len(ve.e.log()))
    # A flush at 10, 15 and 20 pooled ballots: each appends the pooled issuances, then all
    # ballots but 5, then one checkpoint; 23 - 3·5 = 8 ballots still wait (5 kept back), with
    # the issuances of the last 3 voters.
    log = ve.e.log()
    ballots = [x for x in log if x["type"] == "ballot"]
    assert len(ballots) == 15
    grew = [b - a for a, b in zip([before, *sizes], sizes, strict=False) if b != a]
    assert grew == [10 + 5, 5 + 5, 5 + 5]  # issuances of the flush, then its 5 ballots
    assert _pooled(app, ve.id) == [("ballot", "all")] * 8 + [("issuance", "all")] * 3
    runs: list[list[dict[str, Any]]] = [[]]
    for x in log[before:]:
        if runs[-1] and runs[-1][-1]["type"] != x["type"]:
            runs.append([])
        runs[-1].append(x)
    for run in runs:
        leaves = [leaf_hash(canonical_json(x)) for x in run]
        assert leaves == sorted(leaves)
    # every flush ends with its own checkpoint, and only flushes add checkpoints
    for size in sizes:
        assert client.get(ve.e.url(f"/log/checkpoints/{size}")).status_code == 200
    assert client.get(ve.e.url(f"/log/checkpoints/{before + 1}")).status_code == 404
    # the close flushes the remaining 8 whole, before `voting closed`
    close_voting(ve)
    log = ve.e.log()
    assert sum(1 for x in log if x["type"] == "ballot") == n
    assert log[-1]["type"] == "phase_changed" and log[-1]["to"] == "closed"
    assert [x["type"] for x in log[-9:-1]] == ["ballot"] * 8
    assert _pooled(app, ve.id) == []


def _rank_links(first: list[Any], second: list[Any]) -> dict[Any, Any]:
    """The attack on one-after-another voters: the i-th of one order is the i-th of the other."""
    return dict(zip(first, second, strict=False))


def test_the_committee_cannot_link_ballots_to_voters_by_order(app, client, make_election):
    """The committee holds every access code (mail-merge export) and so every pseudonym; after
    the tally the log publishes the decryption key (here: the sealing private key the test
    holds), which opens every ballot. Voters vote one after another, each casting straight after
    obtaining the credential — the worst case for order. Before shuffled batches this linked
    every ballot, through the log's order and through the seq table's system columns alike. Now
    each link is a guess within a flush of at least batch_size ballots."""
    n, batch = 40, 5
    ve = voting_election(
        app, make_election, n_voters=n, settings={**CONSULTATION, "batch_size": batch}
    )
    sdk = StembusClient(http=client)
    truth: dict[str, str] = {}  # pseudonym -> credential (what nobody may learn)
    pseudonym_of_voter: dict[int, str] = {}
    for i, code in enumerate(ve.codes.values()):
        token = sdk.login(ve.id, code)
        cred = sdk.obtain_credential(ve.id, token)
        status = sdk.credential_status(ve.id, token)
        me = client.get(ve.e.url("/me"), headers=bearer(token)).json()
        pseudonym_of_voter[int(me["subject"].split(":")[1])] = status["pseudonym"]
        sdk.cast(cred, {"q1": ["yes" if i % 3 else "no"]})
        truth[status["pseudonym"]] = cred.credential
    close_voting(ve)
    log = ve.e.log()
    assert sum(1 for x in log if x["type"] == "ballot") == n
    assert _pooled(app, ve.id) == []  # nothing pooled survives the close

    # 1. The public log's order: the k-th issuance is linked to the k-th new credential.
    by_log = _rank_links(*first_appearances(log))
    # 2. The database's system columns: voters in the order of their issuance rows, credentials
    #    in the order of their seq rows (the seq rule claims the row when a ballot arrives).
    engine = app.state.engine
    voters = system_order(engine, "credential_issuance", "voter_id", ve.id)
    creds = [b64e(bytes(c)) for c in system_order(engine, "ballot_seq", "credential", ve.id)]
    by_rows = _rank_links([pseudonym_of_voter[v] for v in voters], creds)
    #    and the log rows themselves in their physical order
    rows = [json.loads(bytes(b)) for b in system_order(engine, "log_entry", "body", ve.id)]
    by_physical = _rank_links(*first_appearances(rows))
    # The decryption key opens every ballot: a correct link is a voter's vote.
    for b in (x for x in log if x["type"] == "ballot"):
        sealing.open_ballot(ve.sealing_private, b64d(b["ciphertext"]), ve.id, "all")
    hits = {
        name: sum(1 for p, c in links.items() if truth.get(p) == c)
        for name, links in (("log", by_log), ("rows", by_rows), ("physical", by_physical))
    }
    # Chance within runs of at least 5 is about one in five or fewer, some 8 of 40; arrival order
    # (the code before batches) linked 40 of 40. 16 is more than three standard deviations
    # above chance.
    assert all(h <= 16 for h in hits.values()), (hits, batch)


def test_no_pooled_row_and_no_seq_row_keeps_its_arrival_transaction(app, client, make_election):
    """After a flush, the flushed ballots' seq rows and the kept-back pooled rows were all
    written by the flush's own transaction (PostgreSQL: one xmin; SQLite: rowids in content
    order), so none carries the moment of its arrival."""
    ve = voting_election(app, make_election, n_voters=10, settings=SMALL)
    sdk = StembusClient(http=client)
    for code in ve.codes.values():
        sdk.vote(ve.id, code, {"q1": ["yes"]})  # the 10th ballot makes the pool due
    engine = app.state.engine
    with engine.connect() as c:
        if engine.dialect.name == "postgresql":
            seq_x = {
                r[0]
                for r in c.execute(
                    text("SELECT xmin::text FROM ballot_seq WHERE election_id = :e"), {"e": ve.id}
                )
            }
            pool_x = {
                r[0]
                for r in c.execute(
                    text("SELECT xmin::text FROM log_pool WHERE election_id = :e"), {"e": ve.id}
                )
            }
            log_x = {
                r[0]
                for r in c.execute(
                    text(
                        "SELECT xmin::text FROM log_entry WHERE election_id = :e "
                        "AND type IN ('ballot', 'issuance')"
                    ),
                    {"e": ve.id},
                )
            }
            assert len(seq_x) == 1 and seq_x == pool_x == log_x  # the flush's one transaction
        else:
            seq = [
                bytes(r[0])
                for r in c.execute(
                    text("SELECT credential FROM ballot_seq WHERE election_id = :e ORDER BY rowid"),
                    {"e": ve.id},
                )
            ]
            assert seq == sorted(seq)  # rewritten in credential order by the flush
            # the pool is a table without rowid: no arrival numbering to read at all
            with pytest.raises(OperationalError):
                c.execute(text("SELECT rowid FROM log_pool"))
    assert _pooled(app, ve.id) == [("ballot", "all")] * 5  # kept back, for the next flush
    assert sum(1 for x in ve.e.log() if x["type"] == "ballot") == 5


def test_every_seq_row_of_a_large_election_is_rewritten_at_once(app, make_election):
    """The close and the tally rewrite every seq row of the election: 70,000 of them is more than
    one statement may bind (PostgreSQL's protocol: 65,535 parameters; SQLite builds: 32,766 or
    more), so the rewrite goes in chunks."""
    import secrets

    from sqlmodel import Session

    from api.log import pool
    from api.voting.models import BallotSeq

    ve = voting_election(app, make_election, n_voters=1)
    creds = [secrets.token_bytes(32) for _ in range(70_000)]
    rows = [{"election_id": ve.id, "credential": c, "group": "all", "seq": 1} for c in creds]
    with Session(app.state.engine, info={"settings": app.state.settings}) as s:
        s.execute(BallotSeq.__table__.insert(), rows)  # type: ignore[attr-defined]
        s.commit()
        pool.rewrite_all_seq_rows(s, ve.id)
        s.commit()
    after = [bytes(c) for c in system_order(app.state.engine, "ballot_seq", "credential", ve.id)]
    assert sorted(after) == sorted(creds)
    if app.state.engine.dialect.name == "sqlite":
        assert after == sorted(creds)  # rowids in credential order: nothing of arrival left
