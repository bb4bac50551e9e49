"""Ballot sealing: padding, HPKE seal/open, the known-answer test, tamper detection."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import sealing
from crypto.canonical import b64d
from crypto.sealing import OpenError, PaddingError, SealingError

from ._vectors import load_json

KAT = load_json("sealing_kat.json")
SK, PK = sealing.generate_keypair()


def test_known_answer_still_opens() -> None:
    sk, pk = b64d(KAT["private_key"]), b64d(KAT["public_key"])
    ct = b64d(KAT["ciphertext"])
    size = KAT["ballot_size"]
    assert sealing.public_key_from_private(sk) == pk
    assert len(ct) == sealing.ciphertext_length(size) == 32 + size + 16
    padded = sealing.open_ballot(sk, ct, KAT["election_id"], KAT["group"], ballot_size=size)
    assert padded == b64d(KAT["plaintext_padded"])
    assert sealing.decode_ballot(padded, size) == KAT["ballot"]
    with pytest.raises(OpenError):
        sealing.open_ballot(sk, ct, KAT["election_id"], KAT["group"] + "x")


def test_info_layout() -> None:
    assert sealing.info_for("e1", "g") == b"stembus/ballot/v1\ne1\ng"
    assert sealing.info_for(b"e1", b"g") == b"stembus/ballot/v1\ne1\ng"
    with pytest.raises(SealingError):
        sealing.info_for("e\n1", "g")


def test_keys() -> None:
    sk, pk = sealing.generate_keypair()
    assert len(sk) == len(pk) == 32
    assert sealing.public_key_from_private(sk) == pk
    with pytest.raises(SealingError):
        sealing.seal(pk[:31], b"x", "e", "g")
    with pytest.raises(SealingError):
        sealing.public_key_from_private(sk + b"\x00")


@settings(max_examples=50, deadline=None)
@given(plaintext=st.binary(max_size=300), extra=st.integers(1, 64))
def test_pad_unpad_round_trip(plaintext: bytes, extra: int) -> None:
    size = len(plaintext) + extra
    padded = sealing.pad(plaintext, size)
    assert len(padded) == size
    assert sealing.unpad(padded) == plaintext
    assert sealing.unpad(padded, size) == plaintext


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=64))
def test_unpad_is_strict(data: bytes) -> None:
    # Whatever unpad accepts, pad reproduces byte for byte: one padded form per plaintext.
    try:
        plain = sealing.unpad(data)
    except PaddingError:
        return
    assert sealing.pad(plain, len(data)) == data


def test_pad_errors() -> None:
    with pytest.raises(PaddingError):
        sealing.pad(b"abc", 3)
    with pytest.raises(PaddingError):
        sealing.pad(b"", 0)
    assert sealing.pad(b"abc", 4) == b"abc\x80"


@pytest.mark.parametrize(
    "padded",
    [b"", b"\x00\x00", b"abc", b"abc\x00", b"abc\x81\x00", b"a\x80\x01", b"a\x80\x00\x01", b"\x01"],
)
def test_unpad_rejects(padded: bytes) -> None:
    with pytest.raises(PaddingError):
        sealing.unpad(padded)


def test_unpad_rejects_wrong_size() -> None:
    with pytest.raises(PaddingError):
        sealing.unpad(sealing.pad(b"abc", 10), 11)


def test_encode_decode_ballot() -> None:
    ballot = {"election": "e", "group": "g", "selections": [{"list": 2}]}
    padded = sealing.encode_ballot(ballot, 128)
    assert sealing.decode_ballot(padded, 128) == ballot
    for raw in (b'{"b":1, "a":2}', b"[1]", b"\xff", b'{"a":1,"a":2}x'):
        with pytest.raises(PaddingError):
            sealing.decode_ballot(sealing.pad(raw, 64))


@settings(max_examples=30, deadline=None)
@given(plaintext=st.binary(max_size=200), election=st.text(max_size=20), group=st.text(max_size=20))
def test_seal_open_round_trip(plaintext: bytes, election: str, group: str) -> None:
    election = election.replace("\n", "")
    padded = sealing.pad(plaintext, 256)
    ct = sealing.seal(PK, padded, election, group)
    assert len(ct) == sealing.ciphertext_length(256)
    assert sealing.open_ballot(SK, ct, election, group, ballot_size=256) == padded


@settings(max_examples=50, deadline=None)
@given(position=st.integers(0, sealing.ciphertext_length(64) - 1), mask=st.integers(1, 255))
def test_flipped_byte_in_sealed_ballot_is_detected(position: int, mask: int) -> None:
    ct = bytearray(sealing.seal(PK, sealing.pad(b"vote", 64), "e", "g"))
    ct[position] ^= mask
    with pytest.raises(OpenError):
        sealing.open_ballot(SK, bytes(ct), "e", "g")


def test_open_rejects_wrong_context_key_and_length() -> None:
    ct = sealing.seal(PK, sealing.pad(b"vote", 64), "e", "g")
    other_sk, _ = sealing.generate_keypair()
    for args in ((SK, ct, "e", "h"), (SK, ct, "f", "g"), (other_sk, ct, "e", "g")):
        with pytest.raises(OpenError):
            sealing.open_ballot(*args)
    with pytest.raises(OpenError):
        sealing.open_ballot(SK, ct, "e", "g", ballot_size=65)
    for short in (b"", ct[:47], ct[:-1]):
        with pytest.raises(OpenError):
            sealing.open_ballot(SK, short, "e", "g")
