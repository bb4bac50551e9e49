"""Benchmark of the election log primitives: Merkle tree (RFC 9162) and C2SP notes.

Run: ``python -m benchmarks.bench_log`` (or ``python benchmarks/bench_log.py``).
``run(print_fn)`` is the entry point for ``stembus bench``; it returns the
figures as a list of dicts as well as printing them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # allow running as a script from anywhere
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crypto.merkle import (  # noqa: E402
    MemoryNodeStore,
    MerkleLog,
    RootBuilder,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from crypto.note import (  # noqa: E402
    Checkpoint,
    Signer,
    TlogProof,
    open_checkpoint,
    sign_checkpoint,
    verify_tlog_proof,
)

N = 100_000


def _measure(fn: Callable[[int], None], ops: int) -> float:
    """Seconds for ``fn(ops)``, which performs ``ops`` operations."""
    t0 = time.perf_counter()
    fn(ops)
    return time.perf_counter() - t0


def run(print_fn: Callable[[str], None] = print, n: int = N) -> list[dict[str, float | str]]:
    results: list[dict[str, float | str]] = []

    def report(name: str, ops: int, seconds: float) -> None:
        ms = seconds * 1000 / ops
        rate = ops / seconds if seconds > 0 else float("inf")
        results.append({"name": name, "ops": ops, "ms_per_op": ms, "ops_per_s": rate})
        print_fn(f"{name:<48} {ops:>8} ops  {ms:>9.4f} ms/op  {rate:>12,.0f} ops/s")

    print_fn(f"Stembus log benchmark (tree size {n:,})")
    leaves = [leaf_hash(b"entry %d" % i) for i in range(n)]

    # Append one at a time: the server's per-ballot path (one get_many + one put_many).
    store = MemoryNodeStore()
    log = MerkleLog(store)

    def append_one(k: int) -> None:
        for h in leaves[:k]:
            log.append(h)

    report("merkle append (in-memory store, one by one)", n, _measure(append_one, n))

    log_batch = MerkleLog(MemoryNodeStore())

    def append_batch(k: int) -> None:
        for i in range(0, k, 1000):
            log_batch.append_many(leaves[i : i + 1000])

    report("merkle append_many (batches of 1000)", n, _measure(append_batch, n))
    assert log_batch.root() == log.root()

    root = log.root()
    report("merkle root at size n", 1000, _measure(lambda k: [log.root(n) for _ in range(k)], 1000))

    step = max(1, n // 2000)
    indices = list(range(0, n, step))
    proofs: list[list[bytes]] = []

    def incl(k: int) -> None:
        for i in indices[:k]:
            proofs.append(log.inclusion_proof(i, n))

    report("inclusion proof generation", len(indices), _measure(incl, len(indices)))

    def incl_verify(k: int) -> None:
        for i, p in zip(indices[:k], proofs, strict=False):
            verify_inclusion(leaves[i], i, n, p, root)

    report("inclusion proof verification", len(indices), _measure(incl_verify, len(indices)))

    olds = [max(1, i) for i in indices]
    cproofs: list[tuple[int, list[bytes]]] = []

    def cons(k: int) -> None:
        for m in olds[:k]:
            cproofs.append((m, log.consistency_proof(m, n)))

    report("consistency proof generation", len(olds), _measure(cons, len(olds)))
    old_roots = {m: log.root(m) for m in olds}

    def cons_verify(k: int) -> None:
        for m, p in cproofs[:k]:
            verify_consistency(m, n, old_roots[m], root, p)

    report("consistency proof verification", len(olds), _measure(cons_verify, len(olds)))

    def builder(k: int) -> None:
        b = RootBuilder()
        for h in leaves[:k]:
            b.add(h)
        assert b.root() == root

    report("RootBuilder add (verifier recompute)", n, _measure(builder, n))

    signer = Signer("bench.example/elections/1", bytes(range(32)))
    verifier = signer.verifier()
    cp = Checkpoint(signer.name, n, root)
    notes: list[str] = []

    def sign(k: int) -> None:
        for _ in range(k):
            notes.append(sign_checkpoint(cp, signer))

    report("checkpoint signing (Ed25519 signed note)", 2000, _measure(sign, 2000))

    def verify(k: int) -> None:
        for note in notes[:k]:
            open_checkpoint(note, [verifier], origin=signer.name)

    report("checkpoint note verification", 2000, _measure(verify, 2000))

    idx = 12345 % n
    receipt = TlogProof(idx, tuple(log.inclusion_proof(idx, n)), notes[0]).to_text()

    def tlog(k: int) -> None:
        for _ in range(k):
            verify_tlog_proof(receipt, leaves[idx], verifier, origin=signer.name)

    report("tlog-proof parse + verify (receipt)", 2000, _measure(tlog, 2000))
    print_fn(f"nodes stored for {n:,} leaves: {len(store):,}")
    return results


if __name__ == "__main__":
    run()
