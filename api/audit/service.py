"""The audit trail of an election: one row per decision of its committee, of the operator, or of
the scheduler ("system"), written by the decision's own code in the decision's own transaction —
a decision that is rolled back (a refused guard, a failed commit) leaves no row, and no row
exists without its decision.

Who: the role, and for the committee the member's id and name at the time (a member may be
removed or purged later; the row keeps what was true). What: `action`, from the fixed list
:data:`ACTIONS` (docs/audit.md). About what: `subject`, `<kind>:<id>` (`voter:12`, `list:3`,
`member:4`, `objection:7`, `submitter:2`, `phase:voting`, `election:<id>`). Why: `reason`, where
the decision carries one (overrides, objections, list rejections, cancellation). A small
`details` object with counts and flags.

Privacy: the trail holds committee decisions only — never a credential, a ballot, a receipt or
anything about issuing or casting, so nothing in it ties a voter to a ballot or a moment of
voting. The public log keeps naming roles only (docs/protocol.md); member names are here, behind
the committee's and operator's login, and the purge (api.retention) scrubs every personal datum
of the trail: names, e-mail addresses, employee numbers, reasons.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.audit.models import AuditEntry
from api.auth.tokens import Principal
from api.text import csv_cell


class Action(StrEnum):
    """Every action of the trail (docs/audit.md lists them with what each records; a test
    keeps the two equal)."""

    election_created = "election_created"
    settings_changed = "settings_changed"
    member_appointed = "member_appointed"
    member_removed = "member_removed"
    member_code_regenerated = "member_code_regenerated"
    roll_imported = "roll_imported"
    roll_frozen = "roll_frozen"
    eligibility_overridden = "eligibility_overridden"
    objection_resolved = "objection_resolved"
    codes_exported = "codes_exported"
    code_regenerated = "code_regenerated"
    invitations_sent = "invitations_sent"
    invitations_resent = "invitations_resent"
    submitter_registered = "submitter_registered"
    submitter_code_regenerated = "submitter_code_regenerated"
    nominee_approached = "nominee_approached"
    list_accepted = "list_accepted"
    list_rejected = "list_rejected"
    person_order_set = "person_order_set"
    voting_prepared = "voting_prepared"
    phase_changed = "phase_changed"
    election_cancelled = "election_cancelled"
    tally_completed = "tally_completed"
    personal_data_purged = "personal_data_purged"


ACTIONS: dict[Action, str] = {
    Action.election_created: "the operator created the election",
    Action.settings_changed: "the committee replaced the settings (in draft; later the schedule)",
    Action.member_appointed: "a committee member or trustee was appointed",
    Action.member_removed: "a committee member or trustee was removed; their code and tokens died",
    Action.member_code_regenerated: "a member's access code was regenerated",
    Action.roll_imported: "the roll was imported or re-imported (not a dry run), with counts",
    Action.roll_frozen: "the roll was frozen, with counts",
    Action.eligibility_overridden: "a voter's eligibility was overridden (or the override cleared)",
    Action.objection_resolved: "a voter's objection was resolved; the reason is the resolution",
    Action.codes_exported: "new access codes were exported for a mail merge, with the count",
    Action.code_regenerated: "one voter's access code was regenerated",
    Action.invitations_sent: "invitations with new codes were mailed, with counts",
    Action.invitations_resent: "invitations were mailed again, with counts",
    Action.submitter_registered: "a union representative account was registered",
    Action.submitter_code_regenerated: "a union account's access code was regenerated",
    Action.nominee_approached: "the committee recorded that it approached a nominee",
    Action.list_accepted: "a submitted candidate list was accepted",
    Action.list_rejected: "a submitted candidate list was rejected, with the reason",
    Action.person_order_set: "person system: the order of the candidates (alphabetical or the lot)",
    Action.voting_prepared: "the voting keys were prepared: sealing key, k of n trustees",
    Action.phase_changed: "the election moved to another phase (committee, or the scheduler)",
    Action.election_cancelled: "the election was cancelled, with the reason",
    Action.tally_completed: "the trustees' shares rebuilt the key and the votes were counted, "
    "or the result of an election without a vote was published",
    Action.personal_data_purged: "the election's personal data was purged, with counts",
}

ROLES = ("committee", "operator", "system")

# Keys of `details` that hold a personal datum: the purge removes them.
PERSONAL_DETAILS = frozenset({"member_name", "submitter_name", "voter_name", "employee_number"})


def _actor(session: Session, by: Principal | str) -> tuple[str, int | None, str | None]:
    if isinstance(by, str):
        assert by in ROLES, by
        return by, None, None
    if by.has("operator"):
        return "operator", None, None
    if by.has("committee") and by.holder_id is not None:
        from api.auth.models import Member

        member = session.get(Member, by.holder_id)
        return "committee", by.holder_id, member.name if member is not None else None
    return "system", None, None


def record(
    session: Session,
    election_id: str,
    by: Principal | str,
    action: Action | str,
    *,
    subject: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add the decision's row to the session (flushed with the decision, committed with it)."""
    action = Action(action)  # ValueError on an action not in the list
    role, member_id, name = _actor(session, by)
    row = AuditEntry(
        election_id=election_id,
        actor_role=role,
        actor_member_id=member_id,
        actor_name=name,
        action=action,
        subject=subject,
        reason=reason or None,
        details_json=json.dumps(details or {}, sort_keys=True, ensure_ascii=False),
    )
    session.add(row)
    session.flush()
    return row


def page(
    session: Session,
    election_id: str | None,
    action: Action | None,
    offset: int,
    limit: int,
) -> tuple[int, list[AuditEntry]]:
    """The total and one page, newest first (by id: rows are numbered in commit order per
    transaction, and `at` of two rows can be equal)."""
    where = []
    if election_id is not None:
        where.append(col(AuditEntry.election_id) == election_id)
    if action is not None:
        where.append(col(AuditEntry.action) == action)
    total = session.exec(select(func.count()).select_from(AuditEntry).where(*where)).one()
    rows = session.exec(
        select(AuditEntry)
        .where(*where)
        .order_by(col(AuditEntry.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return int(total), list(rows)


def details_of(row: AuditEntry) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(row.details_json)
    return value


CSV_COLUMNS = ("at", "role", "member", "action", "subject", "reason", "details")


def _member_cell(row: AuditEntry) -> str:
    if row.actor_name:
        return row.actor_name
    return f"#{row.actor_member_id}" if row.actor_member_id is not None else ""


def export_csv(session: Session, election_id: str, batch: int = 1000) -> Iterator[str]:
    """The whole trail, oldest first, as CSV lines (columns :data:`CSV_COLUMNS`); every text
    cell through api.text.csv_cell (no formula runs in a spreadsheet)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")

    def take() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    w.writerow(CSV_COLUMNS)
    yield take()
    after = 0
    while True:
        rows = list(
            session.exec(
                select(AuditEntry)
                .where(col(AuditEntry.election_id) == election_id, col(AuditEntry.id) > after)
                .order_by(col(AuditEntry.id))
                .limit(batch)
            )
        )
        if not rows:
            return
        for row in rows:
            at = row.at.isoformat().replace("+00:00", "Z")
            w.writerow(
                [
                    at,
                    row.actor_role,
                    csv_cell(_member_cell(row)),
                    row.action,
                    csv_cell(row.subject or ""),
                    csv_cell(row.reason or ""),
                    csv_cell(row.details_json if row.details_json != "{}" else ""),
                ]
            )
        yield take()
        assert rows[-1].id is not None
        after = rows[-1].id


def scrub(session: Session, election_id: str) -> int:
    """The purge's part (api.retention): the decisions stay — role, member id, action, subject
    ids, time — but names, reasons (free text that may name anyone) and the personal keys of
    `details` go. Returns how many rows held a personal datum."""
    touched = 0
    rows = list(session.exec(select(AuditEntry).where(col(AuditEntry.election_id) == election_id)))
    for row in rows:
        details = details_of(row)
        kept = {k: v for k, v in details.items() if k not in PERSONAL_DETAILS}
        if row.actor_name is None and row.reason is None and kept == details:
            continue
        touched += 1
        row.actor_name = None
        row.reason = None
        row.details_json = json.dumps(kept, sort_keys=True, ensure_ascii=False)
        session.add(row)
    session.flush()
    return touched
