"""`GET …/ballot`: a kiesgroep's ballot definition in one call, with its log index and an
inclusion proof, so a client does not scan the log; and the SDK's checks of that answer."""

from __future__ import annotations

import httpx
import pytest

from cli.client import ProtocolError, StembusClient
from crypto import merkle, note
from crypto.canonical import canonical_json
from tests.api.test_tally import GROUPS, SETTINGS, seed_voting
from tests.api.test_voting_support import voting_election


def _verified(client, election_id: str, body: dict) -> None:  # type: ignore[no-untyped-def]
    key = client.get(f"/api/v1/elections/{election_id}/log/key").json()
    verifier = note.Verifier.from_key_string(key["verifier_key"])
    cp = note.open_checkpoint(body["checkpoint"], verifier, verifier.name)
    assert cp.size == body["size"]
    leaf = merkle.leaf_hash(canonical_json(body["entry"]))
    assert leaf.hex() == body["leaf_hash"]
    merkle.verify_inclusion(
        leaf, body["index"], cp.size, [bytes.fromhex(h) for h in body["proof"]], cp.root_hash
    )


def test_the_ballot_of_a_consultation(app, client, make_election):
    ve = voting_election(app, make_election, n_voters=1)
    r = client.get(ve.e.url("/ballot"), params={"group": "all"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["entry"]["type"] == "questions_published" and body["vote_held"] is True
    assert body["definition"] == {"group": "all", "questions": body["entry"]["questions"]}
    log = ve.e.log()
    assert log[body["index"]] == body["entry"]
    assert body["index"] < next(i for i, x in enumerate(log) if x["type"] == "keys")
    _verified(client, ve.id, body)


def test_the_ballot_of_each_kiesgroep_of_a_works_council(app, client, make_election):
    e = make_election(SETTINGS)
    seed_voting(app, e, [])
    for g in GROUPS:
        r = client.get(e.url("/ballot"), params={"group": g["group"]})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["entry"]["type"] == "lists_published"
        assert body["definition"] == g
        assert body["vote_held"] == g.get("vote_held", True)
        _verified(client, e.id, body)


def test_refusals(client, election):
    r = client.get(election.url("/ballot"), params={"group": "all"})
    assert r.status_code == 409 and r.json()["type"] == "/problems/ballot-not-published"
    r = client.get("/api/v1/elections/no-such-election/ballot", params={"group": "all"})
    assert r.status_code == 404 and r.json()["type"] == "/problems/not-found"
    r = client.get(election.url("/ballot"), params={"group": "Not A Slug"})
    assert r.status_code == 422 and r.json()["type"] == "/problems/validation-error"
    r = client.get(election.url("/ballot"))
    assert r.status_code == 422


def test_an_unknown_kiesgroep(app, client, make_election):
    ve = voting_election(app, make_election, n_voters=1)
    r = client.get(ve.e.url("/ballot"), params={"group": "nergens"})
    assert r.status_code == 404 and r.json()["type"] == "/problems/unknown-ballot-group"


def _tampering(client, change):  # type: ignore[no-untyped-def]
    """An httpx client that passes every request to the app and lets `change` alter the answer
    of `GET …/ballot`: a dishonest or broken server, as the SDK must notice it."""

    def handle(request: httpx.Request) -> httpx.Response:
        r = client.request(request.method, str(request.url), headers=request.headers)
        if request.url.path.endswith("/ballot") and r.status_code == 200:
            body = r.json()
            change(body)
            return httpx.Response(200, json=body)
        return httpx.Response(r.status_code, content=r.content, headers=r.headers)

    return httpx.Client(transport=httpx.MockTransport(handle), base_url="http://testserver")


def test_the_sdk_refuses_an_answer_that_is_not_the_logged_definition(app, client, make_election):
    ve = voting_election(app, make_election, n_voters=1)
    assert StembusClient(http=client).ballot_definition(ve.id, "all")["group"] == "all"

    def other_question(b):  # type: ignore[no-untyped-def]
        b["entry"]["questions"][0]["text"] = "Iets anders?"
        b["definition"]["questions"] = b["entry"]["questions"]

    def other_definition(b):  # type: ignore[no-untyped-def]
        b["definition"] = {"group": "all", "questions": []}

    def other_index(b):  # type: ignore[no-untyped-def]
        b["index"] += 1

    for change in (other_question, other_index):
        with pytest.raises(merkle.ProofError):
            StembusClient(http=_tampering(client, change)).ballot_definition(ve.id, "all")
    with pytest.raises(ProtocolError):
        StembusClient(http=_tampering(client, other_definition)).ballot_definition(ve.id, "all")
