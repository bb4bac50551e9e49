"""Canonical bytes and strict base64 encodings shared by every Stembus primitive.

* :func:`canonical_json` — RFC 8785 JSON Canonicalization Scheme (JCS), via the ``rfc8785``
  package. Every hashed or signed JSON object in the protocol goes through it (docs/protocol.md,
  "canonical bytes").
* :func:`b64e` / :func:`b64d` — RFC 4648 §4 standard base64 *with* padding. Decoding is strict:
  it rejects characters outside the alphabet, missing or extra padding, whitespace, and
  non-canonical encodings (non-zero bits in the final padding group, RFC 4648 §3.5), so that a
  value has exactly one accepted textual form. That matters because signed log entries carry
  base64 strings: two spellings of one value would give two leaf hashes.
* :func:`b64url_e` / :func:`b64url_d` — RFC 4648 §5 base64url *without* padding, as JWK (RFC 7517,
  RFC 7518 §6.3.1) requires for the RSA ``n`` and ``e`` members. Equally strict.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import rfc8785

__all__ = [
    "CanonicalizationError",
    "EncodingError",
    "b64d",
    "b64e",
    "b64url_d",
    "b64url_e",
    "canonical_json",
]

CanonicalizationError = rfc8785.CanonicalizationError


class EncodingError(ValueError):
    """Raised when a base64 / base64url string is malformed or non-canonical."""


# Whole-string patterns: the stdlib decoder alone tolerates some sloppiness (e.g. discarding
# characters when validate=False, or non-zero pad bits), so the shape is checked explicitly.
_B64_RE = re.compile(r"\A(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z")
_B64URL_RE = re.compile(r"\A[A-Za-z0-9_-]*\Z")


def canonical_json(obj: Any) -> bytes:
    """Return the RFC 8785 (JCS) canonical UTF-8 bytes of a JSON-compatible object.

    RFC 8785 §3.2: sorted member names (UTF-16 code unit order), no insignificant whitespace,
    ECMAScript number serialisation, minimal string escaping. Raises
    :class:`CanonicalizationError` for values JCS cannot represent (NaN, out-of-range integers).
    """
    return rfc8785.dumps(obj)


def b64e(data: bytes) -> str:
    """Standard base64 (RFC 4648 §4) with ``=`` padding."""
    return base64.b64encode(bytes(data)).decode("ascii")


def b64d(text: str) -> bytes:
    """Strictly decode standard padded base64 (RFC 4648 §4); raise :class:`EncodingError`.

    Accepts only the canonical encoding: the result re-encodes to exactly ``text``.
    """
    if not isinstance(text, str):
        raise EncodingError("base64 input must be a str")
    if not _B64_RE.match(text):
        raise EncodingError("malformed base64")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EncodingError("malformed base64") from exc
    # RFC 4648 §3.5: reject encodings whose unused pad bits are non-zero.
    if base64.b64encode(raw).decode("ascii") != text:
        raise EncodingError("non-canonical base64")
    return raw


def b64url_e(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5; RFC 7515 §2 "Base64url Encoding")."""
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode("ascii")


def b64url_d(text: str) -> bytes:
    """Strictly decode unpadded base64url (RFC 4648 §5); raise :class:`EncodingError`."""
    if not isinstance(text, str):
        raise EncodingError("base64url input must be a str")
    if not _B64URL_RE.match(text) or len(text) % 4 == 1:
        raise EncodingError("malformed base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise EncodingError("malformed base64url") from exc
    if b64url_e(raw) != text:
        raise EncodingError("non-canonical base64url")
    return raw
