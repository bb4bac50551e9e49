"""The audit trail (api.audit): every committee, operator and scheduler decision, in the
decision's own transaction, readable per election by its committee and the operator only, as
JSON pages and as CSV; member removal and the appointment rules by phase; paging of elections."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlmodel import Session, select

from api.audit.models import AuditEntry
from api.audit.service import ACTIONS
from api.elections import service as elections
from api.tally.service import SYSTEM
from tests.api.test_voting_support import roll_csv, voting_election
from tests.conftest import ElectionFixture, bearer


def _audit(e: ElectionFixture, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = e.client.get(e.url("/audit"), params=params, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _appoint(e: ElectionFixture, who: dict[str, str], name: str, **roles: bool) -> Any:
    body = {"name": name, "committee": roles.get("committee", True)}
    body["trustee"] = roles.get("trustee", False)
    return e.client.post(e.url("/members"), json=body, headers=who)


def test_every_decision_is_audited_who_when_what_why(app, make_election, operator_headers):
    ve = voting_election(app, make_election, n_voters=3)
    e = ve.e
    page = _audit(e, operator_headers)
    actions = [x["action"] for x in page["items"]]
    # Newest first; the whole road from creation to open voting.
    assert actions == [
        "phase_changed",
        "codes_exported",
        "voting_prepared",
        "roll_frozen",
        "phase_changed",
        "roll_imported",
        "member_appointed",
        "election_created",
    ]
    assert page["total"] == len(actions)
    assert [x["id"] for x in page["items"]] == sorted(
        (x["id"] for x in page["items"]), reverse=True
    )
    created, appointed = page["items"][-1], page["items"][-2]
    assert created["actor"] == {"role": "operator", "member_id": None, "name": None}
    assert created["subject"] == f"election:{e.id}"
    assert appointed["details"] == {
        "member_name": "Commissielid",
        "committee": True,
        "trustee": True,
    }
    [m] = e.client.get(e.url("/members"), headers=e.committee).json()["items"]
    imported = page["items"][-3]
    assert imported["actor"] == {"role": "committee", "member_id": m["id"], "name": "Commissielid"}
    assert imported["details"]["added"] == 3 and imported["details"]["rows"] == 3
    opened = page["items"][0]
    assert opened["subject"] == "phase:voting"
    assert opened["details"] == {"from": "lists_published", "to": "voting"}
    assert page["items"][1]["details"] == {"count": 3, "without_code_only": True}
    assert page["items"][2]["details"]["trustees"] == {"k": 2, "n": 3}
    assert all(x["at"].endswith("Z") for x in page["items"])
    # No access code, token or credential anywhere in the trail.
    text = e.client.get(e.url("/audit/export"), headers=operator_headers).text
    assert not any(code in text for code in ve.codes.values())
    assert set(actions) <= set(ACTIONS) and "credential" not in text and "ballot" not in text

    # Filter and pages.
    only = _audit(e, e.committee, action="phase_changed")
    assert only["total"] == 2 and {x["action"] for x in only["items"]} == {"phase_changed"}
    p1 = _audit(e, e.committee, limit=3)
    p2 = _audit(e, e.committee, limit=3, offset=3)
    assert p1["total"] == p2["total"] == 8 and len(p1["items"]) == len(p2["items"]) == 3
    assert p1["items"] + p2["items"] == page["items"][:6]
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"action": "ballot_cast"}):
        r = e.client.get(e.url("/audit"), params=bad, headers=e.committee)
        assert r.status_code == 422, (bad, r.text)
    # A dry run decides nothing.
    r = e.client.post(
        e.url("/roll/import"),
        params={"dry_run": "true"},
        content=roll_csv(2),
        headers={**e.committee, "Content-Type": "text/csv"},
    )
    assert r.status_code in (200, 409), r.text
    assert _audit(e, e.committee)["total"] == 8


def test_overrides_objections_lists_and_cancel_carry_their_reason(
    client, election, operator_headers
):
    e = election
    r = client.post(
        e.url("/roll/import"),
        content=roll_csv(2),
        headers={**e.committee, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    voter = client.get(e.url("/roll/voters"), headers=e.committee).json()["items"][0]
    r = client.put(
        e.url(f"/roll/voters/{voter['id']}/override"),
        json={"may_vote": False, "reason": "uit dienst per 1 maart"},
        headers=e.committee,
    )
    assert r.status_code == 200, r.text
    r = client.post(e.url("/cancel"), json={"reason": '=HYPERLINK("x")'}, headers=e.committee)
    assert r.status_code == 200, r.text
    items = _audit(e, operator_headers)["items"]
    cancel, override = items[0], items[1]
    assert cancel["action"] == "election_cancelled" and cancel["reason"] == '=HYPERLINK("x")'
    assert cancel["subject"] == "phase:cancelled"
    assert override["action"] == "eligibility_overridden"
    assert override["subject"] == f"voter:{voter['id']}"
    assert override["reason"] == "uit dienst per 1 maart"
    assert override["details"]["employee_number"] == voter["employee_number"]
    assert override["details"]["may_vote"] is False

    # CSV: oldest first, the documented columns, the formula defused. (The committee's tokens
    # died with the cancelled election; the operator reads on.)
    r = client.get(e.url("/audit/export"), headers=operator_headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["at", "role", "member", "action", "subject", "reason", "details"]
    assert [x[3] for x in rows[1:]] == [x["action"] for x in reversed(items)]
    last = rows[-1]
    assert last[1] == "committee" and last[2] == "Commissielid"
    assert last[5] == '\'=HYPERLINK("x")' and last[4] == "phase:cancelled"


def test_csv_defuses_every_formula_start(client, election, operator_headers):
    e = election
    for name in ("=1+1", "+31 6", "-2", "@SUM(A1)"):
        assert _appoint(e, operator_headers, name).status_code == 201
    rows = list(
        csv.reader(io.StringIO(client.get(e.url("/audit/export"), headers=e.committee).text))
    )
    details = [r[6] for r in rows[1:] if r[3] == "member_appointed"]
    assert len(details) == 5 and all(not d.startswith(("=", "+", "-", "@")) for d in details)
    # A member whose name starts like a formula decides: the member cell is defused too.
    code = _appoint(e, operator_headers, "=cmd").json()["access_code"]
    r = client.post(e.url("/transitions"), json={"to": "nomination"}, headers=bearer(e.login(code)))
    assert r.status_code == 200, r.text
    rows = list(
        csv.reader(io.StringIO(client.get(e.url("/audit/export"), headers=e.committee).text))
    )
    assert rows[-1][3] == "phase_changed" and rows[-1][2] == "'=cmd"


def test_who_may_read_which_audit(client, make_election, operator_headers):
    a, b = make_election(), make_election()
    assert client.get(a.url("/audit"), headers=a.committee).status_code == 200
    for path in ("/audit", "/audit/export"):
        r = client.get(b.url(path), headers=a.committee)  # A's committee, B's trail
        assert r.status_code == 403, r.text
        assert client.get(b.url(path)).status_code == 401
        assert client.get(b.url(path), headers=operator_headers).status_code == 200
    trustee_code = _appoint(a, operator_headers, "Alleen trustee", committee=False, trustee=True)
    trustee = bearer(a.login(trustee_code.json()["access_code"]))
    assert client.get(a.url("/audit"), headers=trustee).status_code == 403
    r = client.post(
        a.url("/roll/import"),
        content=roll_csv(1),
        headers={**a.committee, "Content-Type": "text/csv"},
    )
    export = client.post(a.url("/invitations/export"), json={}, headers=a.committee)
    voter = bearer(a.login(next(csv.DictReader(io.StringIO(export.text)))["access_code"]))
    assert client.get(a.url("/audit"), headers=voter).status_code == 403
    r = client.post(
        a.url("/submitters"), json={"union": "FNV", "name": "Vakbond"}, headers=a.committee
    )
    assert r.status_code == 201, r.text
    union = bearer(a.login(r.json()["access_code"]))
    assert client.get(a.url("/audit"), headers=union).status_code == 403
    # The operator's view of every election; nobody else's.
    assert client.get("/api/v1/audit", headers=a.committee).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401
    page = client.get("/api/v1/audit", params={"limit": 500}, headers=operator_headers).json()
    ids = {x["election_id"] for x in page["items"]}
    assert {a.id, b.id} <= ids and page["total"] >= len(page["items"])
    only = client.get(
        "/api/v1/audit", params={"action": "submitter_registered"}, headers=operator_headers
    ).json()
    assert only["items"][0]["election_id"] == a.id
    assert only["items"][0]["details"] == {"union": "FNV", "submitter_name": "Vakbond"}


def test_a_rolled_back_decision_leaves_no_audit_row(app, election):
    engine = app.state.engine

    def rows() -> list[str]:
        with Session(engine) as s:
            found = s.exec(
                select(AuditEntry.action)
                .where(AuditEntry.election_id == election.id)
                .order_by(AuditEntry.id)  # type: ignore[arg-type]
            )
            return list(found)

    before = rows()
    with Session(engine, info={"settings": app.state.settings}) as s:
        e = elections.get_election(s, election.id, for_update=True)
        elections.transition(s, e, "cancelled", SYSTEM, "test")
        # Written in this transaction: visible to it ...
        mine = s.exec(select(AuditEntry).where(AuditEntry.election_id == election.id)).all()
        assert "election_cancelled" in [x.action for x in mine]
        s.rollback()
    # ... and gone with it, as the decision is.
    assert rows() == before
    assert election.client.get(election.url()).json()["status"] == "draft"
    # Committed: both stand. The scheduler's (or any principal without a role) is "system".
    with Session(engine, info={"settings": app.state.settings}) as s:
        e = elections.get_election(s, election.id, for_update=True)
        elections.transition(s, e, "nomination", SYSTEM)
        s.commit()
    assert rows() == [*before, "phase_changed"]
    with Session(engine) as s:
        last = s.exec(
            select(AuditEntry)
            .where(AuditEntry.election_id == election.id)
            .order_by(AuditEntry.id.desc())  # type: ignore[union-attr]
        ).first()
    assert last is not None and last.actor_role == "system" and last.actor_member_id is None


def test_removing_a_member_stops_them_at_once(client, election, operator_headers):
    e = election
    second = _appoint(e, operator_headers, "Tweede lid").json()
    token = bearer(e.login(second["access_code"]))
    assert client.get(e.url("/roll"), headers=token).status_code == 200
    # Nobody removes themself; the member list and the proces-verbaal go on without the removed.
    r = client.delete(e.url(f"/members/{second['id']}"), headers=token)
    assert r.status_code == 409 and r.json()["type"] == "/problems/self-removal"
    r = client.delete(e.url(f"/members/{second['id']}"), headers=e.committee)
    assert r.status_code == 204, r.text
    r = client.get(e.url("/roll"), headers=token)
    assert r.status_code == 401 and r.json()["type"] == "/problems/token-revoked"
    r = client.post(e.url("/login"), json={"code": second["access_code"]})
    assert r.status_code == 401
    names = [m["name"] for m in client.get(e.url("/members"), headers=e.committee).json()["items"]]
    assert names == ["Commissielid"]
    assert client.delete(e.url(f"/members/{second['id']}"), headers=e.committee).status_code == 404
    r = client.post(e.url(f"/members/{second['id']}/code"), headers=operator_headers)
    assert r.status_code == 404
    removed = _audit(e, operator_headers, action="member_removed")["items"]
    assert len(removed) == 1 and removed[0]["subject"] == f"member:{second['id']}"
    assert removed[0]["actor"]["name"] == "Commissielid"
    assert removed[0]["details"]["member_name"] == "Tweede lid"
    # The last committee member stays, even for the operator; a trustee-only member does not
    # count as committee.
    [first] = client.get(e.url("/members"), headers=e.committee).json()["items"]
    trustee = _appoint(e, operator_headers, "Trustee", committee=False, trustee=True).json()
    r = client.delete(e.url(f"/members/{first['id']}"), headers=operator_headers)
    assert r.status_code == 409 and r.json()["type"] == "/problems/last-committee-member"
    assert (
        client.delete(e.url(f"/members/{trustee['id']}"), headers=operator_headers).status_code
        == 204
    )
    # Not in an ended election.
    third = _appoint(e, operator_headers, "Derde").json()
    client.post(e.url("/cancel"), json={"reason": "test"}, headers=e.committee)
    r = client.delete(e.url(f"/members/{third['id']}"), headers=operator_headers)
    assert r.status_code == 409 and r.json()["type"] == "/problems/election-ended"


def test_trustees_are_fixed_once_the_voting_keys_are_prepared(
    app, client, make_election, operator_headers
):
    ve = voting_election(app, make_election, n_voters=2, open_voting=False)
    e = ve.e
    r = _appoint(e, operator_headers, "Late trustee", committee=False, trustee=True)
    assert r.status_code == 409 and r.json()["type"] == "/problems/trustees-fixed"
    r = _appoint(e, e.committee, "Ook trustee", trustee=True)
    assert r.status_code == 409 and r.json()["type"] == "/problems/trustees-fixed"
    # A committee member still can be appointed; the trustee (also committee) cannot leave.
    other = _appoint(e, operator_headers, "Nieuw commissielid")
    assert other.status_code == 201, other.text
    [first, _] = client.get(e.url("/members"), headers=e.committee).json()["items"]
    assert first["trustee"] is True
    r = client.delete(e.url(f"/members/{first['id']}"), headers=operator_headers)
    assert r.status_code == 409 and r.json()["type"] == "/problems/trustees-fixed"
    r = client.delete(e.url(f"/members/{other.json()['id']}"), headers=e.committee)
    assert r.status_code == 204, r.text
    assert [x["action"] for x in _audit(e, operator_headers)["items"][:2]] == [
        "member_removed",
        "member_appointed",
    ]


def test_elections_are_paged(client, make_election, operator_headers):
    made = [make_election().id for _ in range(3)]
    r = client.get("/api/v1/elections", params={"limit": 2}, headers=operator_headers)
    assert r.status_code == 200, r.text
    first = r.json()
    assert len(first["items"]) == 2 and first["total"] >= 3
    assert [x["id"] for x in first["items"]] == made[::-1][:2]  # newest first
    r = client.get("/api/v1/elections", params={"limit": 2, "offset": 2}, headers=operator_headers)
    second = r.json()
    assert second["total"] == first["total"]
    assert not {x["id"] for x in first["items"]} & {x["id"] for x in second["items"]}
    everything = client.get("/api/v1/elections", params={"limit": 500}, headers=operator_headers)
    assert len(everything.json()["items"]) == min(500, first["total"])
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        r = client.get("/api/v1/elections", params=bad, headers=operator_headers)
        assert r.status_code == 422, (bad, r.text)


def test_the_documented_actions_are_the_actions():
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text()
    table = doc.split("## Actions", 1)[1].split("## The routes", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE)
    assert documented == [a.value for a in ACTIONS]
