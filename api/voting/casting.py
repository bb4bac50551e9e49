"""Casting a ballot (docs/protocol.md "Casting"): anonymous, so this path knows no voter, stores no
time or address and logs nothing about the ballot.

Checks, cheapest first: voting open and inside the window, the kiesgroep has an issuer key, the
ciphertext has the election's fixed length, the issuer's RSA-PSS signature over
`prefix ‖ credential` (a standard verify, RFC 9474 §4.5), the Ed25519 ballot signature over the
RFC 8785 bytes of the entry without `signature`. Then the `seq` rule as one conditional upsert:
the credential's row moves only to a strictly greater `seq` (it holds the highest of its pooled
and appended ballots), so a replayed or older ballot, or the loser of two concurrent casts with
one `seq`, is refused — unless it is byte for byte a ballot already accepted, which gets the same
promise again. Then, holding the election's lock, the status once more (a close may have
committed meanwhile) and the entry goes into its kiesgroep's pool (docs/protocol.md "Publication in
shuffled batches"); the answer is a ballot promise (api.log.receipts), never the entry's place.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from api.log import group_commit, pool, tree
from api.log.receipts import build_promise
from api.log.schemas import Promise
from api.problems import ProblemError, problem_type
from api.settings import Settings
from api.voting import keys as voting_keys
from api.voting.issuance import (
    check_voting_open,
    parsed_settings,
    voting_closed,
    voting_view,
)
from api.voting.models import BallotSeq
from crypto import blindrsa, credential, sealing
from crypto.canonical import EncodingError, b64d, canonical_json
from crypto.merkle import leaf_hash

WRONG_ELECTION = problem_type(
    "ballot-wrong-election",
    422,
    "Ballot for another election",
    "The ballot's `election` is not the election in the URL.",
)
UNKNOWN_GROUP = problem_type(
    "unknown-kiesgroep",
    422,
    "Unknown kiesgroep",
    "The ballot's `group` has no issuer key in this election (no such group, or no vote held).",
)
MALFORMED_BALLOT = problem_type(
    "malformed-ballot",
    422,
    "Malformed ballot",
    "A binary field is not canonical standard base64, or not of its fixed length (credential "
    "and prefix 32 bytes, issuer_sig 256, signature 64).",
)
BAD_LENGTH = problem_type(
    "wrong-ciphertext-length",
    422,
    "Wrong ciphertext length",
    "The ciphertext must be exactly 32 + ballot_size + 16 bytes (HPKE enc ‖ ct, RFC 9180).",
)
BAD_CREDENTIAL = problem_type(
    "invalid-credential",
    403,
    "Invalid credential",
    "issuer_sig is not the group issuer's RSASSA-PSS signature over prefix ‖ credential.",
)
BAD_SIGNATURE = problem_type(
    "invalid-ballot-signature",
    403,
    "Invalid ballot signature",
    "signature is not the credential's Ed25519 signature over the RFC 8785 entry without it.",
)
SUPERSEDED = problem_type(
    "ballot-seq-not-greater",
    409,
    "A ballot with this seq or higher exists",
    "seq must exceed every earlier ballot of this credential; the highest seq counts.",
)
WITH_AUTHORIZATION = problem_type(
    "ballot-with-authorization",
    400,
    "A ballot must not carry credentials",
    "Casting is anonymous: a ballot that arrives with an Authorization header is refused before "
    "anything else is read, so a frontend bug cannot tie a ballot to a token in any log.",
)
NO_REVOTING = problem_type(
    "revoting-not-allowed",
    409,
    "Re-voting is not allowed",
    "This election's settings allow one ballot per credential, and this credential has one.",
)


_SEQ = BallotSeq.__table__  # type: ignore[attr-defined]


def _seq_statement(insert: Any, revote: bool) -> Any:
    # The VALUES come from the parameter dict (election_id, credential, group, seq).
    stmt = insert(_SEQ)
    if revote:  # the row moves only to a strictly greater seq
        stmt = stmt.on_conflict_do_update(
            index_elements=[_SEQ.c.election_id, _SEQ.c.credential],
            set_={"seq": stmt.excluded.seq},
            where=_SEQ.c.seq < stmt.excluded.seq,
        )
    else:
        stmt = stmt.on_conflict_do_nothing()
    return stmt.returning(_SEQ.c.seq)


# (dialect, revoting allowed) -> the conditional upsert, built once
_RAISE_SEQ = {
    (name, revote): _seq_statement(insert, revote)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
    for revote in (True, False)
}


def _raise_seq(
    session: Session, election_id: str, cred: bytes, group: str, seq: int, revote: bool
) -> bool:
    """Record `seq` as the credential's highest, atomically; False if it is not greater."""
    stmt = _RAISE_SEQ[(session.get_bind().dialect.name, revote)]
    params = {"election_id": election_id, "credential": cred, "group": group, "seq": seq}
    return session.execute(stmt, params).first() is not None


def _b64(entry: dict[str, Any], name: str, length: int | None) -> bytes:
    try:
        raw = b64d(entry[name])
    except EncodingError:
        raise ProblemError(MALFORMED_BALLOT, f"{name} is not canonical base64") from None
    if length is not None and len(raw) != length:
        raise ProblemError(MALFORMED_BALLOT, f"{name} must be {length} bytes")
    return raw


def cast_ballot(
    session: Session, settings: Settings, election_id: str, entry: dict[str, Any]
) -> tuple[Promise, bool]:
    """Check and pool the ballot; (its promise, True if this call accepted it, False for an
    identical retry of a ballot accepted before)."""
    if entry["election"] != election_id:
        raise ProblemError(WRONG_ELECTION)
    election = voting_view(session, settings, election_id)
    check_voting_open(election)
    ek = voting_keys.election_keys(session, settings, election_id)
    group = entry["group"]
    issuer = ek.issuer_public.get(group)
    if issuer is None:
        raise ProblemError(UNKNOWN_GROUP)
    cred = _b64(entry, "credential", credential.PUBLIC_KEY_LEN)
    prefix = _b64(entry, "prefix", credential.PREFIX_LEN)
    issuer_sig = _b64(entry, "issuer_sig", blindrsa.modulus_len(issuer))
    _b64(entry, "signature", credential.SIGNATURE_LEN)
    ciphertext = _b64(entry, "ciphertext", None)
    if len(ciphertext) != sealing.ciphertext_length(ek.ballot_size):
        raise ProblemError(
            BAD_LENGTH, f"expected {sealing.ciphertext_length(ek.ballot_size)} bytes"
        )
    if not blindrsa.verify(issuer, credential.ballot_input_msg(prefix, cred), issuer_sig):
        raise ProblemError(BAD_CREDENTIAL)
    if not credential.verify_entry(cred, entry):
        raise ProblemError(BAD_SIGNATURE)
    election_settings = parsed_settings(election.settings_json)
    revote = election_settings.revoting_allowed
    seq = entry["seq"]
    body = canonical_json(entry)
    entry_hash = leaf_hash(body)
    accepted: dict[str, bool] = {}

    # The seq rule needs no election lock: the credential's row locks only itself. What follows
    # `work` runs under the election's lock, in a group commit with other casts and issuances of
    # this process (api.log.group_commit): the status once more (a close may have committed
    # meanwhile, so no ballot is pooled after the pools were flushed for `voting closed`), then
    # the pool insert and, if the group is due, its flush.
    def work(s: Session) -> pool.Encoded | None:
        if _raise_seq(s, election_id, cred, group, seq, revote):
            accepted["new"] = True
            return pool.Encoded(entry, body, entry_hash)  # pooled without a second encoding
        # Refused by the seq rule, unless it is this very ballot again (a lost answer): pool
        # first, then log, so a flush committing in between cannot hide it from both reads.
        if pool.is_pooled(s, election_id, entry_hash) or (
            tree.index_of(s, election_id, entry_hash) is not None
        ):
            accepted["new"] = False
            return None
        raise ProblemError(SUPERSEDED if revote else NO_REVOTING)

    def after(s: Session, _entry: pool.Encoded | None) -> Promise:
        return build_promise(s, election_id, entry_hash)

    def closed(status: str) -> ProblemError:
        return voting_closed(settings, election_id, status)

    promise: Promise = group_commit.submit(
        session,
        election_id,
        work,
        after,
        closed,
        group=group,
        batch_size=election_settings.batch_size,
    )
    return promise, accepted.get("new", False)
