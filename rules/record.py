"""The election record file and the independent verifier (docs/protocol.md "What a verifier
checks").

Record format ``stembus-record/v1``: JSON Lines (UTF-8, one ``\\n`` after every line), where every
line is itself RFC 8785 canonical JSON, so any changed byte either breaks the JSON, breaks the
canonical form or changes an entry (and so a leaf hash). Lines, in this order:

* line 1, the header: ``{"election", "format": "stembus-record/v1", "log_key": <C2SP verifier
  key string>, "origin": <log origin>, "size": <entries>}``
* one line per log entry, in index order: ``{"entry": <the entry>, "index": <n>}`` — the entry's
  RFC 8785 bytes (the Merkle leaf) appear verbatim inside the line.
* one line per signed checkpoint: ``{"checkpoint": <signed note text>}``, placed right after the
  entry that makes its tree size (size-0 checkpoints right after the header); checkpoints of
  equal size may follow each other. The last checkpoint covers every entry.
* the trailer: ``{"end": {"checkpoints": <m>, "entries": <n>}}`` (detects a truncated file).

Keys are in the record twice over: the log key in the header, the issuer keys, the sealing public
key and the log key again in the ``keys`` entry, the sealing private key in ``decryption_key``.

:func:`verify_record` streams the file twice (memory: O(log n) for the tree, one small integer
per credential; never the ciphertexts):

* pass 1 — checks 1–4 and the decryption key: every checkpoint's signature (log key, origin); the
  Merkle root recomputed from the entries equals each checkpoint's root at exactly its size (since
  every root is recomputed from a prefix of the one entry sequence, every pair of checkpoints is
  consistent — that *is* the consistency check, stronger than a proof); entry order (the phase
  machine, settings/lists/keys before voting, issuance and ballots only while voting is open,
  decryption key and result only after close); the flush rules of publication in shuffled
  batches (rules.flush.FlushChecker: issuance and ballot entries only in flushes closed by their
  own checkpoint, one kiesgroep each, issuances before ballots, each run strictly ascending by
  leaf hash, every ballot run at least ``batch_size`` long unless its group has fewer ballots);
  each ballot's fields, issuer signature under its group's published key, Ed25519 ballot
  signature, distinct ``seq`` values per credential in one group (within a flush a re-vote may
  precede the ballot it replaces), ciphertext length; per kiesgroep, distinct credentials never
  exceed the issuance entries so far; the published decryption key derives the published sealing
  key.
* pass 2 — check 5: every final ballot is decrypted and validated again and the whole ``result``
  entry is recomputed by :func:`rules.tally.compute_result`; its canonical bytes must equal the
  published entry's (counts, invalid reasons, apportionment steps, lot draws, elected).
* receipts (check 6), given to :func:`verify_record` or checked alone by :func:`verify_receipt`:
  the receipt's checkpoint verifies under the log key, its inclusion proof leads to its root, and
  its tree is a prefix of the record's (the root recomputed at its size equals it) — so the
  receipt's ballot is in the final log. Ballot promises (check 6): signed by the log key, and
  their entry hash a leaf of the record; one that is not is a broken promise.

Every failure names the check and, where there is one, the entry index.

Speed (100,000 ballots: ~210,000 entries and as many signed checkpoints): pass 1 stays one
sequential walk over the lines, but worker processes (:mod:`rules.record_parallel`, ``workers``,
default one per CPU) verify the checkpoint notes, ballot and issuer signatures of the chunks
ahead of it; the walk uses a worker's verdict only for exactly the key, message and signature it
would verify itself, and verifies anything else in-process. In pass 2 the same number of workers
decrypt and validate the final ballots in chunks, and the results are counted in log order, so
the recomputed result does not depend on how the work was split. Entry lines are checked canonical
with ``json.dumps`` where that provably equals RFC 8785 (ASCII, no floats or big integers), and a
ballot's signing bytes are cut from its canonical bytes instead of canonicalising it twice.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from crypto import blindrsa, merkle, note, sealing
from crypto.canonical import EncodingError, b64d, canonical_json
from rules.flush import FlushChecker
from rules.phases import BEFORE_VOTING, PHASES
from rules.record_parallel import (
    Verdicts,
    ballot_signing_bytes,
    default_workers,
    ed25519_verify,
    pooled_opening,
    prefetch,
    rsa_ident,
)
from rules.tally import (
    BallotOpener,
    ElectionLog,
    OpenBallots,
    Opened,
    TallyError,
    compute_result,
    compute_uncontested_result,
    open_sequentially,
)

__all__ = [
    "CHECKS",
    "FORMAT",
    "Failure",
    "Receipt",
    "Report",
    "checkpoint_line",
    "entry_line",
    "header_line",
    "record_lines",
    "trailer_line",
    "verify_receipt",
    "verify_record",
]

FORMAT = "stembus-record/v1"
BALLOT_FIELDS = frozenset(
    {
        "type",
        "election",
        "group",
        "credential",
        "prefix",
        "issuer_sig",
        "seq",
        "ciphertext",
        "signature",
    }
)
# Check ids, with the docs/protocol.md item they belong to.
CHECKS: dict[str, str] = {
    "format": "record file format",
    "checkpoint-signature": "1. checkpoint signatures",
    "merkle-root": "1. Merkle root equals each checkpoint",
    "checkpoint-consistency": "1. consistency between checkpoints",
    "entry-order": "2. entry order",
    "flush": "2. flushes: sorted runs, run sizes, issuances before ballots",
    "ballot-fields": "3. ballot fields",
    "ballot-issuer-signature": "3. issuer signature",
    "ballot-signature": "3. ballot signature",
    "ballot-seq": "3. seq order (distinct per credential, one group)",
    "ballot-ciphertext-length": "3. ciphertext length",
    "issuance-bound": "4. credentials ≤ issuance entries per kiesgroep",
    "decryption-key": "5. decryption key matches the sealing key",
    "result": "5. result recomputes exactly",
    "receipt": "6. receipts",
    "promise": "6. ballot promises: signed by the log key, entry in the log",
}
Progress = Callable[[str, int, int | None], None]


# --------------------------------------------------------------------------------- writing


def _line(obj: Any) -> bytes:
    return canonical_json(obj) + b"\n"


def header_line(election_id: str, origin: str, log_key: str, size: int) -> bytes:
    return _line(
        {
            "election": election_id,
            "format": FORMAT,
            "log_key": log_key,
            "origin": origin,
            "size": size,
        }
    )


def entry_line(index: int, body: bytes) -> bytes:
    """``body`` is the entry's RFC 8785 bytes (the leaf): it goes into the line verbatim."""
    return b'{"entry":' + bytes(body) + b',"index":' + str(int(index)).encode() + b"}\n"


def checkpoint_line(note_text: str) -> bytes:
    return _line({"checkpoint": note_text})


def trailer_line(entries: int, checkpoints: int) -> bytes:
    return _line({"end": {"checkpoints": checkpoints, "entries": entries}})


def record_lines(
    election_id: str,
    origin: str,
    log_key: str,
    size: int,
    entries: Iterable[tuple[int, bytes]],
    checkpoints: Iterable[tuple[int, str]],
) -> Iterator[bytes]:
    """The record as a stream of lines (both inputs sorted: entries by index, checkpoints by
    size); suitable for a streaming HTTP response or a file."""
    yield header_line(election_id, origin, log_key, size)
    cps = iter(checkpoints)
    pending = next(cps, None)
    n_cp = n_entries = 0
    # Checkpoints beyond `size` (appended while the record was being written) are left out.
    while pending is not None and pending[0] == 0:
        yield checkpoint_line(pending[1])
        n_cp += 1
        pending = next(cps, None)
    for index, body in entries:
        if index >= size:
            break
        yield entry_line(index, body)
        n_entries += 1
        while pending is not None and pending[0] <= index + 1:
            if pending[0] == index + 1:
                yield checkpoint_line(pending[1])
                n_cp += 1
            pending = next(cps, None)
    yield trailer_line(n_entries, n_cp)


# --------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Failure:
    check: str
    message: str
    index: int | None = None

    def __str__(self) -> str:
        where = f"entry {self.index}: " if self.index is not None else ""
        return f"[{self.check}] {where}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "index": self.index, "message": self.message}


@dataclass
class Report:
    """What :func:`verify_record` found. ``ok`` only if every check passed."""

    election: str | None = None
    entries: int = 0
    checkpoints: int = 0
    ballots: int = 0
    credentials: int = 0
    passed: Counter[str] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    failure_counts: Counter[str] = field(default_factory=Counter)
    result_checked: bool = False
    receipts_checked: int = 0
    booth: dict[str, str] | None = None

    max_per_check = 5

    @property
    def ok(self) -> bool:
        return not self.failure_counts

    def fail(self, check: str, message: str, index: int | None = None) -> None:
        self.failure_counts[check] += 1
        if self.failure_counts[check] <= self.max_per_check:
            self.failures.append(Failure(check, message, index))

    def first(self, check: str | None = None) -> Failure | None:
        return next((f for f in self.failures if check is None or f.check == check), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "election": self.election,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "ballots": self.ballots,
            "credentials": self.credentials,
            "passed": dict(sorted(self.passed.items())),
            "failure_counts": dict(sorted(self.failure_counts.items())),
            "failures": [f.to_dict() for f in self.failures],
            "result_checked": self.result_checked,
            "receipts_checked": self.receipts_checked,
            "booth": self.booth,
        }


# --------------------------------------------------------------------------------- receipts


@dataclass(frozen=True)
class Receipt:
    """A cast receipt: entry index, leaf hash, signed checkpoint and inclusion proof."""

    index: int
    leaf_hash: bytes
    checkpoint: str
    proof: tuple[bytes, ...]
    election: str | None = None

    @classmethod
    def parse(cls, data: str | bytes | dict[str, Any]) -> Receipt:
        """A receipt as JSON (``index``, ``entry_hash``/``leaf_hash`` hex, ``checkpoint`` note,
        ``inclusion_proof``/``proof`` [hex or b64], optional ``tlog_proof`` text, ``election``)
        or as the C2SP tlog-proof@v1 text with the leaf hash in its ``extra`` line."""
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        if isinstance(data, str):
            if data.startswith(note.TLOG_PROOF_HEADER):
                tp = note.TlogProof.from_text(data)
                if tp.extra is None or len(tp.extra) != 32:
                    raise ValueError("tlog-proof without the leaf hash (extra line)")
                return cls(tp.index, tp.extra, tp.checkpoint, tp.proof)
            data = json.loads(data)
        if not isinstance(data, dict):
            raise ValueError("a receipt is a JSON object or a tlog-proof text")
        if "receipt" in data and isinstance(data["receipt"], dict):
            data = data["receipt"]
        leaf_hex = data.get("entry_hash") or data.get("leaf_hash")
        if not isinstance(leaf_hex, str):
            raise ValueError("a receipt needs its entry hash (hex)")
        tlog = data.get("tlog_proof")
        if isinstance(tlog, str) and (not data.get("checkpoint") or "proof" not in data):
            tp = note.TlogProof.from_text(tlog)
            return cls(
                tp.index, bytes.fromhex(leaf_hex), tp.checkpoint, tp.proof, data.get("election")
            )
        proof_raw = data.get("inclusion_proof", data.get("proof", []))
        if isinstance(proof_raw, dict):
            proof_raw = proof_raw.get("hashes", proof_raw.get("proof", []))
        if not isinstance(proof_raw, list):
            raise ValueError("a receipt's inclusion proof is a list of hashes")
        cp = data.get("checkpoint")
        if isinstance(cp, dict):
            cp = cp.get("note") or cp.get("signed_note") or cp.get("text")
        return cls(
            int(data["index"]),
            bytes.fromhex(leaf_hex),
            str(cp),
            tuple(_hash(p) for p in proof_raw),
            data.get("election"),
        )


def _hash(p: str) -> bytes:
    try:
        h = bytes.fromhex(p)
    except ValueError:
        h = b64d(p)
    if len(h) != 32:
        raise ValueError("proof hashes are 32 bytes")
    return h


def verify_receipt(
    receipt: Receipt,
    log_key: str,
    *,
    origin: str | None = None,
    final: tuple[int, bytes] | None = None,
    consistency_proof: Iterable[bytes] | None = None,
) -> note.Checkpoint:
    """Check 6 for one receipt: checkpoint signature, inclusion proof against its root and, if
    ``final`` (size, root of a later verified checkpoint) and ``consistency_proof`` are given,
    the receipt checkpoint's consistency with it. Raises ``ValueError`` with the reason."""
    verifier = note.Verifier.from_key_string(log_key)
    cp = note.open_checkpoint(receipt.checkpoint, verifier, origin)
    merkle.verify_inclusion(receipt.leaf_hash, receipt.index, cp.size, receipt.proof, cp.root_hash)
    if final is not None:
        fsize, froot = final
        if fsize < cp.size:
            raise ValueError("the final checkpoint is older than the receipt's")
        merkle.verify_consistency(
            cp.size, fsize, cp.root_hash, froot, list(consistency_proof or [])
        )
    return cp


# --------------------------------------------------------------------------------- verifying


Source = str | Path | Callable[[], Iterable[bytes]]


def _opener(source: Source) -> Callable[[], Iterable[bytes]]:
    if callable(source):
        return source
    path = Path(source)

    def read() -> Iterator[bytes]:
        with path.open("rb") as f:
            yield from f

    return read


class _Abort(Exception):
    """The record cannot be read further (structure broken)."""


_SAFE_INT = 2**53 - 1


class _LineParser:
    """``json.loads`` of a record line, noting whether the line is *regular*: it holds nothing
    for which Python's compact sorted ``json.dumps`` may differ from RFC 8785 (floats,
    NaN/Infinity, integers beyond ±(2^53 - 1)). One per verification (no shared state)."""

    def __init__(self) -> None:
        self.irregular: list[bool] = []
        self.decoder = json.JSONDecoder(
            parse_float=self._float, parse_int=self._int, parse_constant=self._float
        )

    def _float(self, s: str) -> float:
        self.irregular.append(True)
        return float(s)

    def _int(self, s: str) -> int:
        n = int(s)
        if not -_SAFE_INT <= n <= _SAFE_INT:
            self.irregular.append(True)
        return n

    def __call__(self, raw: bytes, lineno: int) -> tuple[dict[str, Any], bool]:
        if not raw.endswith(b"\n"):
            raise _Abort(f"line {lineno}: missing final newline (truncated file?)")
        self.irregular.clear()
        try:
            # Exactly what json.loads(raw) does for bytes, with the hooks above.
            obj = self.decoder.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _Abort(
                f"line {lineno}: not JSON ({exc.msg if hasattr(exc, 'msg') else exc})"
            ) from None
        if not isinstance(obj, dict):
            raise _Abort(f"line {lineno}: not a JSON object")
        return obj, not self.irregular


def _fast_canonical(obj: Any) -> bytes | None:
    """``canonical_json(obj)`` for a *regular* parsed object (:class:`_LineParser`), or None.

    For such values Python's ``json.dumps`` (sorted keys, compact, no ASCII escaping) gives the
    RFC 8785 bytes whenever its output is ASCII: the same string escapes (``\\"``, ``\\\\``,
    ``\\b \\t \\n \\f \\r``, other controls as lowercase ``\\u00xx``, nothing else), integers
    in decimal, and ASCII keys sort the same by code point as by UTF-16 unit. Otherwise (None)
    the exact, slower ``canonical_json`` decides.
    """
    try:
        out = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, TypeError):
        return None
    return out if out.isascii() else None


CODES_ISSUED_FIELDS = frozenset({"type", "election", "holders", "via", "count", "replaced", "by"})


def codes_issued_problem(e: dict[str, Any]) -> str | None:
    """What is wrong with a `codes_issued` entry (docs/log-entries.md), or None: exactly its
    fields (counts and the acting role, nothing that could name a person), a count of at least
    one, and no more codes replaced than issued."""
    extra = set(e) - CODES_ISSUED_FIELDS
    if extra or set(e) != CODES_ISSUED_FIELDS:
        return f"codes_issued with fields {sorted(set(e) ^ CODES_ISSUED_FIELDS)} out of place"
    if e["holders"] not in ("voter", "member", "submitter"):
        return f"codes_issued for {e['holders']!r} (voter, member or submitter)"
    if e["via"] not in ("export", "mail", "regenerated"):
        return f"codes_issued via {e['via']!r} (export, mail or regenerated)"
    if e["by"] not in ("committee", "operator"):
        return f"codes_issued by {e['by']!r} (committee or operator)"
    count, replaced = e["count"], e["replaced"]
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (count, replaced)):
        return "codes_issued counts are not integers"
    if count < 1 or not 0 <= replaced <= count:
        return f"codes_issued with count {count} and replaced {replaced}"
    return None


BOOTH_ASSETS_MAX = 64


def booth_problem(e: dict[str, Any]) -> str | None:
    """What is wrong with a booth_published entry's form, or None: ``assets`` maps at most
    :data:`BOOTH_ASSETS_MAX` paths (each starting with one ``/``) to lower-case SHA-256 hex."""
    assets = e.get("assets")
    if not isinstance(assets, dict) or not assets or len(assets) > BOOTH_ASSETS_MAX:
        return f"booth_published names no assets, or more than {BOOTH_ASSETS_MAX}"
    for path, digest in assets.items():
        if not path.startswith("/") or path.startswith("//"):
            return f"booth asset {path!r} is not a path on the service"
        if not isinstance(digest, str) or len(digest) != 64 or digest.strip("0123456789abcdef"):
            return f"booth asset {path!r}: {digest!r} is not a SHA-256 in lower-case hex"
    return None


def _checkpoint_line_ok(text: str, raw: bytes) -> bool:
    """``checkpoint_line(text) == raw``, with the common case computed by ``json.dumps`` (a
    one-member object: only string escaping matters, and that is RFC 8785's)."""
    try:
        fast = json.dumps({"checkpoint": text}, separators=(",", ":"), ensure_ascii=False)
        if fast.encode() + b"\n" == raw:
            return True
    except (ValueError, TypeError):
        pass
    try:
        return checkpoint_line(text) == raw
    except (ValueError, TypeError):
        return False


class _Opened(NamedTuple):
    size: int
    root_hash: bytes


class _LogVerifier(note.Verifier):
    """The log key, answering from the precomputed verdicts where there is one."""

    __slots__ = ("_verdicts",)
    _verdicts: Verdicts

    def verify(self, message: bytes, signature: bytes) -> bool:
        v = self._verdicts.ed25519(self.public_key, message, signature)
        if v is None:
            return super().verify(message, signature)
        return v


class _Verifier:
    def __init__(
        self,
        report: Report,
        log_key: str | None,
        receipts: list[Receipt],
        progress: Progress | None,
        verdicts: Verdicts | None = None,
        promises: list[str] | None = None,
    ) -> None:
        self.r = report
        self.verdicts = verdicts if verdicts is not None else Verdicts()
        self.parse = _LineParser()
        self.pinned_key = log_key
        self.receipts = receipts
        self.progress = progress
        self.log = ElectionLog()
        self.tree = merkle.RootBuilder()
        self.verifier: note.Verifier | None = None
        self.key_string = ""
        self.origin: str | None = None
        self.header: dict[str, Any] = {}
        self.phase: str | None = None
        self.purged = False
        self.booth: dict[str, str] | None = None
        self.last_cp: tuple[int, bytes] | None = None
        self.lot_checkpoint: tuple[int, bytes] | None = None
        self.issuer_keys: dict[str, Any] = {}
        self.issuer_idents: dict[str, bytes] = {}
        # credential -> (seqs seen, group): an int for the common single ballot, else a set
        self.seq: dict[str, tuple[int | frozenset[int], str]] = {}
        self.flush = FlushChecker()
        self.promised: dict[bytes, list[int]] = {}  # entry hash -> positions of its promises
        self.distinct: Counter[str] = Counter()
        self.issuance: Counter[str] = Counter()
        self.ciphertext_len: int | None = None
        self.sealing_key: bytes | None = None
        self.private_key: bytes | None = None
        self.receipt_sizes: dict[int, list[Receipt]] = {}
        self.receipt_leaves: dict[int, list[Receipt]] = {}
        self.receipt_done: set[int] = set()
        self.promises = promises or []

    # --- pass 1 --------------------------------------------------------------------------------

    def pass1(self, lines: Iterable[bytes]) -> None:
        r = self.r
        it = iter(lines)
        first = next(it, None)
        if first is None:
            raise _Abort("empty record")
        self._header(self.parse(first, 1)[0])
        total = self.header.get("size") if isinstance(self.header.get("size"), int) else None
        for pos, rec in enumerate(self.receipts):
            self.receipt_leaves.setdefault(rec.index, []).append(rec)
            try:
                assert self.verifier is not None
                cp = note.open_checkpoint(rec.checkpoint, self.verifier, self.origin)
                merkle.verify_inclusion(rec.leaf_hash, rec.index, cp.size, rec.proof, cp.root_hash)
            except (ValueError, note.NoteError) as exc:
                r.fail("receipt", f"receipt {pos + 1}: {exc}", rec.index)
                self.receipt_done.add(pos)
                continue
            self.receipt_sizes.setdefault(cp.size, []).append(rec)
        for pos, text in enumerate(self.promises):
            try:
                assert self.verifier is not None
                promise = note.open_promise(text, self.verifier, self.origin)
            except note.NoteError as exc:
                r.fail("promise", f"promise {pos + 1}: {exc}")
                continue
            self.promised.setdefault(promise.entry_hash, []).append(pos)
        trailer: dict[str, Any] | None = None
        lineno = 1
        for raw in it:
            lineno += 1
            if trailer is not None:
                raise _Abort(f"line {lineno}: data after the trailer")
            obj, regular = self.parse(raw, lineno)
            if "entry" in obj:
                self._entry(obj, raw, lineno, regular)
                if self.progress and r.entries % 1000 == 0:
                    self.progress("pass 1: log and signatures", r.entries, total)
            elif "checkpoint" in obj:
                self._checkpoint(obj, raw, lineno)
            elif "end" in obj:
                trailer = obj
            else:
                raise _Abort(f"line {lineno}: neither entry, checkpoint nor trailer")
        if self.progress:
            self.progress("pass 1: log and signatures", r.entries, total)
        if trailer is None:
            raise _Abort("no trailer line: the record is truncated")
        if canonical_json(trailer) + b"\n" != trailer_line(r.entries, r.checkpoints):
            r.fail(
                "format",
                f"trailer says {trailer.get('end')}, the record holds "
                f"{r.entries} entries and {r.checkpoints} checkpoints",
            )
        if total is not None and total != r.entries:
            r.fail("format", f"header says {total} entries, the record holds {r.entries}")
        if self.last_cp is None:
            r.fail("merkle-root", "the record has no checkpoint")
        elif self.last_cp[0] != r.entries:
            r.fail(
                "merkle-root",
                f"the last checkpoint covers {self.last_cp[0]} of the {r.entries} entries",
            )
        for at, msg in self.flush.finish():
            r.fail("flush", msg, at)
        for leaf, positions in self.promised.items():
            for pos in positions:
                r.fail(
                    "promise",
                    f"promise {pos + 1}: its entry {leaf.hex()[:16]}… is not in the log — a "
                    "signed proof that the service broke its promise",
                )
        r.ballots = self.log.ballot_entries
        r.credentials = len(self.log.latest)

    def _header(self, h: dict[str, Any]) -> None:
        self.header = h
        if h.get("format") != FORMAT:
            raise _Abort(f"not a {FORMAT} record (format {h.get('format')!r})")
        self.r.election = h.get("election") if isinstance(h.get("election"), str) else None
        key = self.pinned_key or h.get("log_key")
        if self.pinned_key and h.get("log_key") != self.pinned_key:
            self.r.fail("checkpoint-signature", "the record's log key is not the pinned log key")
        try:
            plain = note.Verifier.from_key_string(str(key))
        except note.NoteError as exc:
            raise _Abort(f"header: bad log key: {exc}") from None
        self.key_string = str(key)
        self.verifier = _LogVerifier(plain.name, plain.public_key)
        self.verifier._verdicts = self.verdicts
        self.origin = h.get("origin") if isinstance(h.get("origin"), str) else None
        if self.origin != self.verifier.name:
            self.r.fail("checkpoint-signature", "the log key's name is not the record's origin")

    def _checkpoint(self, obj: dict[str, Any], raw: bytes, lineno: int) -> None:
        r = self.r
        r.checkpoints += 1
        text = obj.get("checkpoint")
        if not isinstance(text, str) or not _checkpoint_line_ok(text, raw):
            r.fail("format", f"line {lineno}: checkpoint line is not canonical")
            return
        assert self.verifier is not None
        try:
            cp = self._open_checkpoint(text)
        except note.NoteError as exc:
            last = self.tree.size - 1 if self.tree.size else None
            r.fail(
                "checkpoint-signature",
                f"checkpoint after entry {last} (line {lineno}): {exc}",
                last,
            )
            return
        r.passed["checkpoint-signature"] += 1
        if cp.size != self.tree.size:
            r.fail(
                "merkle-root",
                f"checkpoint of size {cp.size} placed after {self.tree.size} "
                "entries (line " + str(lineno) + ")",
                self.tree.size - 1 if self.tree.size else None,
            )
            return
        root = self.tree.root()
        if root != cp.root_hash:
            r.fail(
                "merkle-root",
                f"the root of entries 0..{cp.size - 1} is {root.hex()[:16]}…, the "
                f"signed checkpoint of size {cp.size} says {cp.root_hash.hex()[:16]}…",
                cp.size - 1 if cp.size else None,
            )
            return
        r.passed["merkle-root"] += 1
        if self.last_cp is not None:
            if self.last_cp[0] > cp.size:
                r.fail(
                    "checkpoint-consistency",
                    f"checkpoint of size {cp.size} after one of size {self.last_cp[0]}",
                )
            elif self.last_cp[0] == cp.size and self.last_cp[1] != cp.root_hash:
                r.fail("checkpoint-consistency", f"two checkpoints of size {cp.size} differ")
            else:
                r.passed["checkpoint-consistency"] += 1
        self.last_cp = (cp.size, cp.root_hash)
        ci = self.log.closed_index
        if cp.size == self.tree.size:
            failed = len(self.flush.failures)
            self.flush.checkpoint(cp.size)
            for at, msg in self.flush.failures[failed:]:
                self.r.fail("flush", msg, at)
        if self.lot_checkpoint is None and ci is not None and cp.size > ci:
            self.lot_checkpoint = (cp.size, cp.root_hash)
        for rec in self.receipt_sizes.pop(cp.size, []):
            self._receipt_root(rec, cp.size, cp.root_hash)

    def _open_checkpoint(self, text: str) -> _Opened:
        """``note.open_checkpoint(text, log key, origin)`` (raises ``NoteError`` likewise); a
        worker's result for exactly this text, key and origin is used where there is one."""
        v = self.verdicts.checkpoint(self.key_string, self.origin, text)
        if v is None:
            assert self.verifier is not None
            cp = note.open_checkpoint(text, self.verifier, self.origin)
            return _Opened(cp.size, cp.root_hash)
        if isinstance(v, str):
            raise note.NoteError(v)
        return _Opened(*v)

    def _receipt_root(self, rec: Receipt, size: int, root: bytes) -> None:
        pos = self.receipts.index(rec)
        rcp = note.Checkpoint.from_text(note.parse_note(rec.checkpoint)[0])
        if rcp.root_hash != root:
            self.r.fail(
                "receipt",
                f"receipt {pos + 1}: its checkpoint of size {size} is not "
                "consistent with the record (different root)",
                rec.index,
            )
        self.receipt_done.add(pos)

    def _entry(self, obj: dict[str, Any], raw: bytes, lineno: int, regular: bool = False) -> None:
        r = self.r
        index = obj.get("index")
        entry = obj.get("entry")
        expected = self.tree.size
        if not isinstance(index, int) or not isinstance(entry, dict):
            raise _Abort(f"line {lineno}: malformed entry line")
        if index != expected:
            r.fail(
                "entry-order",
                f"line {lineno} holds entry {index} where entry {expected} "
                "belongs (an entry dropped, added or moved)",
                expected,
            )
            raise _Abort(f"entry {expected} is missing: cannot continue")
        body = _fast_canonical(entry) if regular and raw.isascii() else None
        if body is None or entry_line(index, body) != raw:
            try:
                body = canonical_json(entry)
            except (ValueError, TypeError):
                raise _Abort(f"entry {index}: cannot be canonicalised") from None
        if entry_line(index, body) != raw:
            r.fail("format", "the entry is not in RFC 8785 canonical form (changed bytes?)", index)
        leaf = merkle.leaf_hash(body)
        self.tree.add(leaf)
        r.entries += 1
        for rec in self.receipt_leaves.pop(index, []):
            if rec.leaf_hash != leaf:
                r.fail(
                    "receipt",
                    f"receipt {self.receipts.index(rec) + 1}: entry {index} has "
                    "another hash than the receipt (the ballot was changed or replaced)",
                    index,
                )
        if self.tree.size in self.receipt_sizes:
            root = self.tree.root()
            for rec in self.receipt_sizes.pop(self.tree.size):
                self._receipt_root(rec, self.tree.size, root)
        self._order(index, entry)
        t = entry.get("type")
        if t in ("issuance", "ballot") or self.flush.current is not None:
            failed = len(self.flush.failures)
            if self.flush.entry(index, t, str(entry.get("group")), leaf) and t in (
                "issuance",
                "ballot",
            ):
                r.passed["flush"] += 1
            for at, msg in self.flush.failures[failed:]:
                r.fail("flush", msg, at)
        if leaf in self.promised:
            self.promised.pop(leaf)
            r.passed["promise"] += 1
        if t == "ballot":
            self._ballot(index, entry, body)
        self.log.add(index, entry)
        if t in ("election_created", "settings_updated"):
            size = (self.log.settings or {}).get("batch_size", 20)
            self.flush.batch_size = size if isinstance(size, int) and size > 0 else 20

    def _order(self, index: int, e: dict[str, Any]) -> None:
        r = self.r
        t = e.get("type")
        phase = self.phase
        ok = True

        def bad(msg: str) -> None:
            nonlocal ok
            ok = False
            r.fail("entry-order", msg, index)

        if index == 0:
            if t != "election_created":
                bad(f"the log starts with {t!r}, not election_created")
            self.phase = "draft"
        elif self.r.election is not None and e.get("election") != self.r.election:
            bad(f"entry names election {e.get('election')!r}, the record is of {self.r.election!r}")
        if index == 0:
            if e.get("election") != self.r.election:
                bad("the first entry names another election than the header")
        elif t == "election_created":
            bad("a second election_created entry")
        elif t == "phase_changed":
            to = e.get("to")
            if e.get("from") != phase:
                bad(f"phase_changed from {e.get('from')!r} but the election was in {phase!r}")
            if to not in PHASES:
                bad(f"unknown phase {to!r}")
            if to == "voting" and self.log.keys is None:
                bad("voting opened before the keys entry")
            if to == "voting" and self.log.groups is None and self.log.questions is None:
                bad("voting opened before the lists or questions were published")
            if to == "voting" and self.booth is None:
                bad("voting opened without the booth_published entry (the booth's code)")
            if to == "tallied" and self.log.result is None:
                bad("tallied before the result entry")
            if phase in ("tallied", "cancelled"):
                bad(f"a phase change after {phase}")
            self.phase = to
        elif t in (
            "settings_updated",
            "lists_published",
            "questions_published",
            "keys",
            "roll_frozen",
        ):
            if phase not in BEFORE_VOTING:
                bad(f"{t} while the election is {phase} (must come before voting opens)")
        elif t in ("issuance", "ballot"):
            if phase != "voting":
                bad(f"{t} while the election is {phase} (only while voting is open)")
        elif t == "codes_issued":
            why = codes_issued_problem(e)
            if why is None and phase in ("tallied", "cancelled"):
                why = f"codes issued after the election was {phase}"
            if why is not None:
                bad(why)
        elif t == "decryption_key":
            if phase != "closed":
                bad(f"decryption_key while the election is {phase} (only after voting closed)")
        elif t == "result":
            # An election with no contested kiesgroep has its result right after publication,
            # without keys (docs/rules.md); every other result follows the decryption key.
            uncontested = phase == "lists_published" and self.log.keys is None
            if uncontested and not self.log.uncontested:
                bad("a result without a vote, but a kiesgroep holds a vote")
            elif not uncontested and (phase != "closed" or self.log.decryption_key is None):
                bad("result before the decryption key, or outside the closed phase")
        elif t == "booth_published":
            # The SHA-256 of every booth asset, pinned when voting opens (docs/protocol.md
            # "The booth's code"): once, just before the phase change to voting.
            why = booth_problem(e)
            if why is None and phase != "lists_published":
                why = f"booth_published while the election is {phase} (only as voting opens)"
            if why is None and self.booth is not None:
                why = "a second booth_published entry"
            if why is not None:
                bad(why)
            else:
                self.booth = dict(e["assets"])
                r.booth = self.booth
        elif t == "personal_data_purged":
            # The operator's purge of personal data after the retention period
            # (api.retention): only once the election has ended, and once.
            if phase not in ("tallied", "cancelled"):
                bad(f"personal_data_purged while the election is {phase} (only after it ended)")
            if self.purged:
                bad("a second personal_data_purged entry")
            self.purged = True
        if t == "keys":
            self._keys(index, e)
        elif t == "issuance":
            self.issuance[str(e.get("group"))] += 1
        elif t == "decryption_key":
            self._decryption_key(index, e)
        if ok:
            r.passed["entry-order"] += 1

    def _keys(self, index: int, e: dict[str, Any]) -> None:
        r = self.r
        self.issuer_keys = {}
        self.issuer_idents = {}
        try:
            for group, jwk in dict(e.get("issuer_keys") or {}).items():
                self.issuer_keys[group] = blindrsa.public_key_from_jwk(jwk)
                self.issuer_idents[group] = rsa_ident(self.issuer_keys[group])
            self.sealing_key = b64d(e["sealing_key"])
            if len(self.sealing_key) != sealing.KEY_LEN:
                raise ValueError("sealing key is not 32 bytes")
            self.ciphertext_len = sealing.ciphertext_length(int(e["ballot_size"]))
        except (KeyError, ValueError, TypeError) as exc:
            r.fail("format", f"keys entry malformed: {exc}", index)
        if e.get("log_key") is not None and e.get("log_key") != self.header.get("log_key"):
            r.fail(
                "checkpoint-signature",
                "the keys entry names another log key than the record",
                index,
            )

    def _decryption_key(self, index: int, e: dict[str, Any]) -> None:
        r = self.r
        try:
            sk = b64d(e["sealing_private_key"])
            derived = sealing.public_key_from_private(sk)
        except (KeyError, EncodingError, ValueError, TypeError) as exc:
            r.fail("decryption-key", f"malformed decryption key: {exc}", index)
            return
        if self.sealing_key is None or derived != self.sealing_key:
            r.fail(
                "decryption-key",
                "the published private key does not derive the published sealing key",
                index,
            )
            return
        self.private_key = sk
        r.passed["decryption-key"] += 1

    def _ballot(self, index: int, e: dict[str, Any], body: bytes) -> None:
        """``body`` is ``canonical_json(e)``."""
        r = self.r
        fields = set(e)
        if fields != BALLOT_FIELDS:
            extra, missing = sorted(fields - BALLOT_FIELDS), sorted(BALLOT_FIELDS - fields)
            r.fail(
                "ballot-fields", f"ballot fields wrong (extra {extra}, missing {missing})", index
            )
            return
        group = e["group"]
        key = self.issuer_keys.get(group) if isinstance(group, str) else None
        if key is None:
            r.fail("ballot-issuer-signature", f"no published issuer key for group {group!r}", index)
            return
        try:
            cred = b64d(e["credential"])
            prefix = b64d(e["prefix"])
            sig = b64d(e["issuer_sig"])
            ct = b64d(e["ciphertext"])
        except (EncodingError, TypeError):
            r.fail("ballot-fields", "a binary field is not canonical base64", index)
            return
        if len(cred) != 32 or len(prefix) != blindrsa.PREFIX_LEN:
            r.fail("ballot-fields", "credential or prefix has the wrong length", index)
            return
        if self._issuer_ok(group, key, prefix + cred, sig):
            r.passed["ballot-issuer-signature"] += 1
        else:
            r.fail(
                "ballot-issuer-signature",
                f"the issuer signature does not verify under the key of group {group}",
                index,
            )
        if self._ballot_signature_ok(cred, e, body):
            r.passed["ballot-signature"] += 1
        else:
            r.fail(
                "ballot-signature",
                "the ballot signature does not verify under its credential",
                index,
            )
        if self.ciphertext_len is not None and len(ct) == self.ciphertext_len:
            r.passed["ballot-ciphertext-length"] += 1
        else:
            r.fail(
                "ballot-ciphertext-length",
                f"ciphertext of {len(ct)} bytes, expected {self.ciphertext_len}",
                index,
            )
        seq = e["seq"]
        cred_text = e["credential"]
        prev = self.seq.get(cred_text)
        seen: frozenset[int] = frozenset()
        if prev is not None:
            seen = prev[0] if isinstance(prev[0], frozenset) else frozenset((prev[0],))
        # Within a flush ballots are in leaf-hash order, and a ballot kept back may follow a
        # later re-vote of its credential: seqs are distinct per credential, not increasing in
        # log order; the highest counts (rules.tally).
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            r.fail("ballot-seq", f"seq {seq!r} is not a positive integer", index)
        elif seq in seen:
            r.fail("ballot-seq", f"a second ballot with seq {seq} of the same credential", index)
        elif prev is not None and prev[1] != group:
            r.fail("ballot-seq", f"credential used in group {group} and in {prev[1]}", index)
        else:
            r.passed["ballot-seq"] += 1
        if prev is None:
            self.distinct[group] += 1
            if self.distinct[group] > self.issuance[group]:
                r.fail(
                    "issuance-bound",
                    f"ballot without issuance: group {group} has "
                    f"{self.distinct[group]} credentials but {self.issuance[group]} issuance "
                    "entries so far",
                    index,
                )
            else:
                r.passed["issuance-bound"] += 1
        if isinstance(seq, int) and seq not in seen:
            self.seq[cred_text] = (seq if not seen else seen | {seq}, group)

    def _issuer_ok(self, group: str, key: Any, msg: bytes, sig: bytes) -> bool:
        """``blindrsa.verify(key, msg, sig)``, from the verdicts where there is one."""
        ident = self.issuer_idents.get(group)
        v = self.verdicts.rsa(ident, msg, sig) if ident is not None else None
        return blindrsa.verify(key, msg, sig) if v is None else v

    def _ballot_signature_ok(self, cred: bytes, e: dict[str, Any], body: bytes) -> bool:
        """``crypto.credential.verify_entry(cred, e)``: the signing bytes are cut from ``body``
        (no second canonicalisation), the verdict comes from the workers where there is one."""
        sig_text = e.get("signature")
        if len(cred) != 32 or not isinstance(sig_text, str):
            return False
        try:
            sig = b64d(sig_text)
            if len(sig) != 64:
                return False
            msg = ballot_signing_bytes(body, e)
        except (EncodingError, ValueError, TypeError):
            return False
        v = self.verdicts.ed25519(cred, msg, sig)
        return ed25519_verify(cred, msg, sig) if v is None else v

    # --- pass 2 --------------------------------------------------------------------------------

    def pass2(self, lines: Iterable[bytes], open_ballots: OpenBallots = open_sequentially) -> None:
        """Check 5. ``open_ballots`` decrypts and validates the final ballots, in this process or
        in workers (:func:`rules.record_parallel.pooled_opening`); the result is the same."""
        r = self.r
        log = self.log
        if log.closed_index is None and log.result is not None and log.keys is None:
            self._compare_result(_uncontested_result(log))
            return
        if log.closed_index is None:
            return  # voting has not closed: nothing to recompute yet
        if log.result is None:
            if log.decryption_key is not None:
                r.fail("result", "the decryption key is published but no result")
            return
        if self.private_key is None:
            r.fail("result", "a result without a matching decryption key", log.result_index)
            return
        if self.lot_checkpoint is None:
            r.fail(
                "result",
                "no checkpoint contains the voting-closed entry (lot seed)",
                log.result_index,
            )
            return
        phase = "pass 2: decrypt and recount"
        total = len(log.latest)  # the final ballots, one per credential

        def ballots() -> Iterator[tuple[int, dict[str, Any]]]:
            for raw in lines:
                if not raw.startswith(b'{"entry":{') or b'"type":"ballot"' not in raw:
                    continue
                obj = json.loads(raw)
                e = obj["entry"]
                if e.get("type") != "ballot":
                    continue
                yield obj["index"], e

        def counted(
            opener: BallotOpener, finals: Iterable[tuple[int, dict[str, Any]]]
        ) -> Iterator[Opened]:
            # Progress counts ballots as their results come back (workers read ahead of them).
            done = 0
            for opened in open_ballots(opener, finals):
                done += 1
                if self.progress and done % 1000 == 0:
                    self.progress(phase, done, total)
                yield opened

        try:
            recomputed = compute_result(
                log, self.private_key, ballots(), self.lot_checkpoint, open_ballots=counted
            )
        except (TallyError, ValueError) as exc:
            r.fail("result", f"cannot recompute the result: {exc}", log.result_index)
            return
        if self.progress:
            self.progress(phase, total, total)
        self._compare_result(recomputed)

    def _compare_result(self, recomputed: dict[str, Any] | str) -> None:
        r, log = self.r, self.log
        assert log.result is not None
        if isinstance(recomputed, str):
            r.fail("result", f"cannot recompute the result: {recomputed}", log.result_index)
            return
        r.result_checked = True
        if canonical_json(recomputed) == canonical_json(log.result):
            r.passed["result"] += 1
            return
        path, published, mine = _first_difference(log.result, recomputed)
        r.fail(
            "result",
            f"published result differs at {path}: published {published!r}, recomputed {mine!r}",
            log.result_index,
        )


def _uncontested_result(log: ElectionLog) -> dict[str, Any] | str:
    """The result of an election without a contested kiesgroep, or why it cannot be made."""
    try:
        return compute_uncontested_result(log)
    except (TallyError, ValueError) as exc:
        return str(exc)


def _first_difference(a: Any, b: Any, path: str = "result") -> tuple[str, Any, Any]:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b or canonical_json(a[k]) != canonical_json(b[k]):
                if k not in a or k not in b:
                    return f"{path}.{k}", a.get(k, "<missing>"), b.get(k, "<missing>")
                return _first_difference(a[k], b[k], f"{path}.{k}")
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if canonical_json(x) != canonical_json(y):
                return _first_difference(x, y, f"{path}[{i}]")
        if len(a) != len(b):
            return f"{path} (length)", len(a), len(b)
    return path, _short(a), _short(b)


def _short(x: Any) -> Any:
    text = json.dumps(x, ensure_ascii=False)
    return x if len(text) <= 120 else text[:117] + "..."


def verify_record(
    source: Source,
    *,
    log_key: str | None = None,
    receipts: Iterable[Receipt] = (),
    promises: Iterable[str] = (),
    progress: Progress | None = None,
    workers: int | None = None,
) -> Report:
    """Verify an election record (module docstring); never raises for a bad record.

    ``log_key`` pins the expected log key (otherwise the record's header is trusted for it and
    the report's caller should compare it with one obtained independently). ``promises`` are
    ballot promise notes (check 6: signed by the log key, their entry in the log). ``progress`` is
    called as ``progress(phase, done, total)``. ``workers`` processes (default: one per CPU)
    verify the signatures of the chunks ahead of pass 1 and decrypt and validate the final
    ballots of pass 2 (:mod:`rules.record_parallel`); with 0 or 1 no process is started and
    everything runs in this one. The report is the same for every number of workers.
    """
    report = Report()
    verdicts = Verdicts()
    v = _Verifier(report, log_key, list(receipts), progress, verdicts, list(promises))
    opener = _opener(source)
    n_workers = default_workers() if workers is None else workers
    try:
        if n_workers > 1:
            lines = prefetch(opener(), verdicts, log_key=log_key, workers=n_workers)
            try:
                v.pass1(lines)
            finally:
                lines.close()
        else:
            v.pass1(opener())
        for pos, rec in enumerate(v.receipts):
            if pos not in v.receipt_done:
                report.fail(
                    "receipt",
                    f"receipt {pos + 1}: its checkpoint's tree size is not reached by the record",
                    rec.index,
                )
        report.receipts_checked = len(v.receipts)
        v.pass2(opener(), pooled_opening(n_workers) if n_workers > 1 else open_sequentially)
    except _Abort as exc:
        report.fail("format", str(exc))
    except OSError as exc:
        report.fail("format", f"cannot read the record: {exc}")
    for rec_pos in range(len(v.receipts)):
        if rec_pos not in v.receipt_done:
            break
    else:
        if v.receipts and not report.failure_counts["receipt"]:
            report.passed["receipt"] += len(v.receipts)
    return report


def leaf_of(entry: dict[str, Any]) -> bytes:
    """The leaf hash of an entry: SHA-256(0x00 ‖ RFC 8785 bytes)."""
    return hashlib.sha256(b"\x00" + canonical_json(entry)).digest()
