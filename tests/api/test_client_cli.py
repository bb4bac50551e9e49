"""`stembus vote` against a real HTTP server (uvicorn in a thread, over the test database):
first vote with the code, then a re-vote from the saved credential file; resuming after a lost
credential answer or a lost receipt (also where re-voting is not allowed); the choice check; the
random delay."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time

import pytest
import uvicorn
from typer.testing import CliRunner

from cli.client import StembusClient, StoredCredential, ballot_entry
from cli.main import app as cli_app
from crypto import sealing
from crypto.canonical import b64d
from tests.api.test_tally import SETTINGS, seed_voting
from tests.api.test_voting_support import CONSULTATION, close_voting, voting_election
from tests.conftest import bearer

ONE_BALLOT = {**CONSULTATION, "revoting_allowed": False}


@pytest.fixture()
def server_url(app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    t.join(5)


def test_stembus_vote_and_revote(app, make_election, server_url, tmp_path):
    ve = voting_election(app, make_election, n_voters=1)
    state = tmp_path / "cred.json"
    code = next(iter(ve.codes.values()))
    runner = CliRunner()
    args = ["vote", "--url", server_url, "--election", ve.id, "--state", str(state), "--yes"]
    r = runner.invoke(cli_app, [*args, "--code", code, "--choose", "q1=yes"])
    assert r.exit_code == 0, r.output
    assert "promise verified" in r.output
    saved = json.loads(state.read_text())
    assert saved["seq"] == 1 and len(saved["promises"]) == 1 and saved["receipts"] == []
    assert saved["pending_ballot"] is None
    r = runner.invoke(cli_app, [*args, "--choose", "q1=no", "--choose", "q2=fiets,sport"])
    assert r.exit_code == 0, r.output
    assert json.loads(state.read_text())["seq"] == 2
    r = runner.invoke(cli_app, [*args, "--check"])
    assert r.exit_code == 0 and "pending" in r.output and "still wait" in r.output, r.output
    # a second credential for the same code is refused, with the problem shown
    other = tmp_path / "other.json"
    r = runner.invoke(
        cli_app,
        [
            "vote",
            "--url",
            server_url,
            "--election",
            ve.id,
            "--state",
            str(other),
            "--code",
            code,
            "--choose",
            "q1=yes",
            "--yes",
        ],
    )
    assert r.exit_code == 3 and "credential-already-issued" in r.output
    close_voting(ve)
    r = runner.invoke(cli_app, [*args, "--check"])
    assert r.exit_code == 0 and "Every ballot is in the log" in r.output, r.output
    assert len(json.loads(state.read_text())["receipts"]) == 2
    ballots = sorted((x for x in ve.e.log() if x["type"] == "ballot"), key=lambda b: b["seq"])
    assert [b["seq"] for b in ballots] == [1, 2]
    last = sealing.open_ballot(ve.sealing_private, b64d(ballots[-1]["ciphertext"]), ve.id, "all")
    assert sealing.decode_ballot(last)["selections"] == {"q1": ["no"], "q2": ["fiets", "sport"]}


def _mode(path) -> int:  # type: ignore[no-untyped-def]
    return stat.S_IMODE(os.stat(path).st_mode)


def test_stembus_vote_resumes_after_a_lost_credential_answer(
    app, client, make_election, server_url, tmp_path
):
    ve = voting_election(app, make_election, n_voters=1)
    code = next(iter(ve.codes.values()))
    state = tmp_path / "cred.json"
    # A first run saved its request (as `stembus vote` does before sending it); the server
    # committed it, but the answer never arrived.
    sdk = StembusClient(http=client)
    login = sdk.sign_in(ve.id, code)
    pending = sdk.begin_issuance(ve.id, str(login.group))
    pending.pseudonym = sdk.credential_status(ve.id, login.token)["pseudonym"]
    pending.save(state)
    r = client.post(
        ve.e.url("/voting/credential"),
        json={"blinded_msg": pending.blinded_msg},
        headers=bearer(login.token),
    )
    assert r.status_code < 300, r.text
    args = ["vote", "--url", server_url, "--election", ve.id, "--state", str(state), "--yes"]
    runner = CliRunner()
    r = runner.invoke(cli_app, [*args, "--choose", "q1=yes"])
    assert r.exit_code == 2 and "--code is needed to resume" in r.output
    r = runner.invoke(cli_app, [*args, "--code", code, "--choose", "q1=yes"])
    assert r.exit_code == 0, r.output
    assert "Resuming the credential request" in r.output and "promise verified" in r.output
    saved = json.loads(state.read_text())
    assert "pending" not in saved and saved["seq"] == 1 and _mode(state) == 0o600
    assert b64d(pending.input_msg) == b64d(saved["prefix"]) + b64d(saved["credential"])
    close_voting(ve)
    ballots = [x for x in ve.e.log() if x["type"] == "ballot"]
    assert len(ballots) == 1 and ballots[0]["credential"] == saved["credential"]
    last = sealing.open_ballot(ve.sealing_private, b64d(ballots[0]["ciphertext"]), ve.id, "all")
    assert sealing.decode_ballot(last)["selections"] == {"q1": ["yes"]}


def test_stembus_vote_keeps_no_pending_request_the_server_refused(
    app, make_election, server_url, tmp_path
):
    ve = voting_election(app, make_election, n_voters=1, open_voting=False)
    state = tmp_path / "cred.json"
    code = next(iter(ve.codes.values()))
    args = ["vote", "--url", server_url, "--election", ve.id, "--state", str(state), "--yes"]
    r = CliRunner().invoke(cli_app, [*args, "--code", code, "--choose", "q1=yes"])
    assert r.exit_code == 3 and "voting-not-open" in r.output, r.output
    assert not state.exists()  # refused: nothing was issued, so nothing to resume
    assert not list(tmp_path.iterdir())


def test_stembus_vote_after_a_lost_ballot_answer(app, client, make_election, server_url, tmp_path):
    ve = voting_election(app, make_election, n_voters=1)
    state = tmp_path / "cred.json"
    args = ["vote", "--url", server_url, "--election", ve.id, "--state", str(state), "--yes"]
    runner = CliRunner()
    code = next(iter(ve.codes.values()))
    r = runner.invoke(cli_app, [*args, "--code", code, "--choose", "q1=yes"])
    assert r.exit_code == 0, r.output
    # A re-vote was saved (as `stembus vote` saves it before sending) and accepted, but its
    # answer was lost: the file still says seq 1, with the ballot pending.
    cred = StoredCredential.load(state)
    sdk = StembusClient(http=client)
    entry = ballot_entry(cred, sdk.keys(ve.id), {"q1": ["no"]}, 2)
    cred.pending_ballot = entry
    cred.save(state)
    first = client.post(ve.e.url("/ballots"), json=entry)
    assert first.status_code == 201, first.text
    r = runner.invoke(cli_app, [*args, "--choose", "q1=abstain"])
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert "Sending again the ballot saved" in said and "promise verified" in said
    saved = StoredCredential.load(state)
    assert saved.seq == 3 and len(saved.promises) == 3 and saved.pending_ballot is None
    assert saved.promises[1]["promise"] == first.json()["promise"]  # the same promise again
    close_voting(ve)
    ballots = sorted((x for x in ve.e.log() if x["type"] == "ballot"), key=lambda b: b["seq"])
    assert [b["seq"] for b in ballots] == [1, 2, 3]
    last = sealing.open_ballot(ve.sealing_private, b64d(ballots[-1]["ciphertext"]), ve.id, "all")
    assert sealing.decode_ballot(last)["selections"] == {"q1": ["abstain"]}


def test_stembus_vote_recovers_a_lost_answer_without_revoting(
    app, client, make_election, server_url, tmp_path
):
    ve = voting_election(app, make_election, n_voters=1, settings=ONE_BALLOT)
    state = tmp_path / "cred.json"
    # A first run saved its credential and its ballot, and cast; the ballot was accepted, its
    # answer lost.
    sdk = StembusClient(http=client)
    cred = sdk.obtain_credential(ve.id, sdk.login(ve.id, next(iter(ve.codes.values()))))
    entry = ballot_entry(cred, sdk.keys(ve.id), {"q1": ["yes"]}, 1)
    cred.pending_ballot = entry
    cred.save(state)
    r = client.post(ve.e.url("/ballots"), json=entry)
    assert r.status_code == 201, r.text
    lost = r.json()
    args = ["vote", "--url", server_url, "--election", ve.id, "--state", str(state), "--yes"]
    r = CliRunner().invoke(cli_app, [*args, "--choose", "q1=no"])
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert "Voting with the saved credential" in said
    assert "Your earlier ballot counts" in said and "were not cast" in said
    assert lost["entry_hash"][:40] in said  # (the table cuts it to the terminal's width)
    saved = StoredCredential.load(state)
    assert saved.seq == 1 and [p["promise"] for p in saved.promises] == [lost["promise"]]
    # a further run is refused, as any second ballot of this election
    r = CliRunner().invoke(cli_app, [*args, "--choose", "q1=no"])
    assert r.exit_code == 3 and "revoting-not-allowed" in r.output, r.output
    close_voting(ve)
    ballots = [x for x in ve.e.log() if x["type"] == "ballot"]
    assert ballots == [entry]  # nothing new was cast: the earlier ballot counts
    r = CliRunner().invoke(cli_app, [*args, "--check"])
    assert r.exit_code == 0 and "Every ballot is in the log" in r.output, r.output


@pytest.mark.parametrize(
    ("choices", "reason"),
    [
        (["q1=yse"], "unknown option yse for question q1"),
        (["q2=fiets,sport,kinderopvang"], "too many selections for question q2: 3 > 2"),
        (["q9=yes"], "unknown question q9"),
        (["q2=fiets,fiets"], "duplicate selection fiets for question q2"),
    ],
)
def test_stembus_vote_refuses_invalid_choices(
    app, make_election, server_url, tmp_path, choices, reason
):
    ve = voting_election(app, make_election, n_voters=1)
    state = tmp_path / "cred.json"
    code = next(iter(ve.codes.values()))
    args = ["vote", "--url", server_url, "--election", ve.id, "--state", str(state), "--yes"]
    choose = [x for c in choices for x in ("--choose", c)]
    r = CliRunner().invoke(cli_app, [*args, "--code", code, *choose])
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit)  # a message, no traceback
    assert "Invalid choice" in r.output and reason in r.output
    assert "q2=<up to 2 of fiets,sport,kinderopvang>" in r.output  # the valid choices
    assert "promise verified" not in r.output and not state.exists()
    kinds = [x["type"] for x in ve.e.log()]
    assert "issuance" not in kinds and "ballot" not in kinds  # nothing was sent


def test_stembus_vote_checks_a_revotes_choices_too(app, make_election, server_url, tmp_path):
    ve = voting_election(app, make_election, n_voters=1)
    state = tmp_path / "cred.json"
    code = next(iter(ve.codes.values()))
    args = ["vote", "--url", server_url, "--election", ve.id, "--state", str(state), "--yes"]
    runner = CliRunner()
    assert runner.invoke(cli_app, [*args, "--code", code, "--choose", "q1=yes"]).exit_code == 0
    r = runner.invoke(cli_app, [*args, "--choose", "q1=nee"])
    assert r.exit_code == 2 and "unknown option nee for question q1" in r.output, r.output
    assert StoredCredential.load(state).seq == 1
    close_voting(ve)
    assert [x["seq"] for x in ve.e.log() if x["type"] == "ballot"] == [1]


def test_stembus_vote_checks_works_council_choices(app, make_election, server_url, tmp_path):
    e = make_election(SETTINGS)
    seed_voting(app, e, [])
    # A saved credential of kiesgroep kg1: the choices are checked before it is used, so
    # nothing here is sent and the credential's values do not matter.
    state = tmp_path / "cred.json"
    StoredCredential(e.id, "kg1", "c2s=", "cGs=", "cHJlZml4", "c2ln").save(state)
    args = ["vote", "--url", server_url, "--election", e.id, "--state", str(state), "--yes"]
    runner = CliRunner()
    r = runner.invoke(cli_app, [*args, "--choose", "zz"])
    assert r.exit_code == 2 and "unknown candidate zz" in r.output, r.output
    assert "fnv FNV: a1 A. Jansen, a2 B. de Vries" in r.output
    r = runner.invoke(cli_app, [*args, "--choose", "a1,b1"])
    assert r.exit_code == 2 and "too many selections: 2 > 1" in r.output, r.output
    assert not [x for x in e.log() if x["type"] == "ballot"]


def test_stembus_vote_with_a_random_delay(app, make_election, server_url, tmp_path):
    ve = voting_election(app, make_election, n_voters=1)
    state = tmp_path / "cred.json"
    code = next(iter(ve.codes.values()))
    args = ["vote", "--url", server_url, "--election", ve.id, "--state", str(state), "--yes"]
    r = CliRunner().invoke(
        cli_app, [*args, "--code", code, "--choose", "q1=no", "--delay-max", "0.05"]
    )
    assert r.exit_code == 0, r.output
    assert "Waiting" in r.output and "promise verified" in r.output
    assert StoredCredential.load(state).seq == 1 and _mode(state) == 0o600


def test_stembus_vote_without_a_server(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens here
    r = CliRunner().invoke(
        cli_app,
        ["vote", "--url", f"http://127.0.0.1:{port}", "--election", "e1", "--code", "X"]
        + ["--state", str(tmp_path / "c.json"), "--choose", "q1=yes"],
    )
    assert r.exit_code == 4 and "No answer from the server" in r.output, r.output
    assert isinstance(r.exception, SystemExit)


def test_verify_receipt_takes_a_promise_pending_then_kept(
    app, client, make_election, server_url, tmp_path
):
    ve = voting_election(app, make_election, n_voters=1)
    sdk = StembusClient(http=client)
    _, promise = sdk.vote(ve.id, next(iter(ve.codes.values())), {"q1": ["yes"]})
    answer = tmp_path / "promise.json"
    answer.write_text(json.dumps(promise))  # the cast's answer, as it came
    bare = tmp_path / "promise.txt"
    bare.write_text(promise["promise"])  # or the signed note alone
    runner = CliRunner()
    for f in (answer, bare):
        r = runner.invoke(cli_app, ["verify-receipt", str(f), "--url", server_url])
        assert r.exit_code == 0 and "ballot pending" in r.output, r.output
    # a promise the service signed for a ballot it does not have: not kept (so far)
    from sqlmodel import Session

    from api.log import tree
    from crypto import note

    with Session(app.state.engine, info={"settings": app.state.settings}) as s:
        signer = tree.log_signer(s, app.state.settings, ve.id)
    assert signer is not None
    broken = tmp_path / "broken.txt"
    broken.write_text(note.sign_promise(note.BallotPromise(signer.name, b"\x33" * 32), signer))
    r = runner.invoke(cli_app, ["verify-receipt", str(broken), "--url", server_url])
    assert r.exit_code == 1 and "PROMISE NOT KEPT" in r.output, r.output
    close_voting(ve)
    r = runner.invoke(cli_app, ["verify-receipt", str(answer), "--url", server_url])
    said = " ".join(r.output.split())
    assert r.exit_code == 0 and "promise kept" in said and "receipt verified" in said, r.output
    # against the downloaded record: the promise's entry is in it; the broken one's is not
    record = tmp_path / "record.jsonl"
    record.write_bytes(client.get(ve.e.url("/record")).content)
    r = runner.invoke(
        cli_app, ["verify-receipt", str(answer), "--record", str(record), "--workers", "1"]
    )
    assert "promise kept" in r.output, r.output
    r = runner.invoke(
        cli_app, ["verify-receipt", str(broken), "--record", str(record), "--workers", "1"]
    )
    assert r.exit_code == 1 and "broke its promise" in " ".join(r.output.split()), r.output


def _vote_args(server_url: str, ve, state) -> list[str]:  # type: ignore[no-untyped-def]
    return ["vote", "--url", server_url, "--election", ve.id, "--state", str(state)]


def test_stembus_vote_asks_before_sealing_and_needs_explicit_choices(
    app, make_election, server_url, tmp_path
):
    ve = voting_election(app, make_election, n_voters=2)
    state = tmp_path / "cred.json"
    code = next(iter(ve.codes.values()))
    args = [*_vote_args(server_url, ve, state), "--code", code]
    runner = CliRunner()
    # no choices and no --blank: usage, nothing sent
    r = runner.invoke(cli_app, args)
    assert r.exit_code == 2 and "--blank for a blank ballot" in " ".join(r.output.split())
    assert not state.exists()
    # the choices shown in words, and "no" at the question: nothing sealed or cast
    r = runner.invoke(cli_app, [*args, "--choose", "q2=fiets,sport"], input="n\n")
    said = " ".join(r.output.split())
    assert r.exit_code == 2 and "Nothing was cast" in said, r.output
    assert "Welke voorzieningen?: Fietsplan, Sportschool" in said
    assert "Akkoord met de nieuwe werktijden?: (blank)" in said
    # "yes" at the question: cast
    r = runner.invoke(cli_app, [*args, "--choose", "q1=yes"], input="y\n")
    assert r.exit_code == 0 and "promise verified" in r.output, r.output
    # an explicit blank ballot, re-voting without a question
    r = runner.invoke(cli_app, [*_vote_args(server_url, ve, state), "--blank", "--yes"])
    assert r.exit_code == 0, r.output
    close_voting(ve)
    ballots = sorted((x for x in ve.e.log() if x["type"] == "ballot"), key=lambda b: b["seq"])
    last = sealing.open_ballot(ve.sealing_private, b64d(ballots[-1]["ciphertext"]), ve.id, "all")
    assert [b["seq"] for b in ballots] == [1, 2]
    assert sealing.decode_ballot(last)["selections"] == {}


def test_stembus_vote_refuses_another_voters_credential_file(
    app, make_election, server_url, tmp_path
):
    ve = voting_election(app, make_election, n_voters=2)
    state = tmp_path / "cred.json"  # one folder, one default file: a shared PC
    first, second = list(ve.codes.values())
    runner = CliRunner()
    args = [*_vote_args(server_url, ve, state), "--choose", "q1=yes", "--yes"]
    assert runner.invoke(cli_app, [*args, "--code", first]).exit_code == 0
    before = state.read_text()
    r = runner.invoke(cli_app, [*args, "--code", second])
    said = " ".join(r.output.split())
    assert r.exit_code == 2 and "belongs to another voter" in said, r.output
    assert state.read_text() == before  # untouched: the first voter's ballot stands
    # the same voter's own code with the file is fine (a re-vote)
    assert runner.invoke(cli_app, [*args, "--code", first]).exit_code == 0
    # a pending credential request is checked the same way: the second voter's code would
    # otherwise obtain a signature on the first voter's blinded message
    pending_file = tmp_path / "pending.json"
    sdk = StembusClient(server_url)
    login = sdk.sign_in(ve.id, first)
    pending = sdk.begin_issuance(ve.id, str(login.group))
    pending.pseudonym = sdk.credential_status(ve.id, login.token)["pseudonym"]
    pending.save(pending_file)
    r = runner.invoke(
        cli_app,
        [*_vote_args(server_url, ve, pending_file), "--code", second, "--blank", "--yes"],
    )
    said = " ".join(r.output.split())
    assert r.exit_code == 2 and "another voter's credential request" in said, r.output
    close_voting(ve)
    assert sorted(x["seq"] for x in ve.e.log() if x["type"] == "ballot") == [1, 2]


def test_stembus_vote_shows_why_a_voter_may_not_vote(app, make_election, server_url, tmp_path):
    from sqlmodel import Session, select

    from api.roll.models import Voter

    ve = voting_election(app, make_election, n_voters=1)
    with Session(app.state.engine) as s:
        v = s.exec(select(Voter).where(Voter.election_id == ve.id)).one()
        v.may_vote = False
        s.add(v)
        s.commit()
    state = tmp_path / "cred.json"
    code = next(iter(ve.codes.values()))
    r = CliRunner().invoke(
        cli_app, [*_vote_args(server_url, ve, state), "--code", code, "--blank", "--yes"]
    )
    said = " ".join(r.output.split())
    assert r.exit_code == 3 and "You may not vote in this election:" in said, r.output
    assert "ask the election committee" in said and not state.exists()


def test_receipt_files_that_verify_receipt_takes_as_they_are(
    app, client, make_election, server_url, tmp_path
):
    ve = voting_election(app, make_election, n_voters=1)
    state = tmp_path / "cred.json"
    code = next(iter(ve.codes.values()))
    runner = CliRunner()
    args = _vote_args(server_url, ve, state)
    r = runner.invoke(cli_app, [*args, "--code", code, "--choose", "q1=yes", "--yes"])
    assert r.exit_code == 0, r.output
    promise_file = tmp_path / "cred-promise-1.json"
    assert promise_file.exists() and "for `stembus verify-receipt`" in r.output
    # the credential file itself is refused with a pointer (it is secret)
    r = runner.invoke(cli_app, ["verify-receipt", str(state), "--url", server_url])
    assert r.exit_code == 2 and "credential file" in r.output, r.output
    close_voting(ve)
    r = runner.invoke(cli_app, [*args, "--check"])
    assert r.exit_code == 0, r.output
    receipt_file = tmp_path / "cred-receipt-1.json"
    assert receipt_file.exists() and not promise_file.exists()
    r = runner.invoke(cli_app, ["verify-receipt", str(receipt_file), "--url", server_url])
    assert r.exit_code == 0 and "receipt verified" in r.output, r.output
    # the server's tlog_proof text, verbatim, is a receipt too (its extra line names the entry)
    receipt = json.loads(receipt_file.read_text())
    bare = tmp_path / "receipt.tlog"
    bare.write_text(receipt["tlog_proof"])
    record = tmp_path / "record.jsonl"
    record.write_bytes(client.get(ve.e.url("/record")).content)
    r = runner.invoke(
        cli_app, ["verify-receipt", str(bare), "--record", str(record), "--workers", "1"]
    )
    assert r.exit_code == 0 and "receipt verified" in r.output, r.output
