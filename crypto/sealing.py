"""Ballot sealing: fixed-size padding and HPKE (RFC 9180) to the election's sealing key.

docs/protocol.md, "Casting" steps 1–2:

* :func:`pad` / :func:`unpad` — the RFC 8785 ballot plaintext is padded with one ``0x80`` byte and
  then ``0x00`` bytes to the election's ``ballot_size`` (the ISO/IEC 7816-4 scheme), so every
  ciphertext of an election has the same length and the length reveals nothing about the vote.
  Unpadding is strict: a wrong length, a missing ``0x80`` marker or any non-zero byte after it is
  rejected (ballots with such plaintext are invalid, not "repaired").
* :func:`seal` / :func:`open_ballot` — RFC 9180 single-shot base mode (§5.1.1 SetupBaseS/R,
  §6.1 Seal/Open) with DHKEM(X25519, HKDF-SHA256) (§4.1, §7.1), HKDF-SHA256 and AES-128-GCM
  (§7.3), implemented by ``cryptography.hazmat.primitives.hpke``. ``info`` binds the ciphertext
  to its election and kiesgroep (RFC 9180 §8.1 recommends ``info`` for single-shot context);
  the AAD is empty. The output is ``enc ‖ ct``: the 32-byte encapsulated X25519 key (Nenc,
  §7.1) followed by the AEAD ciphertext with its 16-byte tag (Nt, §7.3), so its length is
  ``32 + ballot_size + 16`` (:func:`ciphertext_length`).
* X25519 key helpers with raw 32-byte encodings (RFC 7748 §5; RFC 9180 §7.1.1 SerializePublicKey).
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric import x25519

from crypto.canonical import canonical_json

__all__ = [
    "ENC_LEN",
    "INFO_PREFIX",
    "KEY_LEN",
    "TAG_LEN",
    "OpenError",
    "PaddingError",
    "SealingError",
    "ciphertext_length",
    "decode_ballot",
    "encode_ballot",
    "generate_keypair",
    "info_for",
    "open_ballot",
    "pad",
    "public_key_from_private",
    "seal",
    "unpad",
]

INFO_PREFIX = b"stembus/ballot/v1\n"
ENC_LEN = 32  # RFC 9180 §7.1: Nenc of DHKEM(X25519, HKDF-SHA256)
TAG_LEN = 16  # RFC 9180 §7.3: Nt of AES-128-GCM
KEY_LEN = 32  # RFC 7748 §5: X25519 scalars and u-coordinates are 32 bytes
_MARKER = 0x80

_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)


class SealingError(ValueError):
    """Base class of this module's errors."""


class PaddingError(SealingError):
    """Plaintext does not fit, or a padded plaintext is malformed."""


class OpenError(SealingError):
    """The ciphertext does not open under this key and context (tampered, wrong key/info)."""


# --- padding ------------------------------------------------------------------------------------


def pad(plaintext: bytes, size: int) -> bytes:
    """``plaintext ‖ 0x80 ‖ 0x00…`` of exactly ``size`` bytes; :class:`PaddingError` if too long."""
    plaintext = bytes(plaintext)
    if size < 1:
        raise PaddingError("ballot size must be positive")
    if len(plaintext) + 1 > size:
        raise PaddingError(f"plaintext of {len(plaintext)} bytes does not fit in {size} bytes")
    return plaintext + bytes([_MARKER]) + b"\x00" * (size - len(plaintext) - 1)


def unpad(padded: bytes, size: int | None = None) -> bytes:
    """Strict inverse of :func:`pad`. If ``size`` is given, the length must equal it."""
    padded = bytes(padded)
    if size is not None and len(padded) != size:
        raise PaddingError(f"padded plaintext must be {size} bytes, got {len(padded)}")
    # The marker is the last non-zero byte; everything after it must be zero (true by
    # construction of rstrip) and it must be exactly 0x80.
    stripped = padded.rstrip(b"\x00")
    if not stripped or stripped[-1] != _MARKER:
        raise PaddingError("malformed padding: no 0x80 marker before the zero bytes")
    return stripped[:-1]


def encode_ballot(ballot: dict[str, Any], size: int) -> bytes:
    """Ballot plaintext (docs/protocol.md "Casting" step 1): RFC 8785 JSON, padded to ``size``."""
    return pad(canonical_json(ballot), size)


def decode_ballot(padded: bytes, size: int | None = None) -> dict[str, Any]:
    """Unpad and parse a ballot plaintext; reject JSON that is not in RFC 8785 canonical form.

    Requiring the canonical form means a ballot has one byte representation, so a decrypted
    ballot can be re-encoded and compared by anyone checking the tally.
    """
    raw = unpad(padded, size)
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PaddingError("ballot plaintext is not UTF-8 JSON") from exc
    if not isinstance(obj, dict):
        raise PaddingError("ballot plaintext is not a JSON object")
    try:
        canonical = canonical_json(obj)
    except (ValueError, TypeError) as exc:  # e.g. floats outside the I-JSON range
        raise PaddingError("ballot plaintext cannot be canonicalised") from exc
    if canonical != raw:
        raise PaddingError("ballot plaintext is not RFC 8785 canonical JSON")
    return obj


# --- HPKE ---------------------------------------------------------------------------------------


def ciphertext_length(ballot_size: int) -> int:
    """Length of ``enc ‖ ct`` for a padded ballot of ``ballot_size`` bytes."""
    return ENC_LEN + ballot_size + TAG_LEN


def _as_bytes(value: str | bytes, what: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    raise TypeError(f"{what} must be str or bytes")


def info_for(election_id: str | bytes, group: str | bytes) -> bytes:
    """``"stembus/ballot/v1\\n" ‖ election_id ‖ "\\n" ‖ group`` (str values as UTF-8).

    The election id may not contain a newline: that keeps the (election, group) → info mapping
    injective, so a ballot sealed for one election and group never opens for another.
    """
    election = _as_bytes(election_id, "election_id")
    grp = _as_bytes(group, "group")
    if b"\n" in election:
        raise SealingError("election id must not contain a newline")
    return INFO_PREFIX + election + b"\n" + grp


def _load_public(public_key_bytes: bytes) -> x25519.X25519PublicKey:
    if len(public_key_bytes) != KEY_LEN:
        raise SealingError(f"X25519 public key must be {KEY_LEN} bytes")
    return x25519.X25519PublicKey.from_public_bytes(bytes(public_key_bytes))


def _load_private(private_key_bytes: bytes) -> x25519.X25519PrivateKey:
    if len(private_key_bytes) != KEY_LEN:
        raise SealingError(f"X25519 private key must be {KEY_LEN} bytes")
    return x25519.X25519PrivateKey.from_private_bytes(bytes(private_key_bytes))


def seal(
    public_key_bytes: bytes,
    plaintext_padded: bytes,
    election_id: str | bytes,
    group: str | bytes,
) -> bytes:
    """HPKE base-mode single-shot seal (RFC 9180 §6.1); returns ``enc ‖ ct``.

    ``plaintext_padded`` is the output of :func:`pad`; sealing does not pad, so the caller
    controls (and the verifier can check) the fixed ballot size.
    """
    return _SUITE.encrypt(
        bytes(plaintext_padded), _load_public(public_key_bytes), info=info_for(election_id, group)
    )


def open_ballot(
    private_key_bytes: bytes,
    ciphertext: bytes,
    election_id: str | bytes,
    group: str | bytes,
    *,
    ballot_size: int | None = None,
) -> bytes:
    """HPKE base-mode single-shot open (RFC 9180 §6.1); returns the *padded* plaintext.

    Raises :class:`OpenError` if the ciphertext was altered, is for another key, election or
    group, or (when ``ballot_size`` is given) has the wrong length.
    """
    ciphertext = bytes(ciphertext)
    if ballot_size is not None and len(ciphertext) != ciphertext_length(ballot_size):
        raise OpenError("ciphertext has the wrong length for this election's ballot size")
    if len(ciphertext) < ENC_LEN + TAG_LEN:
        raise OpenError("ciphertext too short")
    info = info_for(election_id, group)
    try:
        return _SUITE.decrypt(ciphertext, _load_private(private_key_bytes), info=info)
    except (InvalidTag, ValueError) as exc:
        # ValueError covers an invalid encapsulated key (e.g. an all-zero DH result).
        raise OpenError("ciphertext does not open") from exc


# --- keys ---------------------------------------------------------------------------------------


def generate_keypair() -> tuple[bytes, bytes]:
    """A fresh X25519 sealing key pair as raw ``(private_32, public_32)`` bytes."""
    sk = x25519.X25519PrivateKey.generate()
    return _raw_private(sk), _raw_public(sk.public_key())


def public_key_from_private(private_key_bytes: bytes) -> bytes:
    """The raw public key belonging to a raw private key (used to check a recovered key)."""
    return _raw_public(_load_private(private_key_bytes).public_key())


def _raw_private(sk: x25519.X25519PrivateKey) -> bytes:
    return sk.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def _raw_public(pk: x25519.X25519PublicKey) -> bytes:
    return pk.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
