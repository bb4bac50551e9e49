"""Committee members, access codes and login."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.auth import codes
from api.auth.models import AccessCode, LoginThrottle, Member
from api.auth.tokens import Principal, issue_token
from api.db import rowcount
from api.elections import lifecycle
from api.elections.models import Election
from api.problems import NOT_FOUND, RATE_LIMITED, ProblemError, problem_type
from api.settings import Settings
from api.voting.models import VotingKeys

# Failed logins and throttling: the election and the reason, never the code, its hash or the
# client's address (or its keyed hash).
log = logging.getLogger("stembus.auth")

BAD_CODE = problem_type(
    "invalid-access-code",
    401,
    "Invalid access code",
    "The code is unknown, regenerated, or the election has ended. Codes are case-insensitive; "
    "dashes are optional.",
)


class Holder(NamedTuple):
    """Who an access code belongs to, as login needs it."""

    roles: set[str]
    subject: str
    group: str | None = None  # a voter's kiesgroep, told at login (the issuer key to blind for)


# holder kind -> resolver(session, election_id, holder_id) -> Holder, or None when the holder may
# no longer log in. The roll registers "voter", the lists "submitter".
HolderResolver = Callable[[Session, str, int], Holder | None]
_RESOLVERS: dict[str, HolderResolver] = {}


def register_holder(kind: str, resolver: HolderResolver) -> None:
    _RESOLVERS[kind] = resolver


def _member_roles(session: Session, election_id: str, holder_id: int) -> Holder | None:
    m = session.get(Member, holder_id)
    if m is None or m.election_id != election_id or m.removed_at is not None:
        return None
    roles = set()
    if m.is_committee:
        roles.add("committee")
    if m.is_trustee:
        roles.add("trustee")
    return Holder(roles, f"member:{m.id}")


register_holder("member", _member_roles)


def log_codes(
    session: Session,
    election_id: str,
    *,
    holders: str,
    via: str,
    count: int,
    replaced: int,
    by: Principal,
) -> None:
    """The public account of codes handed out (docs/log-entries.md `codes_issued`): how many,
    for whom (voters or members), how, how many replaced an active code, and the acting role.
    Never who: an auditor sees how many codes the committee handled, not whose."""
    from api.elections.service import actor
    from api.log.service import append_entry

    append_entry(
        session,
        election_id,
        {
            "type": "codes_issued",
            "election": election_id,
            "holders": holders,
            "via": via,
            "count": count,
            "replaced": replaced,
            "by": actor(by),
        },
    )


def regenerate_code(
    session: Session,
    settings: Settings,
    election_id: str,
    holder_kind: str,
    holder_id: int,
    by: Principal,
) -> str:
    """A member's or union account's new code (the old one and its tokens stop working),
    logged as `codes_issued`."""
    code, replaced = _issue_code(session, settings, election_id, holder_kind, holder_id)
    log_codes(
        session,
        election_id,
        holders=holder_kind,
        via="regenerated",
        count=1,
        replaced=replaced,
        by=by,
    )
    return code


def issue_code(
    session: Session, settings: Settings, election_id: str, holder_kind: str, holder_id: int
) -> str:
    """Make a new code for a holder; any earlier code of that holder stops working."""
    return _issue_code(session, settings, election_id, holder_kind, holder_id)[0]


def _issue_code(
    session: Session, settings: Settings, election_id: str, holder_kind: str, holder_id: int
) -> tuple[str, int]:
    """The new code, and how many active codes it replaced (0 or 1)."""
    replaced = rowcount(
        session,
        update(AccessCode)
        .where(
            col(AccessCode.election_id) == election_id,
            col(AccessCode.holder_kind) == holder_kind,
            col(AccessCode.holder_id) == holder_id,
        )
        .where(col(AccessCode.active))
        .values(active=False),
    )
    code = codes.new_code()
    digest = codes.hash_code(settings, election_id, code)
    assert digest is not None
    session.add(
        AccessCode(
            election_id=election_id, holder_kind=holder_kind, holder_id=holder_id, code_hash=digest
        )
    )
    session.flush()
    return code, replaced


def add_member(
    session: Session,
    settings: Settings,
    election: Election,
    name: str,
    email: str | None,
    committee: bool,
    trustee: bool,
) -> tuple[Member, str]:
    member = Member(
        election_id=election.id, name=name, email=email, is_committee=committee, is_trustee=trustee
    )
    session.add(member)
    session.flush()
    assert member.id is not None
    return member, issue_code(session, settings, election.id, "member", member.id)


def get_member(session: Session, election_id: str, member_id: int) -> Member:
    """A current member (a removed one is no member any more: 404)."""
    m = session.get(Member, member_id)
    if m is None or m.election_id != election_id or m.removed_at is not None:
        raise ProblemError(NOT_FOUND, "no such member")
    return m


def list_members(session: Session, election_id: str) -> list[Member]:
    """The current members, removed ones left out."""
    return list(
        session.exec(
            select(Member)
            .where(Member.election_id == election_id, col(Member.removed_at).is_(None))
            .order_by(col(Member.id))
        )
    )


# Appointment rules by phase (docs/audit.md "Appointing and removing members").
TRUSTEES_FIXED = problem_type(
    "trustees-fixed",
    409,
    "The trustees are fixed",
    "The voting keys are prepared: the sealing key's shares are in the hands of the trustees "
    "of that moment, so no trustee can be appointed or removed any more (regenerating a "
    "trustee's code is still possible).",
)
LAST_COMMITTEE_MEMBER = problem_type(
    "last-committee-member",
    409,
    "The last committee member",
    "An election always has a committee: appoint another member before removing this one.",
)
SELF_REMOVAL = problem_type(
    "self-removal",
    409,
    "You cannot remove yourself",
    "A committee member removes another member; the operator or another member removes you.",
)


def trustees_fixed(session: Session, election_id: str) -> bool:
    """The voting keys (with the trustee set, k of n) are prepared."""
    return session.get(VotingKeys, election_id) is not None


def check_appointment(session: Session, election: Election, trustee: bool) -> None:
    if trustee and trustees_fixed(session, election.id):
        raise ProblemError(TRUSTEES_FIXED, "the voting keys are prepared: no new trustee")


def remove_member(session: Session, election: Election, member: Member, by: Principal) -> None:
    """Remove a member: the row stays (trustee shares and the audit trail name it), marked
    removed; its access codes stop working, and with them every token issued for them
    (api.auth.revocation), at once. The caller holds the election's row lock, so two removals
    cannot both pass the last-member check."""
    if not by.has("operator") and by.holder_id == member.id:
        raise ProblemError(SELF_REMOVAL)
    if member.is_trustee and trustees_fixed(session, election.id):
        raise ProblemError(TRUSTEES_FIXED, "the voting keys are prepared: trustees stay")
    if member.is_committee:
        others = session.exec(
            select(Member.id).where(
                Member.election_id == election.id,
                col(Member.is_committee).is_(True),
                col(Member.removed_at).is_(None),
                Member.id != member.id,
            )
        ).first()
        if others is None:
            raise ProblemError(LAST_COMMITTEE_MEMBER)
    member.removed_at = datetime.now(UTC)
    session.add(member)
    session.execute(
        update(AccessCode)
        .where(
            col(AccessCode.election_id) == election.id,
            col(AccessCode.holder_kind) == "member",
            col(AccessCode.holder_id) == member.id,
        )
        .values(active=False)
    )
    session.flush()


_ACCESS_CODE = AccessCode.__table__  # type: ignore[attr-defined]
_THROTTLE = LoginThrottle.__table__  # type: ignore[attr-defined]
# The login's one read, built once: the election's status, the code's holder (if the code is
# this election's) and this client's throttle row (if any).
_ELECTION = Election.__table__  # type: ignore[attr-defined]
_E = _ELECTION.c
_LOGIN_READ = (
    sa_select(
        _E.status,
        _ACCESS_CODE.c.holder_kind,
        _ACCESS_CODE.c.holder_id,
        _ACCESS_CODE.c.active,
        _ACCESS_CODE.c.id.label("code_id"),
        _THROTTLE.c.failures,
    )
    .select_from(_ELECTION)
    .outerjoin(
        _ACCESS_CODE,
        and_(_ACCESS_CODE.c.election_id == _E.id, _ACCESS_CODE.c.code_hash == bindparam("h")),
    )
    .outerjoin(
        _THROTTLE,
        and_(_THROTTLE.c.election_id == _E.id, _THROTTLE.c.client_hash == bindparam("c")),
    )
    .where(_E.id == bindparam("e"))
)


def _throttle(
    session: Session, settings: Settings, election_id: str, client: bytes, *, lock: bool
) -> LoginThrottle:
    now = datetime.now(UTC)
    stmt = select(LoginThrottle).where(
        LoginThrottle.election_id == election_id, LoginThrottle.client_hash == client
    )
    if lock:  # re-read under the lock, over what the plain read left in the identity map
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.exec(stmt).first()
    if row is None:
        row = LoginThrottle(
            election_id=election_id, client_hash=client, window_start=now, failures=0
        )
    start = row.window_start if row.window_start.tzinfo else row.window_start.replace(tzinfo=UTC)
    if now - start > timedelta(seconds=settings.login_window_seconds):
        row.window_start, row.failures = now, 0
        start = now
    if row.failures >= settings.login_max_failures:
        retry = int(
            (start + timedelta(seconds=settings.login_window_seconds) - now).total_seconds()
        )
        retry = max(retry, 1)
        log.warning(
            "login throttled",
            extra={"event": "login-throttled", "election": election_id, "retry_after": retry},
        )
        raise ProblemError(
            RATE_LIMITED, "too many failed codes from this client", retry_after=retry
        )
    return row


def _failed(election_id: str, reason: str, failures: int | None = None) -> None:
    extra: dict[str, object] = {"event": "login-failed", "election": election_id, "reason": reason}
    if failures is not None:
        extra["failures"] = failures  # this client's count in the current window
    log.warning("login failed", extra=extra)


def login(
    session: Session, settings: Settings, election_id: str, code: str, client: str
) -> tuple[str, datetime, Holder]:
    """Exchange a code for a token. The success path is two reads and writes nothing (the
    caller may run it in autocommit, api.db.reads_in_autocommit); only a failure writes, in a
    transaction of its own, so concurrent logins from one address (a NAT, a load test) do not
    queue on the throttle row."""
    client_key = codes.client_hash(settings, client)
    digest = codes.hash_code(settings, election_id, code)
    got = session.execute(_LOGIN_READ, {"e": election_id, "h": digest, "c": client_key}).first()
    if got is None:
        raise ProblemError(NOT_FOUND, "no such election")
    if got.failures is not None and got.failures >= settings.login_max_failures:
        # Blocked, unless the window has passed: a blocked client is refused without its code
        # being tried. The throttle row decides (and words the error).
        _throttle(session, settings, election_id, client_key, lock=False)
    if digest is None:
        # Not a code at all (a typo of length or alphabet): no guess of anyone's code, so not
        # counted against the client's budget.
        _failed(election_id, "not-a-code")
        raise ProblemError(BAD_CODE)
    resolved = None
    # A code stops working when the election ends; a committee member's still works once it is
    # tallied, to fetch the proces-verbaal (api.tally) the committee signs after counting.
    ended = got.status in lifecycle.TERMINAL and not (
        got.status == "tallied" and got.holder_kind == "member"
    )
    if got.holder_kind is not None and got.active and not ended:
        resolver = _RESOLVERS.get(got.holder_kind)
        resolved = resolver(session, election_id, got.holder_id) if resolver else None
    if resolved is None:
        # Count the failure against the row as it is now, under its lock (a concurrent failure
        # from the same client waits for us), and check the limit again. In a transaction of its
        # own: end the read-only one (or the autocommit mode) first.
        session.commit()
        throttle = _throttle(session, settings, election_id, client_key, lock=True)
        throttle.failures += 1
        session.add(throttle)
        # The failure count must survive the error response: commit it here.
        session.commit()
        _failed(election_id, "wrong-code", throttle.failures)
        raise ProblemError(BAD_CODE)
    minutes = (
        settings.voter_token_minutes if "voter" in resolved.roles else settings.member_token_minutes
    )
    token, exp = issue_token(
        settings,
        subject=resolved.subject,
        roles=resolved.roles,
        election_id=election_id,
        minutes=minutes,
        holder_id=got.holder_id,
        code_id=got.code_id,
    )
    return token, exp, resolved
