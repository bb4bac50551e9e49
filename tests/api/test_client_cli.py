"""`stembus vote` against a real HTTP server (uvicorn in a thread, over the test database):
first vote with the code, then a re-vote from the saved credential file."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import uvicorn
from typer.testing import CliRunner

from cli.main import app as cli_app
from crypto import sealing
from crypto.canonical import b64d
from tests.api.test_voting_support import voting_election


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
    args = ["vote", "--url", server_url, "--election", ve.id, "--state", str(state)]
    r = runner.invoke(cli_app, [*args, "--code", code, "--choose", "q1=yes"])
    assert r.exit_code == 0, r.output
    assert "receipt verified" in r.output
    saved = json.loads(state.read_text())
    assert saved["seq"] == 1 and len(saved["receipts"]) == 1
    r = runner.invoke(cli_app, [*args, "--choose", "q1=no", "--choose", "q2=fiets,sport"])
    assert r.exit_code == 0, r.output
    assert json.loads(state.read_text())["seq"] == 2
    ballots = [x for x in ve.e.log() if x["type"] == "ballot"]
    assert [b["seq"] for b in ballots] == [1, 2]
    last = sealing.open_ballot(ve.sealing_private, b64d(ballots[-1]["ciphertext"]), ve.id, "all")
    assert sealing.decode_ballot(last)["selections"] == {"q1": ["no"], "q2": ["fiets", "sport"]}
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
        ],
    )
    assert r.exit_code == 1 and "credential-already-issued" in r.output
