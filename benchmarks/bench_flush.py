"""The cost of a flush (docs/protocol.md "Publication in shuffled batches"; api.log.pool):
milliseconds per flushed entry, for the flush a cast triggers while voting (2·batch_size pooled
ballots with their issuances, all but batch_size appended) and for the flush of a whole pool at the
close.

In process, on a fresh SQLite file and on a fresh PostgreSQL database (STEMBUS_BENCH_PG, default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres, skipped if none answers). Each flush runs
in its own transaction, as in the server: the pool read, the plan (random keep-back, sorting by
leaf hash), the deletes and re-inserts of the pool and seq rows, the append with the Merkle tree
and one signed checkpoint, the commit. The pooled entries are shaped like real ones (an
issuance, a ballot of the real size) but carry no valid signatures: a flush checks none.

Run: ``python -m benchmarks.bench_flush [--db sqlite,postgresql] [--rounds 20]``
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_flows import (  # noqa: E402
    PG_DEFAULT,
    _pg_database,
    _settings,
    machine_reference,
    setup_election,
)


def _entries(eid: str, n: int) -> list[dict[str, Any]]:
    from crypto.canonical import b64e

    out: list[dict[str, Any]] = []
    for _ in range(n):
        out.append(
            {
                "type": "issuance",
                "election": eid,
                "group": "all",
                "pseudonym": secrets.token_hex(16),
            }
        )
        out.append(
            {
                "type": "ballot",
                "election": eid,
                "group": "all",
                "credential": b64e(secrets.token_bytes(32)),
                "prefix": b64e(secrets.token_bytes(32)),
                "issuer_sig": b64e(secrets.token_bytes(256)),
                "seq": 1,
                "ciphertext": b64e(secrets.token_bytes(32 + 192 + 16)),
                "signature": b64e(secrets.token_bytes(64)),
            }
        )
    return out


def _bench_db(url: str, rounds: int, batch: int, print_fn: Callable[[str], Any]) -> dict[str, Any]:
    from sqlmodel import Session

    from api.db import make_engine
    from api.log import pool
    from api.voting.models import BallotSeq
    from crypto.canonical import b64d

    base = "http://127.0.0.1:1"
    eid, _ = setup_election(url, base, 1, batch)
    settings = _settings(url, base)
    engine = make_engine(url)
    per_entry: list[float] = []
    try:
        for _ in range(rounds):
            # a pool that has just become due: 2·B ballots with their issuances, seq rows
            # claimed as the casts claim them
            with Session(engine, info={"settings": settings}) as s:
                es = _entries(eid, 2 * batch)
                pool.pool_entries(s, eid, es)
                for e in es:
                    if e["type"] == "ballot":
                        s.add(
                            BallotSeq(
                                election_id=eid,
                                credential=b64d(e["credential"]),
                                group="all",
                                seq=1,
                            )
                        )
                s.commit()
            with Session(engine, info={"settings": settings}) as s:
                t0 = time.perf_counter()
                rows = pool.flush(s, eid, "all", batch, whole=False)
                s.commit()
                dt = time.perf_counter() - t0
            per_entry.append(1000 * dt / len(rows))
        # the close: the kept-back ballots plus a large pool, flushed whole
        with Session(engine, info={"settings": settings}) as s:
            pool.pool_entries(s, eid, _entries(eid, 500))
            s.commit()
        with Session(engine, info={"settings": settings}) as s:
            t0 = time.perf_counter()
            rows = pool.flush(s, eid, "all", batch, whole=True)
            s.commit()
            close_ms = 1000 * (time.perf_counter() - t0)
    finally:
        engine.dispose()
    appended = 2 * batch + batch  # issuances + ballots not kept back
    return {
        "batch_size": batch,
        "flush_entries": appended,
        "flush_ms_per_entry_median": statistics.median(per_entry),
        "flush_ms_per_entry_max": max(per_entry),
        "flush_ms_median": statistics.median(per_entry) * appended,
        "close_flush_entries": len(rows),
        "close_flush_ms_per_entry": close_ms / len(rows),
    }


def run(
    print_fn: Callable[[str], Any] = print,
    *,
    databases: tuple[str, ...] = ("sqlite", "postgresql"),
    rounds: int = 20,
    batch: int = 20,
) -> list[dict[str, Any]]:
    ref = machine_reference()
    print_fn(
        f"machine: OpenSSL RSA-2048 sign {ref['openssl_rsa2048_sign_ms']:.3f} ms, Python "
        f"{ref['python_ms_per_million_loops']:.0f} ms per million loops (compare runs by these)"
    )
    out = []
    for db in databases:
        cleanup: Callable[[], None] = lambda: None  # noqa: E731
        if db == "sqlite":
            url = f"sqlite:///{tempfile.mkdtemp(prefix='stembus-flush-')}/bench.sqlite3"
        else:
            try:
                url, cleanup = _pg_database(os.environ.get("STEMBUS_BENCH_PG", PG_DEFAULT))
            except Exception as e:  # noqa: BLE001 - no server: report and go on
                print_fn(f"postgresql: skipped ({e})")
                continue
        try:
            r = _bench_db(url, rounds, batch, print_fn) | {"db": db, "machine": ref}
        finally:
            cleanup()
        out.append(r)
        print_fn(
            f"[{db}] flush of {r['flush_entries']} entries (batch_size {batch}): "
            f"{r['flush_ms_per_entry_median']:.3f} ms per entry (median of {rounds}, max "
            f"{r['flush_ms_per_entry_max']:.3f}), {r['flush_ms_median']:.1f} ms in all; close "
            f"flush of {r['close_flush_entries']} entries: "
            f"{r['close_flush_ms_per_entry']:.3f} ms per entry"
        )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--db", default="sqlite,postgresql")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=20)
    a = p.parse_args()
    res = run(databases=tuple(a.db.split(",")), rounds=a.rounds, batch=a.batch_size)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
