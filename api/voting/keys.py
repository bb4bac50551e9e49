"""Preparing the vote (docs/protocol.md "Keys of an election"): an RSA issuer key per kiesgroep, the
uploaded sealing public key with its trustees k and n, the fixed ballot size, and the `keys` log
entry. Voting cannot open before this is done (a lifecycle guard).

Issuer private keys are stored only encrypted (api.log.atrest). Every key is immutable once
committed, so each process caches what it decrypted or parsed: the hot paths (issuance, casting)
then need no key query and no PEM parsing.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa, x25519
from sqlmodel import Session, select

from api.auth.tokens import Principal
from api.elections import lifecycle
from api.elections.models import Election
from api.elections.service import actor, settings_of
from api.log import atrest, tree
from api.log.service import append_entry, entries_of_type
from api.problems import ProblemError, problem_type
from api.settings import Settings, is_local_host
from api.voting.models import IssuerKey, VotingKeys
from crypto import blindrsa
from crypto.canonical import EncodingError, b64d, b64e
from rules.ballot import max_ballot_size

NOT_LISTS_PUBLISHED = problem_type(
    "keys-wrong-phase",
    409,
    "Keys are prepared after publication",
    "Voting keys are prepared while the election is in `lists_published`.",
)
KEYS_EXIST = problem_type(
    "keys-already-prepared",
    409,
    "Keys already prepared",
    "The `keys` entry of this election is in the log already; keys never change.",
)
NO_DEFINITION = problem_type(
    "ballot-definition-missing",
    409,
    "No published ballot definition",
    "The log has no `lists_published` / `questions_published` entry to size the ballot from.",
)
BAD_SEALING_KEY = problem_type(
    "invalid-sealing-key",
    422,
    "Invalid sealing key or trustees",
    "The sealing key must be standard base64 of a 32-byte X25519 public key, and 1 <= k <= n.",
)
NO_VOTE_NEEDED = problem_type(
    "no-vote-needed",
    409,
    "No vote is needed",
    "No kiesgroep has more candidates than seats, so every candidate is elected without a vote: "
    "no keys and no key ceremony are needed. Publish the result with POST .../transitions "
    '{"to": "tallied"}.',
)
KEYS_MISSING = problem_type(
    "keys-not-prepared",
    409,
    "Keys not prepared",
    "The committee has not prepared the voting keys of this election yet.",
)


@dataclass(frozen=True)
class ElectionKeys:
    """What casting needs of an election's keys, parsed once per process."""

    sealing_key: bytes
    ballot_size: int
    issuer_public: dict[str, rsa.RSAPublicKey]
    issuer_jwk: dict[str, dict[str, str]]


_KEYS: dict[tuple[str, str], ElectionKeys] = {}
_SIGNERS: dict[tuple[str, str, str], blindrsa.BlindSigner] = {}
_LOCK = threading.Lock()


def ballot_definitions(session: Session, election: Election) -> list[dict[str, Any]]:
    """The published ballot definition per kiesgroep in which a vote is held (rules.ballot)."""
    if election.kind == "consultation":
        rows = entries_of_type(session, election.id, "questions_published")
        if not rows:
            return []
        questions = json.loads(rows[-1].body)["questions"]
        return [{"group": g.id, "questions": questions} for g in settings_of(election).kiesgroepen]
    rows = entries_of_type(session, election.id, "lists_published")
    if not rows:
        return []
    groups = json.loads(rows[-1].body)["groups"]
    return [g for g in groups if g.get("vote_held", True)]


def prepare_keys(
    session: Session,
    settings: Settings,
    election: Election,
    sealing_key_b64: str,
    k: int,
    n: int,
    principal: Principal,
) -> tuple[int, dict[str, Any]]:
    """Make the issuer keys, fix the ballot size and append the `keys` entry; (index, entry)."""
    if election.status != "lists_published":
        raise ProblemError(NOT_LISTS_PUBLISHED, f"the election is in {election.status}")
    if session.get(VotingKeys, election.id) is not None:
        raise ProblemError(KEYS_EXIST)
    try:
        sealing_key = b64d(sealing_key_b64)
        x25519.X25519PublicKey.from_public_bytes(sealing_key)
    except (EncodingError, ValueError):
        raise ProblemError(BAD_SEALING_KEY, "not base64 of a 32-byte X25519 key") from None
    if not 1 <= k <= n:
        raise ProblemError(BAD_SEALING_KEY, "need 1 <= k <= n")
    definitions = ballot_definitions(session, election)
    if not definitions and entries_of_type(session, election.id, "lists_published"):
        raise ProblemError(NO_VOTE_NEEDED)
    if not definitions:
        raise ProblemError(NO_DEFINITION)
    ballot_size = max_ballot_size(definitions, election.id)
    issuer_keys: dict[str, dict[str, str]] = {}
    for d in definitions:
        group = d["group"]
        key = blindrsa.generate_private_key(2048)
        jwk = blindrsa.public_key_to_jwk(key)
        issuer_keys[group] = jwk
        session.add(
            IssuerKey(
                election_id=election.id,
                group=group,
                jwk=json.dumps(jwk),
                private_key_enc=atrest.encrypt(
                    settings, blindrsa.private_key_to_pem(key), f"issuer-key/{election.id}/{group}"
                ),
            )
        )
    signer = tree.log_signer(session, settings, election.id)
    assert signer is not None  # made by the election's first append
    entry = {
        "type": "keys",
        "election": election.id,
        "issuer_keys": issuer_keys,
        "sealing_key": b64e(sealing_key),
        "trustees": {"k": k, "n": n},
        "ballot_size": ballot_size,
        "log_key": signer.verifier_key,
        "by": actor(principal),
    }
    row = append_entry(session, election.id, entry)
    session.add(
        VotingKeys(
            election_id=election.id,
            sealing_key=sealing_key,
            trustees_k=k,
            trustees_n=n,
            ballot_size=ballot_size,
            log_index=row.idx,
        )
    )
    session.flush()
    return row.idx, entry


def keys_entry(session: Session, election_id: str) -> tuple[int, dict[str, Any]] | None:
    from api.log.models import LogEntry

    vk = session.get(VotingKeys, election_id)
    if vk is None:
        return None
    row = session.get(LogEntry, (election_id, vk.log_index))
    assert row is not None
    return vk.log_index, json.loads(row.body)


def election_keys(session: Session, settings: Settings, election_id: str) -> ElectionKeys:
    """The election's public voting keys (cached per process once they exist)."""
    cache_key = (settings.sqlalchemy_url, election_id)
    cached = _KEYS.get(cache_key)
    if cached is not None:
        return cached
    vk = session.get(VotingKeys, election_id)
    if vk is None:
        raise ProblemError(KEYS_MISSING)
    rows = session.exec(select(IssuerKey).where(IssuerKey.election_id == election_id)).all()
    jwks = {r.group: json.loads(r.jwk) for r in rows}
    keys = ElectionKeys(
        sealing_key=bytes(vk.sealing_key),
        ballot_size=vk.ballot_size,
        issuer_public={g: blindrsa.public_key_from_jwk(j) for g, j in jwks.items()},
        issuer_jwk=jwks,
    )
    with _LOCK:
        _KEYS[cache_key] = keys
    return keys


def issuer_signer(
    session: Session, settings: Settings, election_id: str, group: str
) -> blindrsa.BlindSigner | None:
    """The group's blind signer (decrypted and converted once per process)."""
    cache_key = (settings.sqlalchemy_url, election_id, group)
    signer = _SIGNERS.get(cache_key)
    if signer is not None:
        return signer
    row = session.get(IssuerKey, (election_id, group))
    if row is None:
        return None
    pem = atrest.decrypt(settings, bytes(row.private_key_enc), f"issuer-key/{election_id}/{group}")
    signer = blindrsa.BlindSigner(blindrsa.private_key_from_pem(pem))
    with _LOCK:
        _SIGNERS[cache_key] = signer
    return signer


LOCAL_ORIGIN = problem_type(
    "local-log-origin",
    409,
    "The log's origin is a local address",
    "In production, voting opens only under a public base URL that voters and auditors reach. "
    "The log's origin (`<public base URL host>/elections/<id>`, fixed when the election was "
    "created) stands in every checkpoint, receipt and promise and can never change: set "
    "STEMBUS_PUBLIC_BASE_URL to the public address, then create the election anew.",
)


@lifecycle.guard("voting")
def _public_origin_in_production(session: Session, election: Election, ctx: Any) -> list[str]:
    settings = tree.settings_of_session(session)
    if settings.mode != "production":
        return []
    verifier = tree.log_verifier(session, election.id)
    origin = verifier.name if verifier else tree.origin_for(settings, election.id)
    public = urlsplit(settings.public_base_url).hostname
    if is_local_host(urlsplit("//" + origin).hostname) or is_local_host(public):
        raise ProblemError(
            LOCAL_ORIGIN,
            f"the log's origin is {origin} (public base URL now {settings.public_base_url}); "
            "it is permanent: set STEMBUS_PUBLIC_BASE_URL to the address voters and auditors "
            "use, and create the election anew",
            origin=origin,
        )
    return []


@lifecycle.guard("voting")
def _keys_prepared_before_voting(session: Session, election: Election, ctx: Any) -> list[str]:
    if session.get(VotingKeys, election.id) is None:
        if not ballot_definitions(session, election) and entries_of_type(
            session, election.id, "lists_published"
        ):
            return [
                "no kiesgroep holds a vote, so there is nothing to vote on: publish the result "
                'with the transition {"to": "tallied"}'
            ]
        return ["the voting keys are not prepared (POST .../voting/keys)"]
    return []
