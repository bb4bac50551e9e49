"""Helpers for the voting, log and client tests (no tests here): an election brought to
`voting` through the public API — roll import and freeze, publication, keys — with access codes
for its voters."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from crypto import sealing
from crypto.canonical import b64e
from tests.conftest import ElectionFixture

CONSULTATION = {
    "kind": "consultation",
    "questions": [
        {"id": "q1", "text": "Akkoord met de nieuwe werktijden?", "rule": "yes_no_abstain"},
        {
            "id": "q2",
            "text": "Welke voorzieningen?",
            "rule": "up_to_k",
            "max_choices": 2,
            "options": [
                {"id": "fiets", "text": "Fietsplan"},
                {"id": "sport", "text": "Sportschool"},
                {"id": "kinderopvang", "text": "Kinderopvang"},
            ],
        },
    ],
}
# A consultation held in two kiesgroepen: an issuer key for each.
TWO_GROUPS = {
    **CONSULTATION,
    "kiesgroepen": [
        {"id": "productie", "name": "Productie"},
        {"id": "kantoor", "name": "Kantoor"},
    ],
}
HEADER = ["employee_number", "name", "email", "kiesgroep", "employment_start", "agency_worker"]


@dataclass
class VotingElection:
    e: ElectionFixture
    sealing_private: bytes
    sealing_public: bytes
    codes: dict[str, str] = field(default_factory=dict)  # employee number -> access code
    trustee_codes: list[str] = field(default_factory=list)  # of the `trustees` appointed

    @property
    def id(self) -> str:
        return self.e.id


def roll_csv(n: int, group: str = "all", start: int = 1) -> bytes:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\n")
    w.writeheader()
    for i in range(start, start + n):
        w.writerow(
            {
                "employee_number": f"V{i:05d}",
                "name": f"Kiezer {i}",
                "email": "",
                "kiesgroep": group,
                "employment_start": "2015-01-01",
                "agency_worker": "nee",
            }
        )
    return out.getvalue().encode()


def roll_csv_groups(sizes: dict[str, int]) -> bytes:
    """A roll with `sizes[group]` voters per kiesgroep, numbered V00001… in the given order."""
    rows: list[bytes] = []
    start = 1
    for group, n in sizes.items():
        rows.extend(roll_csv(n, group, start).splitlines(keepends=True)[1:])
        start += n
    return roll_csv(0) + b"".join(rows)


def ensure_questions_published(app: Any, e: ElectionFixture) -> None:
    """The lists domain writes `questions_published` when a consultation enters
    lists_published (docs/log-entries.md). Until that hook exists in this tree, stand in for it
    with the documented entry, so the voting tests do not depend on another domain's progress."""
    if any(x["type"] == "questions_published" for x in e.log()):
        return
    from api.log.service import append_entry

    settings = json.loads(json.dumps(e.data["settings"]))
    with Session(app.state.engine, info={"settings": app.state.settings}) as s:
        append_entry(
            s,
            e.id,
            {"type": "questions_published", "election": e.id, "questions": settings["questions"]},
        )
        s.commit()


def voting_election(
    app: Any,
    make_election: Any,
    n_voters: int = 4,
    settings: dict[str, Any] | None = None,
    open_voting: bool = True,
    roll: bytes | None = None,
    trustees: tuple[str, ...] = (),
) -> VotingElection:
    """`roll` replaces the default roll of `n_voters` in kiesgroep `all` (n_voters must count
    its rows). `trustees` names trustees the committee appoints besides its own member (a
    trustee too) before the voting keys fix the trustee set."""
    e: ElectionFixture = make_election(settings or CONSULTATION)
    r = e.client.post(
        e.url("/roll/import"),
        content=roll if roll is not None else roll_csv(n_voters),
        headers={**e.committee, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    r = e.transition("lists_published")
    assert r.status_code == 200, r.text
    r = e.client.post(e.url("/roll/freeze"), headers=e.committee)
    assert r.status_code == 200, r.text
    ensure_questions_published(app, e)
    trustee_codes = []
    for name in trustees:
        r = e.client.post(
            e.url("/members"),
            json={"name": name, "committee": False, "trustee": True},
            headers=e.committee,
        )
        assert r.status_code == 201, r.text
        trustee_codes.append(r.json()["access_code"])
    sk, pk = sealing.generate_keypair()
    r = e.client.post(
        e.url("/voting/keys"),
        json={"sealing_key": b64e(pk), "trustees": {"k": 2, "n": 3}},
        headers=e.committee,
    )
    assert r.status_code == 201, r.text
    ve = VotingElection(e, sk, pk, trustee_codes=trustee_codes)
    r = e.client.post(e.url("/invitations/export"), json={}, headers=e.committee)
    assert r.status_code == 200, r.text
    for row in csv.DictReader(io.StringIO(r.text)):
        ve.codes[row["employee_number"]] = row["access_code"]
    assert len(ve.codes) == n_voters
    if open_voting:
        r = e.transition("voting")
        assert r.status_code == 200, r.text
    return ve


def close_voting(ve: VotingElection) -> None:
    """voting → closed: every kiesgroep's pool is flushed whole into the log just before the
    `voting closed` entry (docs/protocol.md "Publication in shuffled batches")."""
    r = ve.e.transition("closed")
    assert r.status_code == 200, r.text


def receipts_of(sdk: Any, cred: Any) -> list[dict[str, Any]]:
    """The receipts of every ballot the credential was promised, once they are in the log (the
    SDK fetches and verifies them by entry hash); fails if any is still pending."""
    held, pending = sdk.collect_receipts(cred)
    assert pending == 0, f"{pending} ballots still pending"
    assert held == len(cred.promises)
    by_hash = {r["entry_hash"]: r for r in cred.receipts}
    return [by_hash[p["entry_hash"]] for p in cred.promises]
