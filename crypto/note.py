"""C2SP signed notes, checkpoints and tlog proofs, with Ed25519 (RFC 8032) keys.

Specifications (c2sp.org, repository C2SP/C2SP), implemented byte-exactly:

* **signed-note** (``signed-note.md``): a note is a UTF-8 text ending in a newline,
  a blank line, then one or more signature lines ``— <key name> <base64(key ID ||
  signature)>`` (U+2014 EM DASH, space, name, space, base64, newline). No ASCII
  control characters other than newline anywhere. Key names are non-empty and
  contain no Unicode space and no ``+``. Section "Signatures": verifiers MUST
  ignore signatures from unknown keys (a key is identified by name *and* ID),
  MUST verify those from known keys, SHOULD reject the whole note if one fails
  (we do), and MUST reject a note with no verified signature. The spec asks
  verifiers to bound the number of signatures (at least 16 accepted): we accept
  up to :data:`MAX_SIGNATURES` and :data:`MAX_NOTE_SIZE` bytes.

  Ed25519 (signature type 0x01, section "Ed25519 signatures")::

      key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]

  The verifier key string (from the golang.org/x/mod/sumdb/note encoding the spec
  builds on) is ``<name>+<8 lowercase hex of key ID>+<base64(0x01 || public key)>``.

* **tlog-checkpoint** (``tlog-checkpoint.md``, "Note text"): origin line, tree size
  in ASCII decimal without leading zeros, base64 root hash (RFC 6962 / RFC 9162
  Merkle tree, 32 bytes), then optional non-empty extension lines. Section
  "Signatures": the log's key name should equal the origin; Stembus's log key name
  *is* the origin (docs/protocol.md), and :func:`open_checkpoint` requires that.

* **tlog-proof@v1** (``tlog-proof.md``, "Format")::

      c2sp.org/tlog-proof@v1
      extra <base64>            (optional)
      index <decimal>
      <base64 hash>             (zero or more: inclusion proof, leaf side first)
      <empty line>
      <signed checkpoint note, verbatim>

Base64 is RFC 4648 §4 standard alphabet with padding. We additionally require it
to be *canonical* (re-encoding gives the same string), so no two different
strings decode to one signature or hash -- a flipped bit anywhere in a note
changes what it means or makes it malformed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from crypto import merkle

__all__ = [
    "ALG_ED25519",
    "EM_DASH",
    "MAX_NOTE_SIZE",
    "MAX_SIGNATURES",
    "TLOG_PROOF_HEADER",
    "NoteError",
    "NoteSignature",
    "Signer",
    "Verifier",
    "Checkpoint",
    "TlogProof",
    "is_valid_key_name",
    "key_id",
    "parse_note",
    "sign_note",
    "open_note",
    "sign_checkpoint",
    "open_checkpoint",
    "verify_tlog_proof",
    "PROMISE_HEADER",
    "BallotPromise",
    "sign_promise",
    "open_promise",
]

ALG_ED25519 = 0x01
EM_DASH = "\u2014"
_SIG_PREFIX = EM_DASH + " "
MAX_NOTE_SIZE = 1 << 20
MAX_SIGNATURES = 100
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"

# Tree size / index: ASCII decimal, no leading zeros (str.isdigit would accept
# non-ASCII digits, int() would accept "+1", " 1" and "1_0").
_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}", re.ASCII)
# C0 controls other than newline are forbidden in notes.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A note, key, checkpoint or proof text is malformed or does not verify."""


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def is_valid_key_name(name: str) -> bool:
    """signed-note: non-empty, no Unicode space (str.isspace covers Zs and the
    whitespace controls), no '+' (it delimits verifier key strings)."""
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(c.isspace() for c in name)
        and _CONTROL.search(name) is None
        and _is_utf8(name)
    )


def _is_utf8(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot appear in a UTF-8 note
        return False
    return True


def _b64decode(s: str, what: str) -> bytes:
    """Strict, canonical standard base64."""
    try:
        raw = base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(f"{what}: invalid base64") from None
    if base64.b64encode(raw).decode("ascii") != s:
        raise NoteError(f"{what}: non-canonical base64")
    return raw


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def key_id(name: str, public_key: bytes, alg: int = ALG_ED25519) -> bytes:
    """signed-note key ID: SHA-256(name || 0x0A || alg || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()[:4]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


class Verifier:
    """An Ed25519 note verifier: key name + 32-byte public key."""

    __slots__ = ("name", "public_key", "key_id", "_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if len(public_key) != 32:
            raise NoteError("Ed25519 public key must be 32 bytes")
        self.name = name
        self.public_key = bytes(public_key)
        self.key_id = key_id(name, self.public_key)
        self._key = Ed25519PublicKey.from_public_bytes(self.public_key)

    @classmethod
    def from_key_string(cls, vkey: str) -> Verifier:
        """Parse ``<name>+<hex key ID>+<base64(0x01 || public key)>``; the ID must match."""
        parts = vkey.split("+", 2)  # the base64 part may itself contain '+'
        if len(parts) != 3:
            raise NoteError("verifier key: expected name+keyid+key")
        name, hex_id, b64 = parts
        if not is_valid_key_name(name):
            raise NoteError("verifier key: invalid key name")
        if not _KEY_ID_HEX.fullmatch(hex_id):
            raise NoteError("verifier key: key ID must be 8 lowercase hex digits")
        raw = _b64decode(b64, "verifier key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("verifier key: not an Ed25519 (type 0x01) key")
        v = cls(name, raw[1:])
        if v.key_id.hex() != hex_id:
            raise NoteError("verifier key: key ID does not match name and key")
        return v

    @property
    def key_string(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([ALG_ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Verifier)
            and other.name == self.name
            and other.public_key == self.public_key
        )

    def __hash__(self) -> int:
        return hash((self.name, self.public_key))

    def __repr__(self) -> str:
        return f"Verifier({self.key_string!r})"


class Signer:
    """An Ed25519 note signer: key name + 32-byte private key (RFC 8032 seed)."""

    __slots__ = ("name", "public_key", "key_id", "_key")

    def __init__(self, name: str, private_key: bytes) -> None:
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if len(private_key) != 32:
            raise NoteError("Ed25519 private key must be 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(bytes(private_key))
        self.name = name
        self.public_key = _raw_public(self._key.public_key())
        self.key_id = key_id(name, self.public_key)

    @classmethod
    def generate(cls, name: str) -> Signer:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = Ed25519PrivateKey.generate().private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        )
        return cls(name, seed)

    @classmethod
    def from_key_string(cls, skey: str) -> Signer:
        """Parse the Go sumdb/note private key string ``PRIVATE+KEY+<name>+<hex id>+<b64>``."""
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise NoteError("signer key: expected PRIVATE+KEY+name+keyid+key")
        _, _, name, hex_id, b64 = parts
        if not _KEY_ID_HEX.fullmatch(hex_id):
            raise NoteError("signer key: key ID must be 8 lowercase hex digits")
        raw = _b64decode(b64, "signer key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("signer key: not an Ed25519 (type 0x01) key")
        s = cls(name, raw[1:])
        if s.key_id.hex() != hex_id:
            raise NoteError("signer key: key ID does not match name and key")
        return s

    def private_key_bytes(self) -> bytes:
        """The 32-byte seed, for storing encrypted at rest."""
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        return self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def to_key_string(self) -> str:
        """The Go sumdb/note private key string (secret!)."""
        raw = bytes([ALG_ED25519]) + self.private_key_bytes()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{_b64(raw)}"

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.public_key)

    @property
    def verifier_key(self) -> str:
        return self.verifier().key_string

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:  # never show the private key
        return f"Signer({self.name!r}, key_id={self.key_id.hex()})"


# --------------------------------------------------------------------------------------------
# Notes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{_SIG_PREFIX}{self.name} {_b64(self.key_id + self.signature)}\n"


def _check_note_chars(s: str, what: str) -> None:
    if _CONTROL.search(s):
        raise NoteError(f"{what}: control character")
    if not _is_utf8(s):
        raise NoteError(f"{what}: not valid UTF-8")


def _check_text(text: str) -> None:
    if not isinstance(text, str):
        raise NoteError("note text must be str")
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    _check_note_chars(text, "note text")


def sign_note(text: str, signers: Sequence[Signer] | Signer) -> str:
    """Sign ``text`` (which must end in a newline) with each signer; return the note."""
    if isinstance(signers, Signer):
        signers = [signers]
    if not signers:
        raise NoteError("at least one signer is needed")
    _check_text(text)
    msg = text.encode("utf-8")
    lines = [NoteSignature(s.name, s.key_id, s.sign(msg)).line() for s in signers]
    return text + "\n" + "".join(lines)


def _as_text(note: str | bytes) -> str:
    if isinstance(note, bytes | bytearray):
        if len(note) > MAX_NOTE_SIZE:
            raise NoteError("note too large")
        try:
            return bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("note is not valid UTF-8") from None
    if not isinstance(note, str):
        raise NoteError("note must be str or bytes")
    if len(note) > MAX_NOTE_SIZE:  # cheap early bound: UTF-8 is >= 1 byte per char
        raise NoteError("note too large")
    return note


def parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a note into text and signature lines WITHOUT verifying anything.

    Checks the syntax of signed-note "Format": UTF-8, no control characters but
    newline, text ending in newline, separated by the last blank line from one or
    more well-formed signature lines. Use :func:`open_note` to trust the text.
    """
    s = _as_text(note)
    _check_note_chars(s, "note")
    if len(s.encode("utf-8")) > MAX_NOTE_SIZE:
        raise NoteError("note too large")
    split = s.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before the signatures")
    text, block = s[: split + 1], s[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteError("signature block must be non-empty and end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    sigs: list[NoteSignature] = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise NoteError("signature line must start with an em dash and a space")
        name, sep, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not sep or not is_valid_key_name(name):
            raise NoteError("signature line: invalid key name")
        raw = _b64decode(b64, "signature")
        if len(raw) < 5:
            raise NoteError("signature too short")
        sigs.append(NoteSignature(name, raw[:4], raw[4:]))
    return text, sigs


def _verifier_map(verifiers: Iterable[Verifier] | Verifier) -> dict[tuple[str, bytes], Verifier]:
    if isinstance(verifiers, Verifier):
        verifiers = [verifiers]
    known: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        k = (v.name, v.key_id)
        if k in known and known[k] != v:
            # Two different keys with the same name and ID: we could not tell
            # which one a signature claims to be from.
            raise NoteError(f"ambiguous verifier keys for {v.name}+{v.key_id.hex()}")
        known[k] = v
    return known


def open_note(note: str | bytes, verifiers: Iterable[Verifier] | Verifier) -> tuple[str, list[str]]:
    """Verify a note; return ``(text, names of the known keys that signed it)``.

    Signatures by unknown keys (no verifier with that name AND key ID) are
    ignored; a bad signature by a known key rejects the note; a note without any
    verified signature is rejected. Repeated signatures by one key count once.
    """
    known = _verifier_map(verifiers)
    text, sigs = parse_note(note)
    msg = text.encode("utf-8")
    verified: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for sig in sigs:
        k = (sig.name, sig.key_id)
        v = known.get(k)
        if v is None or k in seen:
            continue
        seen.add(k)
        if not v.verify(msg, sig.signature):
            raise NoteError(f"invalid signature by known key {sig.name}+{sig.key_id.hex()}")
        verified.append(sig.name)
    if not verified:
        raise NoteError("no signature by a known key")
    return text, verified


# --------------------------------------------------------------------------------------------
# Checkpoints (c2sp.org/tlog-checkpoint)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint note text: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise NoteError("checkpoint origin must be a non-empty line")
        _check_note_chars(self.origin, "checkpoint origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise NoteError("checkpoint size must be an integer >= 0")
        if len(self.root_hash) != merkle.HASH_SIZE:
            raise NoteError("checkpoint root hash must be 32 bytes")
        object.__setattr__(self, "root_hash", bytes(self.root_hash))
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for e in self.extensions:
            if not isinstance(e, str) or not e or "\n" in e:
                raise NoteError("extension lines must be non-empty single lines")
            _check_note_chars(e, "checkpoint extension")

    def to_text(self) -> str:
        """The note text (ends with a newline), to be signed."""
        lines = [self.origin, str(self.size), _b64(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text (not the signed note; see open_checkpoint)."""
        _check_text(text)
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("checkpoint needs origin, size and root hash lines")
        origin, size, root, *ext = lines
        if not _DECIMAL.fullmatch(size):
            raise NoteError("checkpoint size is not a decimal without leading zeros")
        root_hash = _b64decode(root, "checkpoint root hash")
        return cls(origin, int(size), root_hash, tuple(ext))

    def sign(self, signers: Sequence[Signer] | Signer) -> str:
        return sign_note(self.to_text(), signers)


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer, *cosigners: Signer) -> str:
    """Sign a checkpoint with the log key, whose name must be the origin (docs/protocol.md)."""
    if signer.name != checkpoint.origin:
        raise NoteError("the log key name must equal the checkpoint origin")
    return sign_note(checkpoint.to_text(), [signer, *cosigners])


def open_checkpoint(
    note: str | bytes,
    verifiers: Iterable[Verifier] | Verifier,
    origin: str | None = None,
) -> Checkpoint:
    """Verify a signed checkpoint; the log's key (key name == origin) must have signed it.

    ``origin``, if given, is the origin the caller expects (the election's log).
    """
    text, names = open_note(note, verifiers)
    cp = Checkpoint.from_text(text)
    if origin is not None and cp.origin != origin:
        raise NoteError(f"checkpoint origin {cp.origin!r} is not {origin!r}")
    if cp.origin not in names:
        raise NoteError("checkpoint is not signed by the log's key")
    return cp


# --------------------------------------------------------------------------------------------
# tlog-proof@v1 (c2sp.org/tlog-proof)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlogProof:
    """A tlog-proof@v1: entry index, inclusion proof, signed checkpoint, optional extra data.

    ``checkpoint`` is the signed checkpoint note, kept verbatim (its signatures
    are what make the proof offline-verifiable).
    """

    index: int
    proof: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if isinstance(self.index, bool) or not isinstance(self.index, int) or self.index < 0:
            raise NoteError("index must be an integer >= 0")
        object.__setattr__(self, "proof", tuple(bytes(p) for p in self.proof))
        for p in self.proof:
            if len(p) != merkle.HASH_SIZE:
                raise NoteError("inclusion proof hashes must be 32 bytes")
        if self.extra is not None and len(self.extra) == 0:
            # "extra " with nothing after it would not round-trip; omit instead.
            raise NoteError("extra data must be non-empty or None")
        if not self.checkpoint:
            raise NoteError("a signed checkpoint is required")

    def to_text(self) -> str:
        out = [TLOG_PROOF_HEADER + "\n"]
        if self.extra is not None:
            out.append(f"extra {_b64(self.extra)}\n")
        out.append(f"index {self.index}\n")
        out.extend(_b64(p) + "\n" for p in self.proof)
        out.append("\n")
        out.append(self.checkpoint)
        return "".join(out)

    @classmethod
    def from_text(cls, text: str | bytes) -> TlogProof:
        """Parse the proof envelope (the checkpoint is verified by verify_tlog_proof)."""
        s = _as_text(text)
        _check_note_chars(s, "tlog-proof")
        if len(s.encode("utf-8")) > MAX_NOTE_SIZE:
            raise NoteError("tlog-proof too large")
        pos = 0

        def next_line() -> str:
            nonlocal pos
            end = s.find("\n", pos)
            if end < 0:
                raise NoteError("tlog-proof: truncated")
            line = s[pos:end]
            pos = end + 1
            return line

        if next_line() != TLOG_PROOF_HEADER:
            raise NoteError("tlog-proof: first line must be " + TLOG_PROOF_HEADER)
        line = next_line()
        extra = None
        if line.startswith("extra "):
            extra = _b64decode(line[len("extra ") :], "tlog-proof extra")
            line = next_line()
        if not line.startswith("index "):
            raise NoteError("tlog-proof: expected index line")
        idx = line[len("index ") :]
        if not _DECIMAL.fullmatch(idx):
            raise NoteError("tlog-proof: index is not a decimal without leading zeros")
        proof: list[bytes] = []
        while (line := next_line()) != "":
            h = _b64decode(line, "tlog-proof hash")
            if len(h) != merkle.HASH_SIZE:
                raise NoteError("tlog-proof: hash is not 32 bytes")
            proof.append(h)
        return cls(int(idx), tuple(proof), s[pos:], extra)


def verify_tlog_proof(
    proof: str | bytes | TlogProof,
    leaf_hash: bytes,
    verifiers: Iterable[Verifier] | Verifier,
    origin: str | None = None,
) -> tuple[TlogProof, Checkpoint]:
    """Verify a tlog-proof for an entry with ``leaf_hash`` (SHA-256(0x00 || entry bytes)).

    Checks the checkpoint's log signature (and origin, if given) and the
    inclusion proof against its root. Raises NoteError or merkle.ProofError (both
    ValueError subclasses).
    """
    p = proof if isinstance(proof, TlogProof) else TlogProof.from_text(proof)
    cp = open_checkpoint(p.checkpoint, verifiers, origin)
    merkle.verify_inclusion(leaf_hash, p.index, cp.size, p.proof, cp.root_hash)
    return p, cp


# --------------------------------------------------------------------------------------------
# Ballot promises (Stembus, docs/protocol.md "Casting" step 4; docs/client-protocol.md)
# --------------------------------------------------------------------------------------------

PROMISE_HEADER = "stembus/ballot-promise/v1"
_HEX32 = re.compile(r"[0-9a-f]{64}", re.ASCII)


@dataclass(frozen=True)
class BallotPromise:
    """A signed note by the log key: "the entry with this hash will be in the log of
    ``origin`` no later than the close of voting". Note text, three lines::

        stembus/ballot-promise/v1
        <origin>
        <entry hash, 64 lowercase hex>

    Nothing in it orders the ballot among others (no time, no counter), so the same entry
    always gets byte-identical promise text (Ed25519 signatures are deterministic, RFC 8032),
    and a retry gets the promise it lost. It cannot be mistaken for a checkpoint: a checkpoint's
    second line is a tree size in decimal, this one's is the origin; and a checkpoint's first
    line is the origin, which never equals :data:`PROMISE_HEADER` (an origin has ``/elections/``).
    """

    origin: str
    entry_hash: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise NoteError("promise origin must be a non-empty line")
        _check_note_chars(self.origin, "promise origin")
        if self.origin == PROMISE_HEADER:
            raise NoteError("promise origin cannot be the promise header")
        if len(self.entry_hash) != merkle.HASH_SIZE:
            raise NoteError("promise entry hash must be 32 bytes")
        object.__setattr__(self, "entry_hash", bytes(self.entry_hash))

    def to_text(self) -> str:
        return f"{PROMISE_HEADER}\n{self.origin}\n{self.entry_hash.hex()}\n"

    @classmethod
    def from_text(cls, text: str) -> BallotPromise:
        _check_text(text)
        lines = text[:-1].split("\n")
        if len(lines) != 3 or lines[0] != PROMISE_HEADER:
            raise NoteError(f"a ballot promise is three lines, the first {PROMISE_HEADER}")
        if not _HEX32.fullmatch(lines[2]):
            raise NoteError("promise entry hash is not 64 lowercase hex digits")
        return cls(lines[1], bytes.fromhex(lines[2]))


def sign_promise(promise: BallotPromise, signer: Signer) -> str:
    """Sign a ballot promise with the log key, whose name must be the origin."""
    if signer.name != promise.origin:
        raise NoteError("the log key name must equal the promise origin")
    return sign_note(promise.to_text(), signer)


def open_promise(
    note: str | bytes, verifiers: Iterable[Verifier] | Verifier, origin: str | None = None
) -> BallotPromise:
    """Verify a ballot promise: a well-formed promise text signed by the log key (name ==
    origin), of ``origin`` if given. Raises NoteError."""
    text, names = open_note(note, verifiers)
    promise = BallotPromise.from_text(text)
    if origin is not None and promise.origin != origin:
        raise NoteError(f"promise origin {promise.origin!r} is not {origin!r}")
    if promise.origin not in names:
        raise NoteError("the promise is not signed by the log's key")
    return promise
