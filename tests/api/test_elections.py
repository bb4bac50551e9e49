"""Elections: create, configure, move through phases, cancel; the public log of those actions."""

from __future__ import annotations

from tests.conftest import ElectionFixture

PROBLEM = "application/problem+json"


def test_create_election_appends_to_log_and_derives_seats(client, operator_headers):
    body = {"name": "OR 2027", "organisation": "Acme", "settings": {"headcount": 1000}}
    r = client.post("/api/v1/elections", json=body, headers=operator_headers)
    assert r.status_code == 201
    data = r.json()
    assert data["status"] == "draft"
    assert data["settings"]["seats"] == 15  # WOR art. 6(1): 1000 employees → 15 seats
    assert data["settings"]["kiesgroepen"] == [
        {"id": "all", "name": "Alle medewerkers", "seats": 15}
    ]
    log = client.get(f"/api/v1/elections/{data['id']}/log/entries").json()
    assert log["size"] == 1
    assert log["entries"][0]["entry"]["type"] == "election_created"
    assert log["entries"][0]["entry"]["by"] == "operator"


def test_invalid_settings_give_problem_with_field_errors(client, operator_headers):
    body = {
        "name": "OR",
        "organisation": "Acme",
        "settings": {
            "seats": 9,
            "kiesgroepen": [
                {"id": "a", "name": "A", "seats": 4},
                {"id": "b", "name": "B", "seats": 4},
            ],
        },
    }
    r = client.post("/api/v1/elections", json=body, headers=operator_headers)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM)
    p = r.json()
    assert p["type"] == "/problems/validation-error"
    assert any("add up to 8" in e["msg"] for e in p["errors"])


def test_bad_json_and_unknown_fields(client, operator_headers):
    r = client.post(
        "/api/v1/elections",
        content=b"{not json",
        headers={**operator_headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["type"] == "/problems/malformed-request"
    r = client.post(
        "/api/v1/elections",
        json={"name": "x", "organisation": "y", "extra": 1},
        headers=operator_headers,
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/elections",
        json={"name": "x", "organisation": "y", "settings": {"remainder_threshold": "3/0"}},
        headers=operator_headers,
    )
    assert r.status_code == 422


def test_lifecycle_through_phases(election: ElectionFixture):
    assert election.data["allowed_transitions"] == ["cancelled", "candidacy", "nomination"]
    r = election.transition("nomination")
    assert r.status_code == 200 and r.json()["status"] == "nomination"
    r = election.transition("voting")
    assert r.status_code == 409
    assert r.json()["type"] == "/problems/invalid-transition"
    assert r.json()["allowed"] == ["cancelled", "candidacy"]
    assert election.transition("candidacy").json()["status"] == "candidacy"
    types = [e["type"] for e in election.log()]
    assert types == ["election_created", "phase_changed", "phase_changed"]
    changes = [e for e in election.log() if e["type"] == "phase_changed"]
    assert [(c["from"], c["to"], c["by"]) for c in changes] == [
        ("draft", "nomination", "committee"),
        ("nomination", "candidacy", "committee"),
    ]


def test_settings_update_in_draft_and_locked_after(election: ElectionFixture):
    url = election.url("/settings")
    r = election.client.put(
        url,
        json={"settings": {"seats": 7, "residual_method": "highest_averages"}},
        headers=election.committee,
    )
    assert r.status_code == 200
    assert r.json()["settings"]["residual_method"] == "highest_averages"
    election.transition("candidacy")
    r = election.client.put(url, json={"settings": {"seats": 9}}, headers=election.committee)
    assert r.status_code == 409 and r.json()["type"] == "/problems/settings-locked"
    # the schedule may still change until voting opens
    cur = election.client.get(election.url()).json()["settings"]
    cur["schedule"] = {"voting": {"start": "2027-03-01T08:00:00Z", "end": "2027-03-08T17:00:00Z"}}
    r = election.client.put(url, json={"settings": cur}, headers=election.committee)
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["schedule"]["voting"]["start"].startswith("2027-03-01")


def test_cancel_ends_election_and_codes(election: ElectionFixture):
    r = election.client.post(
        election.url("/cancel"), json={"reason": "nieuwe regeling"}, headers=election.committee
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["allowed_transitions"] == []
    r = election.client.post(election.url("/login"), json={"code": election.member_code})
    assert r.status_code == 401 and r.json()["type"] == "/problems/invalid-access-code"
    # The committee's tokens died with the election (issue 12): no transition, not even tried.
    r = election.transition("candidacy")
    assert r.status_code == 401 and r.json()["type"] == "/problems/token-revoked"
    assert election.log()[-1] == {
        "type": "phase_changed",
        "election": election.id,
        "from": "draft",
        "to": "cancelled",
        "by": "committee",
        "reason": "nieuwe regeling",
    }


def test_unknown_election_and_route(client):
    r = client.get("/api/v1/elections/doesnotexist")
    assert r.status_code == 404 and r.json()["type"] == "/problems/not-found"
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["type"] == "/problems/route-not-found"


def test_log_pagination(election: ElectionFixture):
    election.transition("nomination")
    election.transition("candidacy")
    page = election.client.get(election.url("/log/entries"), params={"start": 0, "limit": 2}).json()
    assert [e["index"] for e in page["entries"]] == [0, 1] and page["next"] == 2
    page = election.client.get(election.url("/log/entries"), params={"start": 2, "limit": 2}).json()
    assert [e["index"] for e in page["entries"]] == [2] and page["next"] is None
    r = election.client.get(election.url("/log/entries"), params={"limit": 5000})
    assert r.status_code == 422


def test_consultation_lifecycle(make_election):
    e = make_election(
        {
            "kind": "consultation",
            "questions": [{"id": "q1", "text": "Thuiswerken?", "rule": "yes_no_abstain"}],
        }
    )
    assert e.data["allowed_transitions"] == ["cancelled", "lists_published"]
    assert e.data["settings"]["questions"][0]["options"][0] == {"id": "yes", "text": "Ja"}
