"""Committee members, access codes and login."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from api.auth import codes
from api.auth.models import AccessCode, LoginThrottle, Member
from api.auth.tokens import issue_token
from api.elections import lifecycle
from api.elections.models import Election
from api.elections.service import ElectionView
from api.problems import NOT_FOUND, RATE_LIMITED, ProblemError, problem_type
from api.settings import Settings

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


# holder kind -> resolver(session, election, holder_id) -> Holder, or None when the holder may
# no longer log in. The roll registers "voter", the lists "submitter".
HolderResolver = Callable[[Session, "Election | ElectionView", int], Holder | None]
_RESOLVERS: dict[str, HolderResolver] = {}


def register_holder(kind: str, resolver: HolderResolver) -> None:
    _RESOLVERS[kind] = resolver


def _member_roles(
    session: Session, election: Election | ElectionView, holder_id: int
) -> Holder | None:
    m = session.get(Member, holder_id)
    if m is None or m.election_id != election.id:
        return None
    roles = set()
    if m.is_committee:
        roles.add("committee")
    if m.is_trustee:
        roles.add("trustee")
    return Holder(roles, f"member:{m.id}")


register_holder("member", _member_roles)


def issue_code(
    session: Session, settings: Settings, election_id: str, holder_kind: str, holder_id: int
) -> str:
    """Make a new code for a holder; any earlier code of that holder stops working."""
    session.execute(
        update(AccessCode)
        .where(
            col(AccessCode.election_id) == election_id,
            col(AccessCode.holder_kind) == holder_kind,
            col(AccessCode.holder_id) == holder_id,
        )
        .values(active=False)
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
    return code


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
    m = session.get(Member, member_id)
    if m is None or m.election_id != election_id:
        raise ProblemError(NOT_FOUND, "no such member")
    return m


def list_members(session: Session, election_id: str) -> list[Member]:
    return list(
        session.exec(
            select(Member).where(Member.election_id == election_id).order_by(col(Member.id))
        )
    )


_ACCESS_CODE = AccessCode.__table__  # type: ignore[attr-defined]
_THROTTLE = LoginThrottle.__table__  # type: ignore[attr-defined]
# The login path's reads, built once (Core columns, bound parameters).
_THROTTLE_READ = select(_THROTTLE.c.window_start, _THROTTLE.c.failures).where(
    _THROTTLE.c.election_id == bindparam("e"), _THROTTLE.c.client_hash == bindparam("c")
)
_CODE_READ = select(
    _ACCESS_CODE.c.holder_kind, _ACCESS_CODE.c.holder_id, _ACCESS_CODE.c.active
).where(_ACCESS_CODE.c.code_hash == bindparam("h"), _ACCESS_CODE.c.election_id == bindparam("e"))


def _check_not_blocked(
    session: Session, settings: Settings, election_id: str, client: bytes
) -> None:
    """The throttle's verdict from a plain read of its row (the success path writes nothing)."""
    got = session.execute(_THROTTLE_READ, {"e": election_id, "c": client}).first()
    if got is None or got.failures < settings.login_max_failures:
        return
    # Blocked, unless the window has passed: the locked path decides and words the error.
    _throttle(session, settings, election_id, client, lock=False)


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
        raise ProblemError(
            RATE_LIMITED, "too many failed codes from this client", retry_after=max(retry, 1)
        )
    return row


def login(
    session: Session,
    settings: Settings,
    election: Election | ElectionView,
    code: str,
    client: str,
) -> tuple[str, datetime, Holder]:
    client_key = codes.client_hash(settings, client)
    # A plain read first: a blocked client is refused without trying its code. Only a failure
    # writes (under the row lock, below); a success neither locks nor writes the throttle row,
    # so concurrent logins from one address (a NAT, a load test) do not queue on it.
    _check_not_blocked(session, settings, election.id, client_key)
    digest = codes.hash_code(settings, election.id, code)
    row = None
    if digest is not None and election.status not in lifecycle.TERMINAL:
        row = session.execute(_CODE_READ, {"h": digest, "e": election.id}).first()
    resolved = None
    if row is not None and row.active:
        resolver = _RESOLVERS.get(row.holder_kind)
        resolved = resolver(session, election, row.holder_id) if resolver else None
    if row is None or not row.active or not resolved:
        # Count the failure against the row as it is now, under its lock (a concurrent failure
        # from the same client waits for us), and check the limit again.
        throttle = _throttle(session, settings, election.id, client_key, lock=True)
        throttle.failures += 1
        session.add(throttle)
        # The failure count must survive the error response: commit it here.
        session.commit()
        raise ProblemError(BAD_CODE)
    roles, subject = resolved.roles, resolved.subject
    minutes = settings.voter_token_minutes if "voter" in roles else settings.member_token_minutes
    token, exp = issue_token(
        settings,
        subject=subject,
        roles=roles,
        election_id=election.id,
        minutes=minutes,
        holder_id=row.holder_id,
    )
    return token, exp, resolved
