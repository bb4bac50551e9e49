"""The voter roll: import (CSV, JSON), validation, re-import diff, eligibility, overrides,
freezing with a commitment, the voter's registration and objections."""

from __future__ import annotations

import hashlib
import json

from api.roll.commitment import roll_commitment
from tests.api.test_roll_support import (
    import_roll,
    person,
    populated,
    to_csv,
    voter_code,
    voter_headers,
    voter_id,
)
from tests.conftest import bearer

GROUPS = {
    "seats": 9,
    "kiesgroepen": [
        {"id": "kantoor", "name": "Kantoor", "seats": 5},
        {"id": "productie", "name": "Productie", "seats": 4},
    ],
    "reference_date": "2027-03-01",
}


def test_csv_import_computes_eligibility(make_election):
    e = make_election(GROUPS)
    rows = [
        person(1, "kantoor", "2020-01-01"),
        person(2, "kantoor", "2026-12-01"),  # exactly 3 months before the reference date
        person(3, "productie", "2026-12-02"),  # one day short
        person(4, "productie", "2025-09-01", "ja"),  # agency: 18 months to 2027-03-01
        person(5, "productie", "2025-09-02", "true"),  # agency, one day short of 18 months
    ]
    r = import_roll(e, rows)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["added"] == 5 and body["removed"] == 0 and not body["dry_run"]
    assert body["per_kiesgroep"] == {"kantoor": 2, "productie": 3}
    s = e.client.get(e.url("/roll"), headers=e.committee).json()
    assert s["counts"]["kantoor"] == {"voters": 2, "may_vote": 2, "may_stand": 2}
    assert s["counts"]["productie"] == {"voters": 3, "may_vote": 1, "may_stand": 1}
    assert s["reference_date"] == "2027-03-01" and not s["frozen"]
    detail = e.client.get(
        e.url(f"/roll/voters/{voter_id(e, 'E00005')}"), headers=e.committee
    ).json()
    assert detail["may_vote"] is False and detail["agency_worker"] is True
    assert any("agency worker" in reason for reason in detail["reasons"])


def test_json_import_and_semicolon_csv(make_election):
    e = make_election(GROUPS)
    rows = [person(1, "kantoor"), {**person(2, "productie"), "agency_worker": True}]
    del rows[0]["agency_worker"]
    r = e.client.post(
        e.url("/roll/import"),
        content=json.dumps(rows),
        headers={**e.committee, "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 2
    e2 = make_election(GROUPS)
    data = b"\xef\xbb\xbf" + to_csv([person(1, "kantoor")], sep=";")
    r = e2.client.post(
        e2.url("/roll/import"), content=data, headers={**e2.committee, "Content-Type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 1


def test_bad_rows_reported_and_nothing_imported(make_election):
    e = make_election(GROUPS)
    rows = [
        person(1, "kantoor"),
        {**person(2, "kantoor"), "email": "not-an-address"},
        {**person(3, "nowhere")},
        {**person(4, "kantoor"), "employment_start": "01-02-2020"},
        {**person(5, "kantoor"), "agency_worker": "misschien"},
        {**person(6, "kantoor"), "name": ""},
        {**person(1, "kantoor")},  # duplicate employee number
    ]
    r = import_roll(e, rows)
    assert r.status_code == 422
    body = r.json()
    assert body["type"] == "/problems/roll-invalid"
    assert r.headers["content-type"].startswith("application/problem+json")
    got = {(x["row"], x["field"]) for x in body["errors"]}
    assert got == {
        (3, "email"),
        (4, "kiesgroep"),
        (5, "employment_start"),
        (6, "agency_worker"),
        (7, "name"),
        (8, "employee_number"),
    }
    assert body["error_count"] == 6
    assert "not-an-address" not in r.text  # values are never echoed
    s = e.client.get(e.url("/roll"), headers=e.committee).json()
    assert sum(c["voters"] for c in s["counts"].values()) == 0


def test_unknown_and_missing_columns_rejected(election):
    header = ["employee_number", "name", "email", "kiesgroep", "employment_start", "bsn"]
    row = {k: v for k, v in person(1).items() if k != "agency_worker"} | {"bsn": "1"}
    r = election.client.post(
        election.url("/roll/import"),
        content=to_csv([row], header=header),
        headers={**election.committee, "Content-Type": "text/csv"},
    )
    assert r.status_code == 422
    assert {"row": 1, "field": "bsn"} in [
        {"row": x["row"], "field": x["field"]} for x in r.json()["errors"]
    ]
    r = election.client.post(
        election.url("/roll/import"),
        content=b"employee_number,name\nE1,Jan\n",
        headers={**election.committee, "Content-Type": "text/csv"},
    )
    assert r.status_code == 422
    missing = {x["field"] for x in r.json()["errors"]}
    assert {"email", "kiesgroep", "employment_start"} <= missing
    r = election.client.post(
        election.url("/roll/import"),
        content=json.dumps([{**person(1), "salary": 1}]),
        headers={**election.committee, "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "salary"


def test_unreadable_bodies(election):
    h = election.committee
    cases = [
        (b"\xff\xfe\x00bad", "text/csv", 422),
        (b"", "text/csv", 422),
        (b"employee_number,name,email,kiesgroep,employment_start\n", "text/csv", 422),
        (b"{not json", "application/json", 422),
        (b'{"a": 1}', "application/json", 422),
        (b"[1, 2]", "application/json", 422),
        (b"x", "application/xml", 415),
    ]
    for data, ctype, status in cases:
        r = election.client.post(
            election.url("/roll/import"), content=data, headers={**h, "Content-Type": ctype}
        )
        assert r.status_code == status, (data, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = election.client.post(
        election.url("/roll/import"),
        content=b"x" * (20 * 1024 * 1024 + 1),
        headers={**h, "Content-Type": "text/csv"},
    )
    assert r.status_code == 413
    assert r.json()["type"] == "/problems/payload-too-large"


def test_reimport_dry_run_then_apply(make_election):
    e = make_election(GROUPS)
    first = [person(i, "kantoor") for i in range(1, 6)]
    assert import_roll(e, first).status_code == 200
    code = voter_code(e, "E00005")
    second = [person(i, "kantoor") for i in range(1, 5)] + [person(6, "productie")]
    second[0] = {**second[0], "kiesgroep": "productie", "name": "Nieuwe Naam"}
    r = import_roll(e, second, dry_run=True)
    assert r.status_code == 200
    diff = r.json()
    assert diff["dry_run"] and (diff["added"], diff["removed"], diff["changed"]) == (1, 1, 1)
    assert diff["removed_voters"][0]["employee_number"] == "E00005"
    assert diff["added_voters"][0]["employee_number"] == "E00006"
    assert set(diff["changed_voters"][0]["fields"]) == {"name", "kiesgroep"}
    assert (
        e.client.get(e.url("/roll"), headers=e.committee).json()["counts"]["kantoor"]["voters"] == 5
    )  # dry run changed nothing
    r = import_roll(e, second)
    assert r.status_code == 200 and not r.json()["dry_run"]
    counts = e.client.get(e.url("/roll"), headers=e.committee).json()["counts"]
    assert counts["kantoor"]["voters"] == 3 and counts["productie"]["voters"] == 2
    # A voter taken off the roll can no longer log in.
    r = e.client.post(e.url("/login"), json={"code": code})
    assert r.status_code == 401
    # Re-adding them restores them (a new code is needed: it was not regenerated, so it works).
    assert import_roll(e, first).json()["added"] == 1
    assert e.client.post(e.url("/login"), json={"code": code}).status_code == 200


def test_override_with_reason(make_election):
    e = make_election(GROUPS)
    assert import_roll(e, [person(1, "kantoor", "2027-01-01")]).status_code == 200
    vid = voter_id(e, "E00001")
    url = e.url(f"/roll/voters/{vid}/override")
    r = e.client.put(url, json={"may_vote": True}, headers=e.committee)
    assert r.status_code == 422  # a reason is required
    r = e.client.put(
        url, json={"may_vote": True, "reason": "Gedetacheerd sinds 2019"}, headers=e.committee
    )
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["may_vote"] is True and v["may_stand"] is False
    assert v["override_reason"] == "Gedetacheerd sinds 2019"
    assert any("committee override" in x for x in v["reasons"])
    # Re-import keeps the override.
    assert import_roll(e, [person(1, "kantoor", "2027-01-01")]).status_code == 200
    v = e.client.get(e.url(f"/roll/voters/{vid}"), headers=e.committee).json()
    assert v["may_vote"] is True
    r = e.client.put(url, json={"reason": "vergissing"}, headers=e.committee)
    assert r.json()["may_vote"] is False and r.json()["override_reason"] is None
    r = e.client.put(
        e.url("/roll/voters/999999/override"), json={"reason": "x" * 5}, headers=e.committee
    )
    assert r.status_code == 404


def test_freeze_appends_counts_and_commitment(make_election):
    e = make_election(GROUPS)
    rows = [person(1, "kantoor"), person(2, "productie", "2027-02-01")]
    assert import_roll(e, rows).status_code == 200
    r = e.client.post(e.url("/roll/freeze"), headers=e.committee)
    assert r.status_code == 409 and r.json()["type"] == "/problems/roll-wrong-phase"
    assert e.transition("candidacy").status_code == 200
    r = e.client.post(e.url("/roll/freeze"), headers=e.committee)
    assert r.status_code == 200, r.text
    [entry] = [x for x in e.log() if x["type"] == "roll_frozen"]
    assert set(entry) == {"type", "election", "counts", "commitment", "by"}
    assert entry["by"] == "committee"
    assert entry["counts"] == {
        "kantoor": {"voters": 1, "may_vote": 1, "may_stand": 1},
        "productie": {"voters": 1, "may_vote": 0, "may_stand": 0},
    }
    from datetime import date

    expected = roll_commitment(
        e.id,
        [
            (
                r["employee_number"],
                r["name"],
                r["kiesgroep"],
                date.fromisoformat(r["employment_start"]),
                False,
                ok,
                ok,
            )
            for r, ok in zip(rows, (True, False), strict=True)
        ],
    )
    assert entry["commitment"] == expected
    assert len(bytes.fromhex(entry["commitment"])) == hashlib.sha256().digest_size
    text = json.dumps(e.log())
    for row in rows:
        assert row["name"] not in text and row["email"] not in text
        assert row["employee_number"] not in text
    # Frozen: nothing changes any more.
    assert import_roll(e, rows).json()["type"] == "/problems/roll-frozen"
    r = e.client.post(e.url("/roll/freeze"), headers=e.committee)
    assert r.status_code == 409 and r.json()["type"] == "/problems/roll-frozen"
    r = e.client.put(
        e.url(f"/roll/voters/{voter_id(e, 'E00001')}/override"),
        json={"may_vote": False, "reason": "te laat"},
        headers=e.committee,
    )
    assert r.status_code == 409


def test_freeze_needs_a_roll(election):
    assert election.transition("candidacy").status_code == 200
    r = election.client.post(election.url("/roll/freeze"), headers=election.committee)
    assert r.status_code == 409 and r.json()["type"] == "/problems/roll-empty"


def test_voting_needs_a_frozen_roll(election):
    from tests.api.test_lists import accept, make_list, union

    populated(election, 3)
    election.transition("candidacy")
    accept(election, make_list(election, union(election), "all", "FNV", ["E00001"]))
    assert election.transition("lists_published").status_code == 200
    r = election.transition("voting")
    assert r.status_code == 409
    assert any("roll is not frozen" in u for u in r.json()["unmet"])
    assert (
        election.client.post(election.url("/roll/freeze"), headers=election.committee).status_code
        == 200
    )
    r = election.transition("voting")
    # Other domains may still block voting (keys, ...), but no longer the roll.
    assert not any("roll" in u for u in r.json().get("unmet", []))


def test_consultation_roll_is_frozen_after_publication(make_election):
    e = make_election(
        {
            "kind": "consultation",
            "questions": [{"id": "q1", "text": "Eens?", "rule": "yes_no_abstain"}],
        }
    )
    populated(e, 2)
    r = e.client.post(e.url("/roll/freeze"), headers=e.committee)
    assert r.status_code == 409
    assert e.transition("lists_published").status_code == 200
    assert e.client.post(e.url("/roll/freeze"), headers=e.committee).status_code == 200
    [entry] = [x for x in e.log() if x["type"] == "roll_frozen"]
    assert entry["counts"] == {"all": {"voters": 2, "may_vote": 2, "may_stand": 2}}


def test_registration_pseudonym_and_objections(election, settings):
    from api.auth.codes import pseudonym

    populated(election, 3)
    h = voter_headers(election, "E00002")
    r = election.client.get(election.url("/me/registration"), headers=h)
    assert r.status_code == 200, r.text
    reg = r.json()
    assert reg["employee_number"] == "E00002" and reg["may_vote"] and reg["can_object"]
    vid = voter_id(election, "E00002")
    assert reg["pseudonym"] == pseudonym(settings, election.id, vid)
    r = election.client.post(
        election.url("/me/objections"),
        json={"text": "Ik werk in de productie, niet op kantoor."},
        headers=h,
    )
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    r = election.client.post(election.url("/me/objections"), json={"text": "x" * 2001}, headers=h)
    assert r.status_code == 422
    lst = election.client.get(election.url("/roll/objections"), headers=election.committee)
    [item] = lst.json()["items"]
    assert item["voter"]["employee_number"] == "E00002" and item["status"] == "open"
    assert (
        election.client.get(election.url("/roll"), headers=election.committee).json()[
            "open_objections"
        ]
        == 1
    )
    url = election.url(f"/roll/objections/{oid}/resolve")
    r = election.client.post(
        url, json={"resolution": "Aangepast in de nieuwe lijst."}, headers=election.committee
    )
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    r = election.client.post(url, json={"resolution": "nogmaals"}, headers=election.committee)
    assert r.status_code == 409 and r.json()["type"] == "/problems/objection-resolved"
    r = election.client.post(
        election.url("/roll/objections/99999/resolve"),
        json={"resolution": "nogmaals"},
        headers=election.committee,
    )
    assert r.status_code == 404
    reg = election.client.get(election.url("/me/registration"), headers=h).json()
    assert reg["objections"][0]["resolution"] == "Aangepast in de nieuwe lijst."
    # At most five open objections per voter.
    for i in range(5):
        r = election.client.post(
            election.url("/me/objections"), json={"text": f"bezwaar {i}"}, headers=h
        )
        assert r.status_code == 201
    r = election.client.post(election.url("/me/objections"), json={"text": "nog een"}, headers=h)
    assert r.status_code == 409 and r.json()["type"] == "/problems/too-many-objections"
    # After freezing: no objections.
    election.transition("candidacy")
    assert (
        election.client.post(election.url("/roll/freeze"), headers=election.committee).status_code
        == 200
    )
    h3 = voter_headers(election, "E00003")
    reg = election.client.get(election.url("/me/registration"), headers=h3).json()
    assert reg["roll_frozen"] and not reg["can_object"]
    r = election.client.post(election.url("/me/objections"), json={"text": "te laat"}, headers=h3)
    assert r.status_code == 409 and r.json()["type"] == "/problems/roll-frozen"


def test_voter_token_without_voter(election, settings):
    from api.auth.tokens import issue_token

    token, _ = issue_token(
        settings,
        subject="voter:999999",
        roles={"voter"},
        election_id=election.id,
        minutes=5,
        holder_id=999999,
    )
    r = election.client.get(election.url("/me/registration"), headers=bearer(token))
    assert r.status_code == 404 and r.json()["type"] == "/problems/not-on-roll"


def test_voter_list_paging_and_search(election):
    populated(election, 25)
    r = election.client.get(
        election.url("/roll/voters"), params={"limit": 10, "start": 20}, headers=election.committee
    )
    body = r.json()
    assert body["total"] == 25 and len(body["items"]) == 5
    assert body["start"] == 20 and body["next"] is None
    seen, start = [], 0
    while start is not None:  # the one pagination style: follow `next`
        page = election.client.get(
            election.url("/roll/voters"),
            params={"limit": 10, "start": start},
            headers=election.committee,
        ).json()
        seen += [v["employee_number"] for v in page["items"]]
        start = page["next"]
    assert len(seen) == 25 == len(set(seen))
    r = election.client.get(
        election.url("/roll/voters"), params={"q": "e00007"}, headers=election.committee
    )
    assert [v["employee_number"] for v in r.json()["items"]] == ["E00007"]
