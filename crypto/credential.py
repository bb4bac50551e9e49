"""Voter credential keys and signed log entries (Ed25519, RFC 8032; RFC 8785).

docs/protocol.md, "Issuance" step 1–2 and "Casting" step 3:

* Credential keys are Ed25519 (RFC 8032 §5.1) key pairs made by the voter's client; the public
  key is its raw 32-byte encoding (RFC 8032 §5.1.2).
* :func:`ballot_input_msg` — the RFC 9474 ``input_msg`` the issuer blind-signs:
  ``msg_prefix (32 random bytes) ‖ pk_c``.
* :func:`sign_entry` / :func:`verify_entry` — an Ed25519 signature (RFC 8032 §5.1.6 / §5.1.7)
  over the RFC 8785 canonical bytes of the entry *without* its ``signature`` member, carried in
  the entry as standard base64. Verification is strict: a non-canonical base64 signature, a
  missing or non-string signature, or a signature of the wrong length is a failure.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from crypto.canonical import EncodingError, b64d, b64e, canonical_json

__all__ = [
    "PREFIX_LEN",
    "PUBLIC_KEY_LEN",
    "SIGNATURE_FIELD",
    "SIGNATURE_LEN",
    "CredentialError",
    "ballot_input_msg",
    "entry_signing_bytes",
    "generate_key",
    "load_private_key",
    "private_key_bytes",
    "public_key_bytes",
    "sign_entry",
    "verify_entry",
]

PUBLIC_KEY_LEN = 32  # RFC 8032 §5.1.5
SIGNATURE_LEN = 64  # RFC 8032 §5.1.6
PREFIX_LEN = 32  # RFC 9474 §4.1 msg_prefix
SIGNATURE_FIELD = "signature"


class CredentialError(ValueError):
    """Malformed key or input."""


def generate_key() -> ed25519.Ed25519PrivateKey:
    """A fresh Ed25519 credential key (RFC 8032 §5.1.5)."""
    return ed25519.Ed25519PrivateKey.generate()


def load_private_key(raw: bytes) -> ed25519.Ed25519PrivateKey:
    """Load a raw 32-byte Ed25519 private key (seed)."""
    if len(raw) != 32:
        raise CredentialError("Ed25519 private key must be 32 bytes")
    return ed25519.Ed25519PrivateKey.from_private_bytes(bytes(raw))


def private_key_bytes(sk: ed25519.Ed25519PrivateKey) -> bytes:
    """Raw 32-byte private key (seed)."""
    return sk.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def public_key_bytes(sk: ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey) -> bytes:
    """Raw 32-byte public key ``pk_c`` (RFC 8032 §5.1.2 encoding)."""
    pk = sk.public_key() if isinstance(sk, ed25519.Ed25519PrivateKey) else sk
    return pk.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def ballot_input_msg(prefix: bytes, credential_pk: bytes) -> bytes:
    """``msg_prefix ‖ pk_c``: the message the issuer's blind signature covers."""
    if len(prefix) != PREFIX_LEN:
        raise CredentialError(f"msg_prefix must be {PREFIX_LEN} bytes")
    if len(credential_pk) != PUBLIC_KEY_LEN:
        raise CredentialError(f"credential public key must be {PUBLIC_KEY_LEN} bytes")
    return bytes(prefix) + bytes(credential_pk)


def entry_signing_bytes(entry: dict[str, Any]) -> bytes:
    """RFC 8785 bytes of ``entry`` without its ``signature`` member — what gets signed."""
    if not isinstance(entry, dict):
        raise CredentialError("entry must be a JSON object")
    return canonical_json({k: v for k, v in entry.items() if k != SIGNATURE_FIELD})


def sign_entry(sk: ed25519.Ed25519PrivateKey | bytes, entry: dict[str, Any]) -> str:
    """Ed25519-sign the entry (ignoring any existing ``signature``); return base64 of the sig."""
    key = load_private_key(sk) if isinstance(sk, bytes | bytearray) else sk
    return b64e(key.sign(entry_signing_bytes(entry)))


def verify_entry(pk_bytes: bytes, entry: dict[str, Any]) -> bool:
    """True iff ``entry["signature"]`` is a valid Ed25519 signature by ``pk_bytes``.

    Never raises for malformed input: anything malformed is simply not a valid signature.
    """
    try:
        if len(pk_bytes) != PUBLIC_KEY_LEN or not isinstance(entry, dict):
            return False
        sig_text = entry.get(SIGNATURE_FIELD)
        if not isinstance(sig_text, str):
            return False
        sig = b64d(sig_text)
        if len(sig) != SIGNATURE_LEN:
            return False
        pk = ed25519.Ed25519PublicKey.from_public_bytes(bytes(pk_bytes))
        pk.verify(sig, entry_signing_bytes(entry))
    except (InvalidSignature, EncodingError, ValueError, TypeError):
        # ValueError also covers RFC 8785 failures (e.g. NaN) and invalid point encodings.
        return False
    return True
