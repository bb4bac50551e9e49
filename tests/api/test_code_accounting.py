"""Accountability for codes: every export, mailing and regeneration appends `codes_issued` to
the public log with counts and the acting role only, and the verifier checks the entry."""

from __future__ import annotations

from rules.record import CODES_ISSUED_FIELDS, codes_issued_problem
from tests.api.test_roll_support import populated, voter_id


def _codes_entries(e) -> list[dict]:  # type: ignore[no-untyped-def]
    return [x for x in e.log() if x["type"] == "codes_issued"]


def test_exports_and_regenerations_are_counted_in_the_log(election, operator_headers):
    rows = populated(election, 3)
    c, committee = election.client, election.committee
    assert (
        c.post(election.url("/invitations/export"), json={}, headers=committee).status_code == 200
    )
    # Only those without a code: nobody now, so no codes and no entry.
    assert (
        c.post(election.url("/invitations/export"), json={}, headers=committee).status_code == 200
    )
    body = {"without_code_only": False}
    assert (
        c.post(election.url("/invitations/export"), json=body, headers=committee).status_code == 200
    )
    vid = voter_id(election, rows[0]["employee_number"])
    assert c.post(election.url(f"/roll/voters/{vid}/code"), headers=committee).status_code == 200
    [m] = c.get(election.url("/members"), headers=committee).json()["items"]
    assert (
        c.post(election.url(f"/members/{m['id']}/code"), headers=operator_headers).status_code
        == 200
    )

    base = {"type": "codes_issued", "election": election.id}
    assert _codes_entries(election) == [
        {**base, "holders": "voter", "via": "export", "count": 3, "replaced": 0, "by": "committee"},
        {**base, "holders": "voter", "via": "export", "count": 3, "replaced": 3, "by": "committee"},
        {
            **base,
            "holders": "voter",
            "via": "regenerated",
            "count": 1,
            "replaced": 1,
            "by": "committee",
        },
        {
            **base,
            "holders": "member",
            "via": "regenerated",
            "count": 1,
            "replaced": 1,
            "by": "operator",
        },
    ]
    # No identities: no name, e-mail, employee number or id of any holder anywhere in them.
    text = str(_codes_entries(election))
    for r in rows:
        assert r["name"] not in text and r["email"] not in text
        assert r["employee_number"] not in text


def test_the_verifier_checks_the_entry():
    good = {
        "type": "codes_issued",
        "election": "e1",
        "holders": "voter",
        "via": "export",
        "count": 12,
        "replaced": 2,
        "by": "committee",
    }
    assert set(good) == CODES_ISSUED_FIELDS
    assert codes_issued_problem(good) is None
    for change in (
        {"voter_ids": [1, 2]},  # an identity has no place in it
        {"email": "a@b.nl"},
        {"holders": "nobody"},
        {"via": "telepathy"},
        {"by": "Jan"},
        {"count": 0},
        {"count": "12"},
        {"count": True},
        {"replaced": 13},
        {"replaced": -1},
    ):
        assert codes_issued_problem({**good, **change}) is not None, change
    missing = dict(good)
    del missing["replaced"]
    assert codes_issued_problem(missing) is not None


def test_an_honest_record_with_codes_entries_verifies(election):
    from rules.record import verify_record

    populated(election, 2)
    r = election.client.post(
        election.url("/invitations/export"), json={}, headers=election.committee
    )
    assert r.status_code == 200
    rec = election.client.get(election.url("/record"))
    assert rec.status_code == 200
    lines = rec.content.splitlines(keepends=True)
    report = verify_record(lambda: iter(lines))
    assert report.first("entry-order") is None, [str(f) for f in report.failures]
