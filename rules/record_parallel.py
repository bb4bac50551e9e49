"""Signature verdicts computed ahead of the verifier by a process pool (rules.record).

The verifier (:mod:`rules.record`) stays one sequential pass that runs every check on every item,
in order, with the exact messages and entry indices of before. What this module adds is a
*prefetcher*: it reads the record in chunks of lines and hands each chunk to a worker process,
which verifies every signature it can find in it (checkpoint notes under the log key, ballot
Ed25519 signatures under their credential, issuer RSASSA-PSS signatures under the group keys of
the latest ``keys`` entry) and returns a small table of *verdicts*.

A verdict is keyed by a SHA-256 digest of everything the verification depended on: the
algorithm, the public key (raw Ed25519 bytes, or the DER SubjectPublicKeyInfo of the RSA key), the
message and the signature. When the verifier comes to a signature it computes the same digest
from *its own* key, message and signature and uses the verdict only if there is one for exactly
that digest; otherwise (a worker did not know the key, parsed the line differently, crashed, or
there is no pool at all) it verifies the signature itself. So the verdicts only save time: what is
accepted is decided by the same inputs as without them (barring a SHA-256 collision).

Memory stays bounded: at most ``ahead`` chunks are in flight, and the verdict table of a chunk
is dropped when the verifier moves on to the next one.

Pass 2 (check 5: decrypt every final ballot and recount) is spread the same way by
:func:`pooled_opening`, an :data:`rules.tally.OpenBallots`: the final ballots, slimmed to their
group and ciphertext, go to the workers in chunks of ``PASS2_CHUNK``, at most ``ahead`` chunks in
flight; each worker opens them with the same :class:`rules.tally.BallotOpener` code as the
sequential path and the results are handed back strictly in log order. The tally only ever sees
that ordered stream, so the result (counts, invalid ballots and their order, lot draws) does not
depend on the number of workers or on which finished first. A chunk whose worker failed for any
reason is opened again in this process, so a genuine error (a ballot that makes opening raise)
surfaces at the same ballot, with the same exception, as without workers.

The worker functions and their caches are module level, so the pool works with the ``fork``
start method (used on Linux) as well as ``spawn``/``forkserver`` (elsewhere).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from crypto import blindrsa, note
from crypto.canonical import EncodingError, b64d
from crypto.credential import entry_signing_bytes
from rules.tally import BallotOpener, OpenBallots, Opened

__all__ = [
    "CHUNK_LINES",
    "PASS2_CHUNK",
    "Verdicts",
    "ballot_signing_bytes",
    "checkpoint_digest",
    "open_checkpoint",
    "default_workers",
    "ed25519_digest",
    "open_chunk",
    "pooled_opening",
    "prefetch",
    "rsa_digest",
    "rsa_ident",
    "verify_chunk",
]

CHUNK_LINES = 2000
# Final ballots per pass-2 task: ~0.1 ms each to open, so a task is tens of milliseconds of work
# against well under a millisecond of sending it.
PASS2_CHUNK = 500
_TYPE_BALLOT_END = b',"type":"ballot"}'


def default_workers() -> int:
    """One worker per CPU: the verifier is CPU-bound (signatures, HPKE)."""
    return os.cpu_count() or 1


# --------------------------------------------------------------------------------- digests


def _field(b: bytes) -> bytes:
    return len(b).to_bytes(4, "big") + b


def ed25519_digest(public_key: bytes, message: bytes, signature: bytes) -> bytes:
    return hashlib.sha256(
        b"ed25519\0" + _field(public_key) + _field(signature) + _field(message)
    ).digest()


def checkpoint_digest(log_key: str, origin: str | None, text: str) -> bytes:
    o = b"\0" if origin is None else b"\1" + origin.encode("utf-8", "surrogatepass")
    return hashlib.sha256(
        b"checkpoint\0"
        + _field(log_key.encode("utf-8", "surrogatepass"))
        + _field(o)
        + _field(text.encode("utf-8", "surrogatepass"))
    ).digest()


# What note.open_checkpoint(text, log key, origin) gave: (size, root hash) or the NoteError text.
CheckpointVerdict = tuple[int, bytes] | str


def open_checkpoint(text: str, verifier: note.Verifier, origin: str | None) -> CheckpointVerdict:
    try:
        cp = note.open_checkpoint(text, verifier, origin)
    except note.NoteError as exc:
        return str(exc)
    return (cp.size, cp.root_hash)


def rsa_ident(key: rsa.RSAPublicKey) -> bytes:
    """A unique encoding of the RSA public key (n, e)."""
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def rsa_digest(ident: bytes, message: bytes, signature: bytes) -> bytes:
    return hashlib.sha256(
        b"rsa-pss\0" + _field(ident) + _field(signature) + _field(message)
    ).digest()


def ballot_signing_bytes(body: bytes, entry: dict[str, Any]) -> bytes:
    """What a ballot's signature signs: RFC 8785 bytes of the entry without ``signature``.

    ``body`` must be ``canonical_json(entry)``. When the entry is a ballot whose ``signature`` is
    a plain base64 string (nothing to escape) and ``type`` is its last member, those bytes are
    ``body`` with the ``,"signature":"…"`` member cut out (RFC 8785 serialises an object as its
    members in sorted order, each independently); otherwise they are recomputed.
    """
    sig = entry.get("signature")
    if isinstance(sig, str):
        try:
            b64d(sig)  # only [A-Za-z0-9+/=]: serialised as itself between quotes
        except EncodingError:
            return entry_signing_bytes(entry)
        tail = b',"signature":"' + sig.encode("ascii") + b'"' + _TYPE_BALLOT_END
        if body.endswith(tail):
            return body[: -len(tail)] + _TYPE_BALLOT_END
    return entry_signing_bytes(entry)


# --------------------------------------------------------------------------------- verdicts


class Verdicts:
    """The verdict table of the chunk the verifier is in; a miss verifies directly."""

    __slots__ = ("current", "hits", "misses")

    def __init__(self) -> None:
        self.current: dict[bytes, Any] = {}
        self.hits = 0
        self.misses = 0

    def ed25519(self, public_key: bytes, message: bytes, signature: bytes) -> bool | None:
        """The precomputed verdict for exactly these inputs, or None."""
        if not self.current:
            self.misses += 1
            return None
        v = self.current.get(ed25519_digest(public_key, message, signature))
        if v is None:
            self.misses += 1
        else:
            self.hits += 1
        return v

    def checkpoint(self, log_key: str, origin: str | None, text: str) -> CheckpointVerdict | None:
        """What ``note.open_checkpoint(text, <log_key>, origin)`` gave in a worker, or None."""
        if not self.current:
            self.misses += 1
            return None
        v = self.current.get(checkpoint_digest(log_key, origin, text))
        if v is None:
            self.misses += 1
        else:
            self.hits += 1
        return v

    def rsa(self, ident: bytes, message: bytes, signature: bytes) -> bool | None:
        if not self.current:
            self.misses += 1
            return None
        v = self.current.get(rsa_digest(ident, message, signature))
        if v is None:
            self.misses += 1
        else:
            self.hits += 1
        return v


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Like :func:`crypto.credential.verify_entry`'s core: invalid keys are just invalid."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(signature, message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# --------------------------------------------------------------------------------- workers

_log_verifiers: dict[str, note.Verifier | None] = {}
_issuer_keys: dict[str, tuple[Any, bytes] | None] = {}


def _log_verifier(key: str | None) -> note.Verifier | None:
    if key is None:
        return None
    if key not in _log_verifiers:
        try:
            _log_verifiers[key] = note.Verifier.from_key_string(key)
        except note.NoteError:
            _log_verifiers[key] = None
    return _log_verifiers[key]


def _issuer_key(jwk: Any) -> tuple[Any, bytes] | None:
    try:
        k = json.dumps(jwk, sort_keys=True)
    except (TypeError, ValueError):
        return None
    if k not in _issuer_keys:
        try:
            key = blindrsa.public_key_from_jwk(jwk)
            _issuer_keys[k] = (key, rsa_ident(key))
        except Exception:  # noqa: BLE001 - a malformed key gives no verdicts, the verifier reports it
            _issuer_keys[k] = None
    return _issuer_keys[k]


def verify_chunk(
    lines: list[bytes],
    log_key: str | None,
    origin: str | None,
    issuer_jwks: dict[str, Any] | None,
) -> dict[bytes, Any]:
    """Worker: verify every signature found in ``lines``; return verdicts by digest.

    ``issuer_jwks`` are the issuer keys of the latest ``keys`` entry before the chunk; a ``keys``
    entry inside the chunk replaces them from there on, as in the verifier. Anything unexpected in
    a line just means no verdict for it.
    """
    out: dict[bytes, Any] = {}
    verifier = _log_verifier(log_key)
    jwks = issuer_jwks if isinstance(issuer_jwks, dict) else {}
    for raw in lines:
        try:
            if raw.startswith(b'{"checkpoint":'):
                if verifier is not None and log_key is not None:
                    text = json.loads(raw)["checkpoint"]
                    if isinstance(text, str):
                        d = checkpoint_digest(log_key, origin, text)
                        if d not in out:
                            out[d] = open_checkpoint(text, verifier, origin)
            elif raw.startswith(b'{"entry":{'):
                if b'"type":"ballot"' in raw:
                    _ballot_verdicts(raw, jwks, out)
                elif b'"type":"keys"' in raw:
                    e = json.loads(raw)["entry"]
                    if e.get("type") == "keys":
                        jwks = dict(e.get("issuer_keys") or {})
        except Exception:  # noqa: BLE001, S112 - no verdict: the verifier checks this line itself
            continue
    return out


def _ballot_verdicts(raw: bytes, jwks: dict[str, Any], out: dict[bytes, Any]) -> None:
    obj = json.loads(raw)
    e = obj["entry"]
    if e.get("type") != "ballot":
        return
    cred = b64d(e["credential"])
    sig = b64d(e["signature"])
    body = raw[len(b'{"entry":') : raw.rindex(b',"index":')]
    msg = ballot_signing_bytes(body, e)
    out[ed25519_digest(cred, msg, sig)] = ed25519_verify(cred, msg, sig)
    loaded = _issuer_key(jwks.get(e["group"])) if isinstance(e.get("group"), str) else None
    if loaded is not None:
        key, ident = loaded
        imsg = b64d(e["prefix"]) + cred
        isig = b64d(e["issuer_sig"])
        out[rsa_digest(ident, imsg, isig)] = blindrsa.verify(key, imsg, isig)


# --------------------------------------------------------------------------------- prefetcher


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _keys_in(chunk: list[bytes], current: dict[str, Any] | None) -> dict[str, Any] | None:
    for raw in chunk:
        if raw.startswith(b'{"entry":{') and b'"type":"keys"' in raw:
            try:
                e = json.loads(raw)["entry"]
                if e.get("type") == "keys":
                    current = dict(e.get("issuer_keys") or {})
            except Exception:  # noqa: BLE001, S112 - the verifier reports a malformed entry
                continue
    return current


def prefetch(
    lines: Iterable[bytes],
    verdicts: Verdicts,
    *,
    log_key: str | None,
    workers: int,
    chunk_lines: int | None = None,
    ahead: int | None = None,
) -> Generator[bytes, None, None]:
    """Yield ``lines`` unchanged, in order, while workers compute the verdicts of the chunks
    ahead; ``verdicts.current`` holds the table of the chunk the last yielded line belongs to.

    ``log_key`` is the pinned key, if any (otherwise the header's is used). Falls back to plain
    iteration (no verdicts) if no process pool can be started.
    """
    it = iter(lines)
    first = next(it, None)
    if first is None:
        return
    yield first
    try:
        h = json.loads(first)
    except ValueError:
        h = None
    h = h if isinstance(h, dict) else {}
    key = log_key if log_key is not None else h.get("log_key")
    key = key if isinstance(key, str) else None
    origin = h.get("origin") if isinstance(h.get("origin"), str) else None
    try:
        ex = ProcessPoolExecutor(max_workers=workers, mp_context=_context())
    except (OSError, ValueError, NotImplementedError):
        verdicts.current = {}
        yield from it
        return
    pending: deque[tuple[list[bytes], Future[dict[bytes, Any]]]] = deque()
    jwks: dict[str, Any] | None = None
    depth = ahead if ahead is not None else 2 * workers + 2
    n_lines = chunk_lines or CHUNK_LINES

    def submit() -> bool:
        nonlocal jwks
        chunk = list(islice(it, n_lines))
        if not chunk:
            return False
        try:
            fut = ex.submit(verify_chunk, chunk, key, origin, jwks)
        except Exception:  # noqa: BLE001 - a broken pool: the verifier verifies itself
            fut = Future()
            fut.set_result({})
        pending.append((chunk, fut))
        jwks = _keys_in(chunk, jwks)
        return True

    try:
        while len(pending) < depth and submit():
            pass
        while pending:
            chunk, fut = pending.popleft()
            submit()
            try:
                verdicts.current = fut.result()
            except Exception:  # noqa: BLE001 - a broken pool: the verifier verifies itself
                verdicts.current = {}
            yield from chunk
            del chunk
    finally:
        verdicts.current = {}
        ex.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------------- pass 2

_opener: BallotOpener | None = None


def _set_opener(opener: BallotOpener) -> None:
    """Pool initializer: the key, ballot size and definitions are sent once per worker."""
    global _opener
    _opener = opener


def open_chunk(items: list[tuple[int, dict[str, Any]]]) -> list[Opened]:
    """Worker: open the final ballots of one chunk, in order (:meth:`BallotOpener.open`)."""
    assert _opener is not None, "the pool initializer sets the opener"
    return [_opener.open(index, entry) for index, entry in items]


def pooled_opening(
    workers: int, *, chunk: int | None = None, ahead: int | None = None
) -> OpenBallots:
    """An :data:`rules.tally.OpenBallots` that opens the final ballots in ``workers`` processes.

    Reads ``finals`` lazily, keeps at most ``ahead`` chunks (default ``2 * workers + 2``) of
    ``chunk`` ballots (default ``PASS2_CHUNK``) in flight and yields the results in the order of
    ``finals``. Anything ``finals`` raises (the tally's own checks, an unreadable record) comes
    out of the iteration as it would without workers; the pool is shut down however the
    iteration ends. Without a pool (it cannot be started) everything is opened in this process.
    """

    def run(opener: BallotOpener, finals: Iterable[tuple[int, dict[str, Any]]]) -> Iterator[Opened]:
        it = iter(finals)
        n = chunk or PASS2_CHUNK
        depth = ahead if ahead is not None else 2 * workers + 2
        try:
            ex = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=_context(),
                initializer=_set_opener,
                initargs=(opener,),
            )
        except (OSError, ValueError, NotImplementedError):
            for index, entry in it:
                yield opener.open(index, entry)
            return
        # (chunk, its future, or what reading ``finals`` raised after the chunk before it)
        pending: deque[
            tuple[list[tuple[int, dict[str, Any]]], Future[list[Opened]] | None, Exception | None]
        ] = deque()
        done_reading = False

        def submit() -> None:
            nonlocal done_reading
            if done_reading:
                return
            items: list[tuple[int, dict[str, Any]]] = []
            error: Exception | None = None
            try:
                for index, entry in islice(it, n):
                    items.append((index, BallotOpener.slim(entry)))
            except Exception as exc:  # noqa: BLE001 - raised in order, after the ballots before it
                error = exc
            if len(items) < n:
                done_reading = True
            if items:
                try:
                    fut: Future[list[Opened]] = ex.submit(open_chunk, items)
                except Exception:  # noqa: BLE001 - a broken pool: this chunk is opened here
                    fut = Future()
                    fut.set_exception(RuntimeError("the pool is broken"))
                pending.append((items, fut, None))
            if error is not None:
                pending.append(([], None, error))

        try:
            while len(pending) < depth and not done_reading:
                submit()
            while pending:
                items, fut, error = pending.popleft()
                if error is not None:
                    raise error
                assert fut is not None
                try:
                    opened = fut.result()
                except Exception:  # noqa: BLE001 - redone here: same results, same errors
                    opened = [opener.open(index, entry) for index, entry in items]
                del items
                submit()
                yield from opened
        finally:
            ex.shutdown(wait=True, cancel_futures=True)

    return run
