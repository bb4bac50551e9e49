"""Personal access codes (like a PIN letter): high entropy, shown once, stored as a keyed hash.

A code is 20 Crockford base32 characters (100 bits) in groups of four. Entropy this high makes a
slow password hash unnecessary; the HMAC key (derived from the deployment secret) means a leaked
table alone cannot even be checked against guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from api.auth.tokens import derive_key
from api.settings import Settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CODE_CHARS = 20
_TRANSLATE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    # One urandom call: 104 random bits, 100 of them used, 5 bits per character (the alphabet
    # has exactly 32 symbols, so every character is uniform). Twenty `secrets.choice` calls per
    # code made a 100,000-voter export spend seconds on randomness alone.
    n = int.from_bytes(secrets.token_bytes(13), "big") >> 4
    raw = "".join(ALPHABET[(n >> (5 * i)) & 31] for i in range(CODE_CHARS))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_CHARS, 4))


def normalize_code(code: str) -> str | None:
    """Accept the code as people type it: any case, with or without dashes and spaces."""
    s = "".join(ch for ch in code.upper() if ch not in "- \t").translate(_TRANSLATE)
    if len(s) != CODE_CHARS or any(ch not in ALPHABET for ch in s):
        return None
    return s


def hash_code(settings: Settings, election_id: str, code: str) -> bytes | None:
    norm = normalize_code(code)
    if norm is None:
        return None
    msg = f"{election_id}\n{norm}".encode()
    return hmac.new(derive_key(settings, "access-code"), msg, hashlib.sha256).digest()


def client_hash(settings: Settings, client: str) -> bytes:
    """Throttle key for a client address: keyed, so no raw address is stored."""
    return hmac.new(derive_key(settings, "client"), client.encode(), hashlib.sha256).digest()


def pseudonym(settings: Settings, election_id: str, voter_id: int) -> str:
    """The voter's pseudonym in the public log (docs/protocol.md, issuance): a keyed hash, so nobody
    without the deployment secret can link it to a voter, while the voter can look it up."""
    msg = f"{election_id}\n{voter_id}".encode()
    return hmac.new(derive_key(settings, "pseudonym"), msg, hashlib.sha256).hexdigest()[:32]
