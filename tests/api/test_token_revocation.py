"""Tokens die with their code: regenerating the code, cancelling the election and the end of
the election (tallied; the committee's own tokens excepted, for the results) revoke the tokens
issued for it (401 token-revoked); no new codes in a cancelled or ended election (409
election-ended)."""

from __future__ import annotations

import csv
import io

from cli.client import StembusClient
from crypto import blindrsa, credential
from crypto.canonical import b64e
from tests.api.test_roll_support import populated, voter_id
from tests.api.test_tally import SETTINGS, VOTES, seed_voting, trustee
from tests.api.test_voting_support import voting_election
from tests.conftest import bearer


def _revoked(r) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 401, r.text
    assert r.json()["type"] == "/problems/token-revoked"
    assert r.headers["content-type"] == "application/problem+json"


def _blinded(sdk: StembusClient, election_id: str) -> str:
    pub = sdk.keys(election_id).issuer_public("all")
    msg = blindrsa.prepare(credential.public_key_bytes(credential.generate_key()))
    return b64e(blindrsa.blind(pub, msg)[0])


def test_regenerating_a_members_code_revokes_its_tokens(election, operator_headers):
    old = election.committee
    assert election.client.get(election.url("/members"), headers=old).status_code == 200
    [m] = election.client.get(election.url("/members"), headers=old).json()["items"]
    r = election.client.post(election.url(f"/members/{m['id']}/code"), headers=operator_headers)
    assert r.status_code == 200
    _revoked(election.client.get(election.url("/members"), headers=old))
    _revoked(election.client.get(election.url("/me"), headers=old))
    new = bearer(election.login(r.json()["access_code"]))
    assert election.client.get(election.url("/members"), headers=new).status_code == 200


def test_regenerating_a_voters_code_revokes_its_token_on_the_credential_route(
    app, client, make_election
):
    ve = voting_election(app, make_election, 2)
    sdk = StembusClient(http=client)
    number, code = next(iter(ve.codes.items()))
    token = bearer(sdk.login(ve.id, code))
    url = ve.e.url("/voting/credential")
    assert client.get(url, headers=token).status_code == 200
    vid = voter_id(ve.e, number)
    r = client.post(ve.e.url(f"/roll/voters/{vid}/code"), headers=ve.e.committee)
    assert r.status_code == 200
    # The hot path checks the code in its own read: no credential for the old token.
    _revoked(client.post(url, json={"blinded_msg": _blinded(sdk, ve.id)}, headers=token))
    _revoked(client.get(url, headers=token))
    _revoked(client.get(ve.e.url("/me/registration"), headers=token))
    fresh = bearer(sdk.login(ve.id, r.json()["access_code"]))
    r = client.post(url, json={"blinded_msg": _blinded(sdk, ve.id)}, headers=fresh)
    assert r.status_code == 200, r.text


def test_an_export_revokes_the_tokens_of_the_voters_it_makes_codes_for(election):
    populated(election, 3)
    r = election.client.post(
        election.url("/invitations/export"), json={}, headers=election.committee
    )
    first = {
        row["employee_number"]: row["access_code"] for row in csv.DictReader(io.StringIO(r.text))
    }
    token = bearer(election.login(first["E00001"]))
    reg = election.url("/me/registration")
    assert election.client.get(reg, headers=token).status_code == 200
    body = {"without_code_only": False}
    r = election.client.post(
        election.url("/invitations/export"), json=body, headers=election.committee
    )
    assert r.status_code == 200
    _revoked(election.client.get(reg, headers=token))


def test_cancelling_revokes_every_token_and_allows_no_new_codes(election, operator_headers):
    populated(election, 2)
    voter = bearer(election.login(_export(election)["E00001"]))
    [m] = election.client.get(election.url("/members"), headers=election.committee).json()["items"]
    r = election.client.post(
        election.url("/cancel"), json={"reason": "opnieuw"}, headers=election.committee
    )
    assert r.status_code == 200, r.text
    _revoked(election.client.get(election.url("/members"), headers=election.committee))
    _revoked(election.client.get(election.url("/me/registration"), headers=voter))
    _revoked(
        election.client.post(
            election.url("/invitations/export"), json={}, headers=election.committee
        )
    )
    # The operator (no code of its own) still gets in, but no new code is made.
    for path, body in ((f"/members/{m['id']}/code", None), ("/members", {"name": "Nieuw"})):
        r = election.client.post(election.url(path), json=body, headers=operator_headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/election-ended", r.text


def _export(election) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = election.client.post(
        election.url("/invitations/export"), json={}, headers=election.committee
    )
    assert r.status_code == 200, r.text
    return {
        row["employee_number"]: row["access_code"] for row in csv.DictReader(io.StringIO(r.text))
    }


def test_the_end_of_the_election_revokes_every_token(app, make_election, operator_headers):
    e = make_election(SETTINGS)
    shares = seed_voting(app, e, VOTES)
    t2 = trustee(e, operator_headers, "Trustee Twee")  # a committee member and trustee
    r = e.client.post(
        e.url("/members"),
        json={"name": "Alleen Trustee", "committee": False, "trustee": True},
        headers=operator_headers,
    )
    assert r.status_code == 201, r.text
    only_trustee = bearer(e.login(r.json()["access_code"]))
    assert e.transition("closed").status_code == 200
    for share, who in ((shares[0], e.committee), (shares[1], t2)):
        r = e.client.post(e.url("/tally/shares"), json={"share": share.to_text()}, headers=who)
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "tallied"
    _revoked(e.client.get(e.url("/me"), headers=only_trustee))
    # The committee's own tokens outlive the tally, to read the results and fetch the
    # proces-verbaal (api.auth.revocation); they can change nothing any more.
    assert e.client.get(e.url("/members"), headers=e.committee).status_code == 200
    assert e.client.get(e.url("/me"), headers=t2).status_code == 200
    r = e.client.post(e.url("/invitations/export"), json={}, headers=e.committee)
    assert r.status_code == 409 and r.json()["type"] == "/problems/election-ended", r.text
    [m] = [x for x in e.client.get(e.url("/members"), headers=operator_headers).json()["items"]][:1]
    r = e.client.post(e.url(f"/members/{m['id']}/code"), headers=operator_headers)
    assert r.status_code == 409 and r.json()["type"] == "/problems/election-ended"
    # The results stay public.
    assert e.client.get(e.url("/results")).status_code == 200
