"""Purging the personal data of an ended election, keeping its public record verifiable.

An election's personal data — the roll (names, e-mail addresses, employee numbers, employment
dates, override reasons), objections, nominations (motivations, nominees, quotas), credential
requests, the committee's and submitters' names and addresses, access-code hashes, login
throttles and the invitations' mail statuses — is kept `retention_days` (an election setting)
after the election ended, for objections against the result, and then deleted (AVG/GDPR
art. 5(1)(e): no longer than needed).

What stays is everything public: the log, its checkpoints and keys, so the record, the results
and every receipt stay verifiable (rules.record). Rows that the lists and the tally refer to
(voters, members, submitters) stay as anonymous rows — kiesgroep and eligibility flags only —
so no reference dangles. The purge appends a `personal_data_purged` entry with counts and the
acting role, nothing else (docs/log-entries.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Text, cast, delete, update
from sqlmodel import Session, col, select

from api.audit import service as audit
from api.auth.models import AccessCode, LoginThrottle, Member
from api.elections import service as elections
from api.elections.models import Election
from api.lists.models import Submitter
from api.log.service import append_entry
from api.nominations.models import Nomination, NominationQuota, Nominee
from api.problems import ProblemError, problem_type
from api.roll.models import MailOutbox, Objection, Voter
from api.tally.service import latest_entry
from api.voting.models import CredentialIssuance
from rules.phases import TERMINAL

ENTRY_TYPE = "personal_data_purged"
# What an anonymised voter row keeps for its employment start (the column is NOT NULL).
PURGED_DATE = date(1900, 1, 1)

NOT_ENDED = problem_type(
    "election-not-ended",
    409,
    "The election has not ended",
    "Personal data is purged only after the election is tallied or cancelled.",
)
RETENTION_NOT_OVER = problem_type(
    "retention-not-over",
    409,
    "The retention period is not over",
    "The election's `retention_days` after its end have not passed (`retain_until`); the "
    "operator may purge earlier only explicitly, with `force`.",
)
ALREADY_PURGED = problem_type(
    "already-purged",
    409,
    "Already purged",
    "The personal data of this election was purged before (`purged_at_index` in the log).",
)


@dataclass(frozen=True)
class RetentionState:
    election_id: str
    status: str
    ended_at: datetime | None
    retention_days: int
    retain_until: datetime | None
    purged_at_index: int | None

    def due(self, now: datetime) -> bool:
        return (
            self.purged_at_index is None
            and self.retain_until is not None
            and now >= self.retain_until
        )


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def state_of(session: Session, election: Election) -> RetentionState:
    """When the election ended (its last change of phase; nothing changes a tallied or
    cancelled election after), until when its personal data is kept, and whether it is gone."""
    days = elections.settings_of(election).retention_days
    ended = _aware(election.updated_at) if election.status in TERMINAL else None
    purged = latest_entry(session, election.id, ENTRY_TYPE)
    return RetentionState(
        election_id=election.id,
        status=election.status,
        ended_at=ended,
        retention_days=days,
        retain_until=ended + timedelta(days=days) if ended else None,
        purged_at_index=purged[0] if purged else None,
    )


def purge(
    session: Session,
    election: Election,
    *,
    by: str,
    force: bool = False,
    now: datetime | None = None,
) -> tuple[int, dict[str, int]]:
    """Delete the election's personal data (see the module); returns the index of the log
    entry and the counts it names."""
    now = now or datetime.now(UTC)
    st = state_of(session, election)
    if st.purged_at_index is not None:
        raise ProblemError(ALREADY_PURGED, purged_at_index=st.purged_at_index)
    if st.retain_until is None:
        raise ProblemError(NOT_ENDED, f"the election is {election.status}")
    if now < st.retain_until and not force:
        raise ProblemError(
            RETENTION_NOT_OVER,
            f"personal data is kept until {st.retain_until.isoformat(timespec='seconds')}",
            retain_until=st.retain_until.isoformat(timespec="seconds"),
        )
    eid = election.id
    counts = {
        "voters": _rowcount(
            session,
            update(Voter)
            .where(col(Voter.election_id) == eid)
            .values(
                # Unique per election, so the (election, employee_number) key holds.
                employee_number="purged-" + cast(col(Voter.id), Text),
                name="",
                email=None,
                employment_start=PURGED_DATE,
                override_reason=None,
            ),
        ),
        "members": _rowcount(
            session,
            update(Member).where(col(Member.election_id) == eid).values(name="", email=None),
        ),
        "submitters": _rowcount(
            session,
            update(Submitter).where(col(Submitter.election_id) == eid).values(name="", email=None),
        ),
        "access_codes": _delete(session, AccessCode, eid),
        "objections": _delete(session, Objection, eid),
        "nominations": _delete(session, Nomination, eid),
        "nominees": _delete(session, Nominee, eid),
        "nomination_quotas": _delete(session, NominationQuota, eid),
        "credential_requests": _delete(session, CredentialIssuance, eid),
        "login_throttles": _delete(session, LoginThrottle, eid),
        "mail_statuses": _delete(session, MailOutbox, eid),
    }
    # The audit trail keeps its decisions, without their personal data (api.audit.service).
    scrubbed = audit.scrub(session, eid)
    row = append_entry(
        session,
        eid,
        {"type": ENTRY_TYPE, "election": eid, "counts": counts, "forced": force, "by": by},
    )
    audit.record(
        session,
        eid,
        by,
        "personal_data_purged",
        details={
            "counts": counts,
            "forced": force,
            "log_index": row.idx,
            "audit_entries_scrubbed": scrubbed,
        },
    )
    session.flush()
    return row.idx, counts


def due_elections(session: Session, now: datetime | None = None) -> list[Election]:
    """Ended elections whose retention period is over and that are not purged yet."""
    now = now or datetime.now(UTC)
    ended = session.exec(select(Election).where(col(Election.status).in_(sorted(TERMINAL))))
    return [e for e in ended if state_of(session, e).due(now)]


def _rowcount(session: Session, stmt) -> int:  # type: ignore[no-untyped-def]
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def _delete(session: Session, model: type, election_id: str) -> int:
    table = model.__table__  # type: ignore[attr-defined]
    return _rowcount(session, delete(table).where(table.c.election_id == election_id))
