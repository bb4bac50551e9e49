"""Benchmark: tally and verification of a 100,000-ballot election (targets: tally ≤ 30 s,
verify ≤ 60 s, memory bounded).

Run: ``python -m benchmarks.bench_tally [ballots [verifier workers]]``; ``run(print_fn)`` is the
entry point for ``stembus bench``. The log is built directly with the primitives
(benchmarks.synthetic_election: real credentials, RSASSA-PSS issuer signatures, HPKE ballots, a
signed checkpoint per append) in a child process, so the parent's peak RSS measures only the tally
and the verifier. The tally runs rules.tally exactly as api.tally.service does (pass 1 over every
entry, pass 2 over the ballots, both streamed); the verifier is rules.record.verify_record (every
check of docs/protocol.md), with its signature workers (rules.record_parallel). Wall time depends on
what else runs on the machine, so the load average and the CPU seconds are reported too.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crypto import sealing, shamir  # noqa: E402
from rules.record import verify_record  # noqa: E402
from rules.tally import ElectionLog, compute_result  # noqa: E402

N = 100_000


def _build(path: str, n: int, out: Any) -> None:
    from benchmarks.synthetic_election import build

    per = n // 2
    s = build(
        Path(path),
        voters={"productie": per + per // 9, "kantoor": per - per // 9},
        abstain_every=0,
        revote_every=10,
        invalid_every=997,
        blank_every=101,
    )
    out.put({"size": s.size, "shares": [x.to_text() for x in s.shares], "log_key": s.log_key})


def _entries(path: Path, only_ballots: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as f:
        for raw in f:
            if not raw.startswith(b'{"entry":{'):
                continue
            if only_ballots and b'"type":"ballot"' not in raw:
                continue
            obj = json.loads(raw)
            yield obj["index"], obj["entry"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process and its waited-for children (the verifier's workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run(
    print_fn: Callable[[str], None] = print, n: int = N, workers: int | None = None
) -> list[dict[str, Any]]:
    """``workers``: the verifier's worker processes (default: one per CPU, 0 = none)."""
    figures: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "record.jsonl"
        t0 = time.perf_counter()
        q: Any = multiprocessing.get_context("fork").Queue()
        p = multiprocessing.get_context("fork").Process(target=_build, args=(str(path), n, q))
        p.start()
        meta = q.get()
        p.join()
        build_s = time.perf_counter() - t0
        mb = path.stat().st_size / 1e6
        print_fn(
            f"built {n} voters' log ({meta['size']} entries, {mb:.0f} MB record) "
            f"in {build_s:.1f} s (not part of the targets)"
        )
        rss0 = _rss_mb()

        # --- tally, as api.tally.service.run_tally does it -----------------------------------
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        shares = [shamir.Share.from_text(t) for t in meta["shares"]]
        log = ElectionLog()
        for i, e in _entries(path):
            if e["type"] in ("decryption_key", "result") or (
                e["type"] == "phase_changed" and e["to"] == "tallied"
            ):
                break  # the server tallies the log as it stands at close
            log.add(i, e)
        rec = shamir.recover_matching(
            shares[:3], lambda s: sealing.public_key_from_private(s) == log.sealing_key
        )
        lot_cp = (log.closed_index + 1, b"\0" * 32)  # the root only seeds the lot
        result = compute_result(log, rec.secret, _entries(path, True), lot_cp)
        tally_s = time.perf_counter() - t0
        rss_tally = _rss_mb()
        figures.append(
            {
                "name": "tally",
                "ballots": log.ballot_entries,
                "credentials": len(log.latest),
                "seconds": round(tally_s, 2),
                "target_s": 30,
                "peak_rss_mb": round(rss_tally, 1),
                "load_1min": round(load0, 2),
            }
        )
        print_fn(
            f"tally: {log.ballot_entries} ballot entries, {len(log.latest)} final ballots "
            f"in {tally_s:.1f} s (target ≤ 30 s); peak RSS {rss_tally:.0f} MB "
            f"(before: {rss0:.0f} MB); invalid {len(result['invalid_ballots'])}; "
            f"load average {load0:.1f} on {os.cpu_count()} CPUs"
        )

        # --- the independent verifier ---------------------------------------------------------
        load1 = os.getloadavg()[0]
        cpu0 = _cpu_s()
        t0 = time.perf_counter()
        report = verify_record(path, log_key=meta["log_key"], workers=workers)
        verify_s = time.perf_counter() - t0
        cpu_s = _cpu_s() - cpu0
        load2 = os.getloadavg()[0]
        rss_verify = _rss_mb()
        figures.append(
            {
                "name": "verify",
                "entries": report.entries,
                "checkpoints": report.checkpoints,
                "ok": report.ok,
                "seconds": round(verify_s, 2),
                "cpu_seconds": round(cpu_s, 1),
                "workers": workers if workers is not None else os.cpu_count(),
                "target_s": 60,
                "peak_rss_mb": round(rss_verify, 1),
                "load_1min": [round(load1, 2), round(load2, 2)],
            }
        )
        print_fn(
            f"verify: {report.entries} entries, {report.checkpoints} checkpoints, "
            f"{report.ballots} ballots, ok={report.ok} in {verify_s:.1f} s (target ≤ 60 s); "
            f"peak RSS {rss_verify:.0f} MB; {cpu_s:.0f} CPU-s with the workers; "
            f"load average {load1:.1f} → {load2:.1f}"
        )
        if not report.ok:
            for f in report.failures:
                print_fn(f"  {f}")
    return figures


if __name__ == "__main__":
    run(
        n=int(sys.argv[1]) if len(sys.argv) > 1 else N,
        workers=int(sys.argv[2]) if len(sys.argv) > 2 else None,
    )
