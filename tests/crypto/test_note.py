"""Tests for crypto.note: C2SP signed-note, tlog-checkpoint, tlog-proof@v1."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto.merkle import MerkleLog, ProofError, leaf_hash
from crypto.note import (
    EM_DASH,
    MAX_SIGNATURES,
    Checkpoint,
    NoteError,
    Signer,
    TlogProof,
    Verifier,
    is_valid_key_name,
    key_id,
    open_checkpoint,
    open_note,
    parse_note,
    sign_checkpoint,
    sign_note,
    verify_tlog_proof,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "c2sp"
PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _vec(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


ORIGIN = "stembus.example/elections/e1"
LOG = Signer(ORIGIN, bytes(range(32)))
WITNESS = Signer("witness.example", bytes(range(1, 33)))
OTHER = Signer("other.example", bytes(range(2, 34)))


# --------------------------------------------------------------------------------------------
# Published vectors
# --------------------------------------------------------------------------------------------


def test_spec_verifier_key_and_note() -> None:
    v = _vec("signed_note_spec")
    ver = Verifier.from_key_string(v["vkey"])
    assert ver.name == "example.com/foo"
    assert ver.key_id.hex() == "530d903a"
    assert ver.key_string == v["vkey"]
    assert open_note(v["note"], [ver]) == (v["text"], ["example.com/foo"])
    assert open_note(v["note"].encode("utf-8"), ver)[0] == v["text"]


def test_go_reference_sign_is_byte_exact() -> None:
    v = _vec("go_sumdb_note")
    signer = Signer.from_key_string(v["skey"])
    assert signer.verifier_key == v["vkey"]
    assert signer.to_key_string() == v["skey"]
    # Ed25519 is deterministic, so our note must equal the published one.
    assert sign_note(v["text"], [signer]) == v["note"]
    enoch = Signer("EnochRoot", bytes.fromhex(v["enoch_seed_hex"]))
    assert enoch.verifier_key == v["enoch_vkey"]
    assert sign_note(v["text"], [signer, enoch]) == v["note_two_signatures"]


def test_go_reference_open() -> None:
    v = _vec("go_sumdb_note")
    peter = Verifier.from_key_string(v["vkey"])
    enoch = Verifier.from_key_string(v["enoch_vkey"])
    assert open_note(v["note"], [peter]) == (v["text"], ["PeterNeumann"])
    assert open_note(v["note_two_signatures"], [peter, enoch]) == (
        v["text"],
        ["PeterNeumann", "EnochRoot"],
    )
    # Only one key known: the other signature is ignored.
    assert open_note(v["note_two_signatures"], [enoch]) == (v["text"], ["EnochRoot"])
    with pytest.raises(NoteError):
        open_note(v["note"], [enoch])


def test_spec_examples_without_keys_parse() -> None:
    v = _vec("signed_note_spec_unkeyed")
    text, sigs = parse_note(v["note"])
    assert text == v["text"]  # the text contains an empty line: split at the LAST one
    assert [s.name for s in sigs] == ["quasimodo.example/salvatore"]
    with pytest.raises(NoteError):
        open_note(v["note"], [OTHER.verifier()])

    c = _vec("checkpoint_spec")
    text, sigs = parse_note(c["note"])
    cp = Checkpoint.from_text(text)
    assert (cp.origin, cp.size, cp.root_hash) == (
        c["origin"],
        c["size"],
        base64.b64decode(c["root"]),
    )
    assert cp.to_text() == text
    assert sigs[0].name == c["origin"]


def test_spec_tlog_proof_envelope() -> None:
    v = _vec("tlog_proof_spec")
    p = TlogProof.from_text(v["proof"])
    assert p.index == v["index"]
    assert len(p.proof) == v["proof_len"]
    assert p.extra is not None
    assert p.checkpoint.startswith("example.com/fancylog\n109482\n")
    assert p.to_text() == v["proof"]  # byte-exact round trip
    with pytest.raises(NoteError):  # elided signatures are not valid base64
        verify_tlog_proof(v["proof"], bytes(32), [OTHER.verifier()])


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


def test_key_id_definition() -> None:
    import hashlib

    want = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + LOG.public_key).digest()[:4]
    assert key_id(ORIGIN, LOG.public_key) == LOG.key_id == want


@pytest.mark.parametrize(
    "name,ok",
    [
        ("example.com/log", True),
        ("stembus.example/elections/42", True),
        ("ünïcode", True),
        ("", False),
        ("a b", False),
        ("a+b", False),
        ("a\tb", False),
        ("a\u00a0b", False),  # no-break space
        ("a\u2003b", False),  # em space
        ("a\nb", False),
        ("a\x01b", False),
    ],
)
def test_key_names(name: str, ok: bool) -> None:
    assert is_valid_key_name(name) is ok
    if not ok:
        with pytest.raises(NoteError):
            Signer(name, bytes(32))


def test_verifier_key_round_trip_and_rejections() -> None:
    vkey = LOG.verifier_key
    assert Verifier.from_key_string(vkey) == LOG.verifier()
    name, hid, b64 = vkey.split("+", 2)
    bad = [
        "",
        name,
        f"{name}+{hid}",
        f"{name}+{hid.upper()}+{b64}",
        f"{name}+{hid[:-1]}+{b64}",
        f"{name}+00000000+{b64}",
        f"other+{hid}+{b64}",
        f"{name}+{hid}+{b64[:-2]}",
        f"{name}+{hid}+" + base64.b64encode(b"\x02" + LOG.public_key).decode(),
        f"{name}+{hid}+" + base64.b64encode(LOG.public_key).decode(),
    ]
    for k in bad:
        with pytest.raises(NoteError):
            Verifier.from_key_string(k)
    with pytest.raises(NoteError):
        Signer.from_key_string(vkey)
    assert Signer.from_key_string(LOG.to_key_string()).public_key == LOG.public_key
    assert "PRIVATE" not in repr(LOG)


def test_generate() -> None:
    s = Signer.generate("gen.example")
    assert len(s.private_key_bytes()) == 32
    assert Signer("gen.example", s.private_key_bytes()).verifier_key == s.verifier_key


# --------------------------------------------------------------------------------------------
# Notes
# --------------------------------------------------------------------------------------------

TEXT = "hello\nworld\n"


def test_round_trip_multiple_signers() -> None:
    note = sign_note(TEXT, [LOG, WITNESS])
    assert note.startswith(TEXT + "\n" + EM_DASH + " " + ORIGIN + " ")
    assert open_note(note, [LOG.verifier(), WITNESS.verifier()]) == (
        TEXT,
        [ORIGIN, "witness.example"],
    )
    assert open_note(note, [WITNESS.verifier()]) == (TEXT, ["witness.example"])


def test_unknown_key_ignored_known_verifies() -> None:
    note = sign_note(TEXT, [OTHER, LOG])
    assert open_note(note, [LOG.verifier()]) == (TEXT, [ORIGIN])


def test_same_name_different_key_is_unknown() -> None:
    # Same name, different key (so different ID): must be ignored, not failed.
    impostor = Signer(ORIGIN, bytes(range(5, 37)))
    note = sign_note(TEXT, [impostor, LOG])
    assert open_note(note, [LOG.verifier()]) == (TEXT, [ORIGIN])
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_note(sign_note(TEXT, [impostor]), [LOG.verifier()])


def test_no_known_key_rejected() -> None:
    with pytest.raises(NoteError):
        open_note(sign_note(TEXT, [OTHER]), [LOG.verifier()])
    with pytest.raises(NoteError):
        open_note(sign_note(TEXT, [OTHER]), [])


def test_tampered_text_and_signature() -> None:
    note = sign_note(TEXT, [LOG])
    with pytest.raises(NoteError):
        open_note(note.replace("hello", "hellO"), [LOG.verifier()])
    text, sigs = parse_note(note)
    sig = sigs[0]
    forged = sig.__class__(sig.name, sig.key_id, bytes([sig.signature[0] ^ 1]) + sig.signature[1:])
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(text + "\n" + forged.line(), [LOG.verifier()])
    # A bad signature by a known key rejects the note even if another known key verifies.
    with pytest.raises(NoteError):
        open_note(
            text + "\n" + forged.line() + sign_note(TEXT, [WITNESS]).split("\n\n")[1],
            [LOG.verifier(), WITNESS.verifier()],
        )


def test_duplicate_signature_counted_once() -> None:
    note = sign_note(TEXT, [LOG])
    line = note.split("\n\n", 1)[1]
    assert open_note(note + line, [LOG.verifier()]) == (TEXT, [ORIGIN])


def test_text_with_blank_lines() -> None:
    text = "a\n\nb\n\n"
    note = sign_note(text, [LOG])
    assert open_note(note, [LOG.verifier()])[0] == text


def _sig_line(note: str) -> str:
    return note.split("\n\n")[-1]


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda n: n.replace("\n\n", "\n", 1), id="no-blank-line"),
        pytest.param(lambda n: n[:-1], id="no-final-newline"),
        pytest.param(lambda n: n + "\n", id="trailing-blank"),
        pytest.param(lambda n: n.replace(EM_DASH, "-"), id="hyphen-not-em-dash"),
        pytest.param(lambda n: n.replace(EM_DASH + " ", EM_DASH), id="no-space-after-dash"),
        pytest.param(lambda n: n.replace(f" {ORIGIN} ", f" {ORIGIN}  "), id="double-space"),
        pytest.param(lambda n: n.replace(f" {ORIGIN} ", " "), id="no-name"),
        pytest.param(lambda n: n.replace(f" {ORIGIN} ", f" {ORIGIN}+x "), id="plus-in-name"),
        pytest.param(lambda n: n[:-2] + "!\n", id="bad-base64"),
        pytest.param(lambda n: n[:-3] + "\n", id="truncated-base64"),
        pytest.param(lambda n: n.replace("hello", "hel\x00lo"), id="nul-in-text"),
        pytest.param(lambda n: n.replace("hello", "hel\rlo"), id="cr-in-text"),
        pytest.param(lambda n: n.replace("hello", "hel\tlo"), id="tab-in-text"),
        pytest.param(lambda n: n.replace("hello", "hel\ud800lo"), id="lone-surrogate"),
        pytest.param(
            lambda n: n.split("\n\n")[0] + "\n\n" + _sig_line(n)[:-1], id="sig-no-newline"
        ),
        pytest.param(lambda n: n.split("\n\n")[0] + "\n\n", id="no-signatures"),
        pytest.param(lambda n: n + "junk\n", id="junk-line"),
        pytest.param(lambda n: n + n.split("\n\n")[1] * MAX_SIGNATURES, id="too-many-sigs"),
        pytest.param(lambda n: "x" * (1 << 20) + n, id="too-long"),
    ],
)
def test_malformed_notes_rejected(mutate) -> None:  # type: ignore[no-untyped-def]
    note = sign_note("hello\n", [LOG])
    assert open_note(note, [LOG.verifier()])
    with pytest.raises(NoteError):
        open_note(mutate(note), [LOG.verifier()])


def test_short_signature_rejected() -> None:
    line = f"{EM_DASH} {ORIGIN} " + base64.b64encode(LOG.key_id).decode() + "\n"
    with pytest.raises(NoteError):
        open_note("hello\n\n" + line, [LOG.verifier()])


def test_non_canonical_base64_rejected() -> None:
    note = sign_note(TEXT, [LOG])
    b64 = _sig_line(note).rsplit(" ", 1)[1].rstrip("\n")
    assert b64.endswith("=")
    # 68 bytes -> one padding char; the last data char carries 2 unused bits,
    # so flipping its lowest bit decodes to the same bytes.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    stripped = b64.rstrip("=")
    other = alphabet[alphabet.index(stripped[-1]) ^ 1]
    mutated = note.replace(b64, stripped[:-1] + other + "=" * (len(b64) - len(stripped)))
    assert base64.b64decode(mutated.rsplit(" ", 1)[1]) == base64.b64decode(b64)
    with pytest.raises(NoteError, match="non-canonical"):
        open_note(mutated, [LOG.verifier()])


def test_invalid_bytes_rejected() -> None:
    note = sign_note(TEXT, [LOG]).encode()
    with pytest.raises(NoteError):
        open_note(note.replace(b"hello", b"hel\xfflo"), [LOG.verifier()])


def test_sign_rejects_bad_text() -> None:
    for text in ["no newline", "a\x00\n", "", "a\rb\n"]:
        with pytest.raises(NoteError):
            sign_note(text, [LOG])
    with pytest.raises(NoteError):
        sign_note(TEXT, [])


def test_duplicate_verifiers_are_fine() -> None:
    v = LOG.verifier()
    assert open_note(sign_note(TEXT, LOG), [v, LOG.verifier()])[1] == [ORIGIN]


@PROPS
@given(st.data())
def test_flipped_byte_in_note_detected(data: st.DataObject) -> None:
    note = sign_note(TEXT, [LOG]).encode("utf-8")
    pos = data.draw(st.integers(0, len(note) - 1))
    bit = data.draw(st.integers(0, 7))
    ba = bytearray(note)
    ba[pos] ^= 1 << bit
    with pytest.raises(NoteError):
        open_note(bytes(ba), [LOG.verifier()])


@PROPS
@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=30),
        min_size=1,
        max_size=6,
    )
)
def test_note_round_trip(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    note = sign_note(text, [LOG, WITNESS])
    assert open_note(note, [LOG.verifier()]) == (text, [ORIGIN])


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


def _tree(n: int) -> tuple[MerkleLog, list[bytes]]:
    leaves = [leaf_hash(b"entry %d" % i) for i in range(n)]
    log = MerkleLog()
    log.append_many(leaves)
    return log, leaves


def test_checkpoint_format_and_round_trip() -> None:
    root = bytes(range(32))
    cp = Checkpoint(ORIGIN, 12, root)
    assert cp.to_text() == f"{ORIGIN}\n12\n{base64.b64encode(root).decode()}\n"
    assert Checkpoint.from_text(cp.to_text()) == cp
    cp2 = Checkpoint(ORIGIN, 0, root, ("ext one", "ext2"))
    assert cp2.to_text().endswith("\next one\next2\n")
    assert Checkpoint.from_text(cp2.to_text()) == cp2
    note = sign_checkpoint(cp, LOG)
    assert open_checkpoint(note, [LOG.verifier()], origin=ORIGIN) == cp


@pytest.mark.parametrize(
    "text",
    [
        "origin\n12\n",  # too few lines
        "\n12\n" + base64.b64encode(bytes(32)).decode() + "\n",  # empty origin
        "o\n012\n" + base64.b64encode(bytes(32)).decode() + "\n",  # leading zero
        "o\n+12\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n1_2\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n\u0661\n" + base64.b64encode(bytes(32)).decode() + "\n",  # Arabic-Indic digit
        "o\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n12\n" + base64.b64encode(bytes(31)).decode() + "\n",  # short root
        "o\n12\nnot base64\n",
        "o\n12\n" + base64.b64encode(bytes(32)).decode() + "\n\n",  # empty extension
        "o\n12\n" + base64.b64encode(bytes(32)).decode(),  # no final newline
    ],
)
def test_malformed_checkpoints(text: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.from_text(text)


def test_checkpoint_signed_by_wrong_key_or_origin() -> None:
    cp = Checkpoint(ORIGIN, 3, bytes(32))
    with pytest.raises(NoteError):
        sign_checkpoint(cp, WITNESS)
    # Signed only by a witness: the log's own signature is required.
    note = sign_note(cp.to_text(), [WITNESS])
    with pytest.raises(NoteError, match="log's key"):
        open_checkpoint(note, [WITNESS.verifier(), LOG.verifier()])
    note = sign_checkpoint(cp, LOG, WITNESS)
    assert open_checkpoint(note, [WITNESS.verifier(), LOG.verifier()]) == cp
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(note, [LOG.verifier()], origin="stembus.example/elections/e2")


# --------------------------------------------------------------------------------------------
# tlog-proof@v1
# --------------------------------------------------------------------------------------------


def _receipt(n: int, index: int, extra: bytes | None = None) -> tuple[str, list[bytes]]:
    log, leaves = _tree(n)
    cp = Checkpoint(ORIGIN, n, log.root())
    p = TlogProof(index, tuple(log.inclusion_proof(index, n)), sign_checkpoint(cp, LOG), extra)
    return p.to_text(), leaves


def test_tlog_proof_format() -> None:
    text, leaves = _receipt(5, 2, extra=b"hi")
    lines = text.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1] == "extra aGk="
    assert lines[2] == "index 2"
    assert lines[3:6] != [""] and lines[6] == ""  # 3 proof hashes for index 2 of 5
    assert lines[7] == ORIGIN and lines[8] == "5"
    p, cp = verify_tlog_proof(text, leaves[2], [LOG.verifier()], origin=ORIGIN)
    assert p.extra == b"hi" and cp.size == 5
    assert TlogProof.from_text(text).to_text() == text


def test_tlog_proof_single_entry_has_no_hashes() -> None:
    text, leaves = _receipt(1, 0)
    assert "index 0\n\n" + ORIGIN in text
    verify_tlog_proof(text, leaves[0], LOG.verifier())


def test_tlog_proof_rejections() -> None:
    text, leaves = _receipt(20, 7)
    with pytest.raises(ProofError):
        verify_tlog_proof(text, leaves[8], [LOG.verifier()])
    with pytest.raises(ProofError):
        verify_tlog_proof(text.replace("index 7", "index 6"), leaves[7], [LOG.verifier()])
    with pytest.raises(NoteError):
        verify_tlog_proof(text, leaves[7], [WITNESS.verifier()])
    for bad in [
        text.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
        text.replace("index 7", "index 07"),
        text.replace("index 7", "index  7"),
        text.replace("index 7", "idx 7"),
        text.replace("index 7\n", "index 7\nnot-base64\n"),
        text.replace("index 7\n", "index 7\n" + base64.b64encode(bytes(31)).decode() + "\n"),
        text.replace("index 7\n", "extra \nindex 7\n"),
        text.split("\n\n")[0],
    ]:
        with pytest.raises(NoteError):
            verify_tlog_proof(bad, leaves[7], [LOG.verifier()])


@PROPS
@given(st.integers(1, 64), st.data())
def test_tlog_proof_flipped_byte_detected(n: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, n - 1))
    text, leaves = _receipt(n, index)
    verify_tlog_proof(text, leaves[index], [LOG.verifier()])
    raw = bytearray(text.encode())
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(ValueError):  # NoteError or ProofError
        verify_tlog_proof(bytes(raw), leaves[index], [LOG.verifier()])
