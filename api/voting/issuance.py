"""Issuance of anonymous ballot credentials (docs/protocol.md "Issuance", RFC 9474).

One credential per voter, ever: the voter's row in `credential_issuance` is claimed with an
INSERT … ON CONFLICT DO NOTHING *before* the server signs, so of two concurrent requests exactly
one signs (on PostgreSQL the second INSERT waits for the first transaction and then finds the
row; on SQLite transactions are serialised). A retry with the same `blinded_msg` gets the stored
`blind_sig` back; a different `blinded_msg` is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import and_, bindparam, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from api.auth import codes, revocation
from api.auth.models import AccessCode
from api.auth.tokens import Principal
from api.elections.models import Election
from api.elections.service import ElectionView, election_view
from api.log import group_commit
from api.problems import NOT_FOUND, ProblemError, problem_type
from api.roll.models import Voter
from api.settings import Settings
from api.voting import keys as voting_keys
from api.voting.models import CredentialIssuance
from crypto.canonical import EncodingError, b64d, b64e
from rules.settings import ElectionSettings

VOTING_NOT_OPEN = problem_type(
    "voting-not-open",
    409,
    "Voting is not open",
    "Credentials are issued and ballots cast only while the election is in `voting`.",
)
OUTSIDE_WINDOW = problem_type(
    "outside-voting-window",
    409,
    "Outside the voting window",
    "The election's schedule sets a voting window and now is not inside it.",
)
NOT_ELIGIBLE = problem_type(
    "not-eligible",
    403,
    "Not eligible to vote",
    "The roll says this voter may not vote in this election.",
)
NO_VOTE_IN_GROUP = problem_type(
    "no-vote-in-group",
    409,
    "No vote in this kiesgroep",
    "No vote is held in the voter's kiesgroep (its candidates are elected without a vote).",
)
ALREADY_ISSUED = problem_type(
    "credential-already-issued",
    409,
    "Credential already issued",
    "This voter obtained a credential for another blinded message: one credential per voter, "
    "ever. A retry with the same blinded_msg returns the same blind_sig.",
)
BAD_BLINDED_MSG = problem_type(
    "invalid-blinded-message",
    422,
    "Invalid blinded message",
    "blinded_msg must be standard base64 of exactly the modulus length (256 bytes) and less "
    "than the modulus (RFC 9474 §4.3).",
)


@lru_cache(maxsize=256)
def parsed_settings(settings_json: str) -> ElectionSettings:
    """api.elections.service.settings_of, cached by the stored JSON text: a change of settings
    is a new text, so a stale entry is never used. Callers must not modify the result."""
    return ElectionSettings.model_validate_json(settings_json)


# Elections seen in `voting`, per process. While voting, an election's settings cannot change
# (they lock after draft, the schedule once voting opens), and everything that writes re-reads
# the status under the election's lock (api.log.group_commit), so a close committed meanwhile
# still refuses: the cache only spares a read per credential and per ballot. An election is
# cached only once seen in `voting`, and dropped when its lock says it no longer is.
_VOTING: dict[tuple[str, str], ElectionView] = {}


def voting_view(session: Session, settings: Settings, election_id: str) -> ElectionView:
    """The election as the voting paths need it: cached while it is in `voting`."""
    key = (settings.sqlalchemy_url, election_id)
    view = _VOTING.get(key)
    if view is None:
        view = election_view(session, election_id)
        if view.status == "voting":
            _VOTING[key] = view
    return view


def voting_closed(settings: Settings, election_id: str, status: str) -> ProblemError:
    """The refusal for a job whose election left `voting` (seen under its lock); forgets it."""
    _VOTING.pop((settings.sqlalchemy_url, election_id), None)
    return ProblemError(VOTING_NOT_OPEN, f"the election is in {status}")


def check_voting_open(election: Election | ElectionView, now: datetime | None = None) -> None:
    if election.status != "voting":
        raise ProblemError(VOTING_NOT_OPEN, f"the election is in {election.status}")
    window = parsed_settings(election.settings_json).schedule.voting
    if window is None:
        return
    now = now or datetime.now(UTC)

    def aware(t: datetime) -> datetime:
        return t if t.tzinfo else t.replace(tzinfo=UTC)

    if window.start and now < aware(window.start):
        raise ProblemError(OUTSIDE_WINDOW, "voting has not started yet")
    if window.end and now >= aware(window.end):
        raise ProblemError(OUTSIDE_WINDOW, "voting has ended")


_ISSUANCE = CredentialIssuance.__table__  # type: ignore[attr-defined]  # Core statements


@dataclass(frozen=True)
class VoterView:
    """The columns of a voter's roll row that issuance needs (a Core read, no ORM object)."""

    id: int
    kiesgroep: str
    may_vote: bool
    vote_override: bool | None
    on_roll: bool


def effective_may_vote(v: Voter | VoterView) -> bool:
    if not getattr(v, "on_roll", True):
        return False
    return bool(v.vote_override if v.vote_override is not None else v.may_vote)


_VOTER = Voter.__table__  # type: ignore[attr-defined]
_V = _VOTER.c
_AC = AccessCode.__table__  # type: ignore[attr-defined]
_EL = Election.__table__  # type: ignore[attr-defined]
# The voter's row, and in the same read what api.auth.revocation checks: the election's status
# and the token's access code (two primary-key joins instead of a read of their own).
_VOTER_READ = (
    sa_select(
        _V.id,
        _V.kiesgroep,
        _V.may_vote,
        _V.vote_override,
        _V.on_roll,
        _EL.c.status,
        _AC.c.active,
        _AC.c.holder_id,
    )
    .select_from(_VOTER.join(_EL, _EL.c.id == _V.election_id))
    .outerjoin(
        _AC,
        and_(
            _AC.c.id == bindparam("c"),
            _AC.c.election_id == _V.election_id,
            _AC.c.holder_kind == "voter",
        ),
    )
    .where(_V.id == bindparam("v"), _V.election_id == bindparam("e"))
)


def voter_of(session: Session, election_id: str, principal: Principal) -> VoterView:
    """The caller's roll row; refuses a dead token (revocation.refusal) on the way."""
    row = None
    if principal.holder_id is not None:
        row = session.execute(
            _VOTER_READ, {"v": principal.holder_id, "e": election_id, "c": principal.code_id}
        ).first()
    if row is None:
        # No such voter: a dead token (an ended election, a replaced code) is still told so.
        revocation.check(session.get_bind(), principal)  # type: ignore[arg-type]
        raise ProblemError(NOT_FOUND, "no such voter on this election's roll")
    error = revocation.refusal(principal, row[5], row[6], row[7])
    if error is not None:
        raise error
    return VoterView(*row[:5])


# The VALUES come from the parameter dict (election_id, voter_id, group, blinded_msg).
_CLAIM = {
    name: insert(_ISSUANCE).on_conflict_do_nothing().returning(_ISSUANCE.c.voter_id)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_I = _ISSUANCE.c
_STORED = select(_I.blinded_msg, _I.blind_sig).where(
    _I.election_id == bindparam("e"), _I.voter_id == bindparam("v")
)
_SET_SIG = (
    update(_ISSUANCE)
    .where(_I.election_id == bindparam("e"), _I.voter_id == bindparam("v"))
    .values(blind_sig=bindparam("sig"))
)


def _claim(session: Session, row: dict[str, object]) -> bool:
    """INSERT the claim unless the voter has one; True when this transaction made it."""
    stmt = _CLAIM[session.get_bind().dialect.name]
    return session.execute(stmt, row).first() is not None


@dataclass(frozen=True)
class Issued:
    blind_sig: bytes
    group: str
    pseudonym: str
    issuer_jwk: dict[str, str]


def issue_credential(
    session: Session,
    settings: Settings,
    election: Election | ElectionView,
    principal: Principal,
    blinded_msg_b64: str,
) -> Issued:
    voter = voter_of(session, election.id, principal)  # first: a dead token is a 401
    check_voting_open(election)
    if not effective_may_vote(voter):
        raise ProblemError(NOT_ELIGIBLE)
    group = voter.kiesgroep
    ek = voting_keys.election_keys(session, settings, election.id)
    signer = voting_keys.issuer_signer(session, settings, election.id, group)
    if signer is None or group not in ek.issuer_jwk:
        raise ProblemError(NO_VOTE_IN_GROUP, f"kiesgroep {group}")
    try:
        blinded = b64d(blinded_msg_b64)
    except EncodingError:
        raise ProblemError(BAD_BLINDED_MSG, "not canonical standard base64") from None
    if len(blinded) != signer.modulus_len:
        raise ProblemError(BAD_BLINDED_MSG, f"must be {signer.modulus_len} bytes")
    if int.from_bytes(blinded, "big") >= signer.public_key.public_numbers().n:
        # Refused here, before any claim: RFC 9474 §4.3 (RSASP1 step 1).
        raise ProblemError(BAD_BLINDED_MSG, "blinded_msg is not less than the modulus")
    assert voter.id is not None
    voter_id = voter.id
    election_id = election.id
    pseudonym = codes.pseudonym(settings, election_id, voter_id)
    jwk = ek.issuer_jwk[group]
    got: dict[str, bytes] = {}

    # In a group commit with other casts and issuances of this process (api.log.group_commit):
    # claim, and only if this request made the claim, sign; the `issuance` entry then waits in
    # the group's pool for its flush (docs/protocol.md "Issuance" step 3), under the election's
    # lock.
    def work(s: Session) -> dict[str, object] | None:
        claimed = _claim(
            s,
            {
                "election_id": election_id,
                "voter_id": voter_id,
                "group": group,
                "blinded_msg": blinded,
            },
        )
        if not claimed:
            stored_msg, stored_sig = s.execute(_STORED, {"e": election_id, "v": voter_id}).one()
            if bytes(stored_msg) != blinded or stored_sig is None:
                raise ProblemError(ALREADY_ISSUED)
            got["sig"] = bytes(stored_sig)
            return None
        # A signing fault raises: the whole transaction (claim included) is rolled back.
        got["sig"] = signer.sign(blinded)
        s.execute(_SET_SIG, {"e": election_id, "v": voter_id, "sig": got["sig"]})
        return {"type": "issuance", "election": election_id, "group": group, "pseudonym": pseudonym}

    def after(s: Session, row: object) -> Issued:
        return Issued(got["sig"], group, pseudonym, jwk)

    def closed(status: str) -> ProblemError:
        return voting_closed(settings, election_id, status)

    result: Issued = group_commit.submit(
        session,
        election_id,
        work,
        after,
        closed,
        group=group,
        batch_size=parsed_settings(election.settings_json).batch_size,
    )
    return result


def credential_status(
    session: Session, settings: Settings, election: Election | ElectionView, principal: Principal
) -> tuple[VoterView, str, bool, dict[str, str] | None]:
    voter = voter_of(session, election.id, principal)
    assert voter.id is not None
    t = _ISSUANCE.c
    issued = (
        session.execute(
            select(t.voter_id).where(
                t.election_id == election.id, t.voter_id == voter.id, t.blind_sig.is_not(None)
            )
        ).first()
        is not None
    )
    jwk = None
    try:
        jwk = voting_keys.election_keys(session, settings, election.id).issuer_jwk.get(
            voter.kiesgroep
        )
    except ProblemError:
        jwk = None
    return voter, codes.pseudonym(settings, election.id, voter.id), issued, jwk


__all__ = ["b64e", "issue_credential", "credential_status", "check_voting_open"]
