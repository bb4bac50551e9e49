"""Ed25519 credential keys and signed entries over RFC 8785 bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import credential
from crypto.canonical import b64d, b64e, canonical_json
from crypto.credential import CredentialError

SK = credential.generate_key()
PK = credential.public_key_bytes(SK)


def _entry() -> dict:
    return {
        "type": "ballot",
        "election": "e1",
        "group": "g",
        "credential": b64e(PK),
        "prefix": b64e(b"p" * 32),
        "issuer_sig": b64e(b"s" * 256),
        "seq": 1,
        "ciphertext": b64e(b"c" * 100),
    }


def test_sign_and_verify() -> None:
    entry = _entry()
    entry["signature"] = credential.sign_entry(SK, entry)
    assert len(b64d(entry["signature"])) == 64
    assert credential.verify_entry(PK, entry)
    # The signature covers the canonical bytes without "signature": member order is irrelevant.
    assert credential.verify_entry(PK, dict(reversed(list(entry.items()))))
    assert credential.entry_signing_bytes(entry) == canonical_json(_entry())
    # Re-signing a signed entry ignores the old signature (Ed25519 is deterministic).
    assert credential.sign_entry(SK, entry) == entry["signature"]
    raw = credential.private_key_bytes(SK)
    assert credential.sign_entry(raw, entry) == entry["signature"]
    assert credential.public_key_bytes(credential.load_private_key(raw)) == PK


def test_verify_rejects_malformed() -> None:
    entry = _entry()
    entry["signature"] = credential.sign_entry(SK, entry)
    other = credential.public_key_bytes(credential.generate_key())
    sig = b64d(entry["signature"])
    assert not credential.verify_entry(other, entry)
    assert not credential.verify_entry(PK[:31], entry)
    assert not credential.verify_entry(PK, {k: v for k, v in entry.items() if k != "signature"})
    assert not credential.verify_entry(PK, {**entry, "signature": 5})
    assert not credential.verify_entry(PK, {**entry, "signature": entry["signature"][:-2]})
    assert not credential.verify_entry(PK, {**entry, "signature": b64e(sig + b"\x00")})
    assert not credential.verify_entry(PK, {**entry, "signature": " " + entry["signature"]})
    assert not credential.verify_entry(PK, {**entry, "seq": 2})
    assert not credential.verify_entry(PK, {**entry, "extra": None})
    assert not credential.verify_entry(PK, {**entry, "seq": float("nan")})
    assert not credential.verify_entry(PK, [entry])  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(position=st.integers(0, 63), mask=st.integers(1, 255))
def test_flipped_byte_in_signature_is_detected(position: int, mask: int) -> None:
    entry = _entry()
    sig = bytearray(b64d(credential.sign_entry(SK, entry)))
    sig[position] ^= mask
    assert not credential.verify_entry(PK, {**entry, "signature": b64e(bytes(sig))})


@settings(max_examples=50, deadline=None)
@given(field=st.sampled_from(sorted(_entry())), data=st.data())
def test_any_changed_field_is_detected(field: str, data: st.DataObject) -> None:
    entry = _entry()
    entry["signature"] = credential.sign_entry(SK, entry)
    value = entry[field]
    if isinstance(value, int):
        new = data.draw(st.integers().filter(lambda x: x != value))
    else:
        pos = data.draw(st.integers(0, len(value) - 1))
        ch = data.draw(st.characters().filter(lambda c: c != value[pos]))
        new = value[:pos] + ch + value[pos + 1 :]
    assert not credential.verify_entry(PK, {**entry, field: new})


def test_ballot_input_msg() -> None:
    assert credential.ballot_input_msg(b"p" * 32, PK) == b"p" * 32 + PK
    with pytest.raises(CredentialError):
        credential.ballot_input_msg(b"p" * 31, PK)
    with pytest.raises(CredentialError):
        credential.ballot_input_msg(b"p" * 32, PK + b"\x00")
    with pytest.raises(CredentialError):
        credential.load_private_key(b"x" * 31)
