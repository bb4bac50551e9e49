"""Complete voter flows per second against a RUNNING server: log in with the access code,
obtain the blind-signed credential, seal, sign and cast the ballot, verify the receipt.

The server is `stembus serve --workers 2` in a subprocess, on a fresh SQLite file and on a fresh
PostgreSQL database (if one answers at STEMBUS_BENCH_PG, default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres). The load generator runs on the same
machine: `procs` processes × threads, each a cli.client.StembusClient, so the client's own crypto
(blinding, finalize, HPKE seal, Ed25519, receipt verification) is in the figures too. The SDK
talks HTTP through a keep-alive stdlib http.client connection (StdlibHTTP below; `--http httpx`
for httpx, which costs the load generator about 0.2 ms more CPU per request).

One flow is `StembusClient.vote`: three HTTP requests over a keep-alive connection — POST login
(the answer names the voter's kiesgroep), POST credential (client: new Ed25519 key, RSA blind;
server: blind sign, the issuance entry pooled), POST ballot (client: finalize, HPKE seal,
Ed25519 sign; server: all checks, the ballot pooled, a flush of the kiesgroep when the pool holds
2·batch_size ballots, the promise) — and the offline promise check. The election's keys are
fetched and checked once per load thread, before timing. Besides the flow's latency, the cast's
own (the POST ballot, which carries the flushes) is reported: `cast_p99_ms`. The flushes' own cost
per flushed entry is benchmarks/bench_flush.py.

Where the CPU goes: besides flows/s and latency, each level reports CPU milliseconds per flow of
the server processes, of the PostgreSQL server processes (all of them: other work on the same
server counts too) and of the load generator (read from /proc; Linux only, else omitted).

Setting up the election goes through the service functions directly (voters + access codes).

Run: ``python -m benchmarks.bench_flows [--voters N] [--levels 4,16,32] [--db sqlite,postgresql]
[--workers 2] [--procs 2] [--http stdlib|httpx]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-secret-" + "b" * 40
QUESTIONS = [{"id": "q1", "text": "Akkoord?", "rule": "yes_no_abstain"}]


def _settings(url: str, base: str) -> Any:
    from api.settings import Settings

    return Settings(database_url=url, secret=SECRET, public_base_url=base, log_level="WARNING")


def setup_election(url: str, base: str, voters: int, batch_size: int = 20) -> tuple[str, list[str]]:
    """A consultation in `voting` with `voters` voters; returns (election id, access codes)."""
    from sqlmodel import Session

    from api.auth.service import issue_code
    from api.auth.tokens import Principal
    from api.db import make_engine
    from api.elections import service as elections
    from api.elections.schemas import ElectionCreate
    from api.log.service import append_entry, entries_of_type
    from api.migrate import upgrade
    from api.roll import service as roll
    from api.roll.models import Voter
    from api.voting import keys
    from crypto import sealing
    from crypto.canonical import b64e
    from rules.settings import ElectionSettings

    settings = _settings(url, base)
    upgrade(url)
    engine = make_engine(url)
    committee = Principal(subject="bench", roles=frozenset({"operator", "committee"}))
    codes: list[str] = []
    with Session(engine, info={"settings": settings}) as s:
        es = ElectionSettings(kind="consultation", questions=QUESTIONS, batch_size=batch_size)
        e = elections.create_election(
            s, ElectionCreate(name="bench", organisation="bench", settings=es), committee
        )
        for i in range(voters):
            v = Voter(
                election_id=e.id,
                employee_number=f"B{i:06d}",
                name=f"Bench {i}",
                kiesgroep="all",
                employment_start=date(2015, 1, 1),
                may_vote=True,
            )
            s.add(v)
            s.flush()
            assert v.id is not None
            codes.append(issue_code(s, settings, e.id, "voter", v.id))
        elections.transition(s, e, "lists_published", committee)
        roll.freeze(s, e, committee)
        if not entries_of_type(s, e.id, "questions_published"):  # until api/lists writes it
            append_entry(
                s,
                e.id,
                {
                    "type": "questions_published",
                    "election": e.id,
                    "questions": es.model_dump(mode="json")["questions"],
                },
            )
        _, pk = sealing.generate_keypair()
        keys.prepare_keys(s, settings, e, b64e(pk), 1, 1, committee)
        elections.transition(s, e, "voting", committee)
        s.commit()
        eid = e.id
    engine.dispose()
    return eid, codes


def machine_reference(seconds: float = 0.5) -> dict[str, float]:
    """How fast this machine is right now, to compare figures taken on different VMs: OpenSSL's
    RSA-2048 PSS signature (ms/op, C) and a fixed loop of Python bytecode (ms per million
    iterations). Two VMs of this project measured 0.21 ms and 0.39 ms for the signature, and
    flows/s and CPU per flow moved with it (docs/performance.md)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    n, t0 = 0, time.process_time()
    while time.process_time() - t0 < seconds:
        key.sign(b"stembus", pss, hashes.SHA384())
        n += 1
    rsa_ms = 1000 * (time.process_time() - t0) / n
    t0 = time.process_time()
    acc = 0
    for i in range(2_000_000):
        acc += i & 7
    py_ms = 1000 * (time.process_time() - t0) / 2
    return {"openssl_rsa2048_sign_ms": rsa_ms, "python_ms_per_million_loops": py_ms}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, workers: int = 2) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "STEMBUS_DATABASE_URL": url,
        "STEMBUS_SECRET": SECRET,
        "STEMBUS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "STEMBUS_LOG_LEVEL": "WARNING",
    }
    cmd = [str(Path(sys.executable).parent / "stembus"), "serve", "--port", str(port)]
    cmd += ["--workers", str(workers), "--no-migrate"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


_dumps = json.dumps  # StdlibHTTP.request's `json` parameter shadows the module


class StdlibHTTP:
    """The part of httpx.Client the SDK uses (`request`, `post`), over one keep-alive
    http.client connection: about 0.12 ms of CPU per request against httpx's 0.32 here, so
    more of the machine is left to the server. The SDK (cli.client.StembusClient) does exactly
    the same protocol work over either; `--http httpx` measures with httpx itself."""

    def __init__(self, base: str) -> None:
        import http.client
        from urllib.parse import urlsplit

        u = urlsplit(base)
        self._conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port or 80, timeout=60)

    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
    ) -> _Response:
        from urllib.parse import urlencode, urlsplit

        u = urlsplit(url)
        path = u.path + (f"?{urlencode(params)}" if params else "")
        hdrs = dict(headers or {})
        body = content
        if json is not None:
            body = _dumps(json).encode()
            hdrs["Content-Type"] = "application/json"
        self._conn.request(method, path, body=body, headers=hdrs)
        r = self._conn.getresponse()
        return _Response(r.status, r.read())

    def post(self, url: str, **kw: Any) -> _Response:
        return self.request("POST", url, **kw)


class _Response:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code, self.content = status, body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


def _worker(
    args: tuple[str, str, list[str], int, str],
) -> tuple[float, float, list[float], float, list[float]]:
    """One load process: `threads` threads, each running whole flows for the codes it gets."""
    import threading

    import httpx

    from cli.client import StembusClient

    base, eid, codes, threads, http = args
    lat: list[float] = []
    cast_lat: list[float] = []
    lock = threading.Lock()
    it = iter(codes)
    warm = StembusClient(base)
    keys = warm.keys(eid)

    def run() -> None:
        transport = StdlibHTTP(base) if http == "stdlib" else httpx.Client(timeout=60.0)
        client = StembusClient(base, transport)  # type: ignore[arg-type]
        client._keys[eid] = keys
        while True:
            with lock:
                code = next(it, None)
            if code is None:
                break
            t0 = time.perf_counter()
            # StembusClient.vote, step by step, to time the cast on its own
            login = client.sign_in(eid, code)
            cred = client.obtain_credential(eid, login.token, login.group)
            t1 = time.perf_counter()
            client.cast(cred, {"q1": ["yes"]})
            t2 = time.perf_counter()
            with lock:
                lat.append(t2 - t0)
                cast_lat.append(t2 - t1)

    ts = [threading.Thread(target=run) for _ in range(threads)]
    cpu0 = time.process_time()  # this process's CPU during the flows (not its start-up)
    start = time.time()  # wall clock: comparable between the load processes
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return start, time.time(), lat, time.process_time() - cpu0, cast_lat


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return out


def _cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two snapshots by the processes alive at the second one (a
    process that started in between counts from zero; one that ended is not counted)."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def _tree(pid: int) -> list[int]:
    """pid and its descendants (uvicorn's supervisor and workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def _postgres_pids() -> list[int]:
    out = []
    for d in Path("/proc").glob("[0-9]*"):
        try:
            if (d / "comm").read_text().startswith("postgres"):
                out.append(int(d.name))
        except OSError:
            pass
    return out


def measure(
    base: str,
    eid: str,
    codes: list[str],
    concurrency: int,
    procs: int,
    server_pid: int | None = None,
    http: str = "stdlib",
) -> dict[str, Any]:
    procs = max(1, min(procs, concurrency))
    have_proc = Path("/proc/self/stat").exists() and server_pid is not None
    if have_proc:
        assert server_pid is not None
        server0, pg0 = _cpu_by_pid(_tree(server_pid)), _cpu_by_pid(_postgres_pids())
    per = [codes[i::procs] for i in range(procs)]
    threads = max(1, concurrency // procs)
    with mp.get_context("spawn").Pool(procs) as pool:
        results = pool.map(_worker, [(base, eid, chunk, threads, http) for chunk in per])
    # From the first flow started to the last one finished (process start-up excluded).
    wall = max(r[1] for r in results) - min(r[0] for r in results)
    lat = sorted(x for r in results for x in r[2])
    cast = sorted(x for r in results for x in r[4])
    out: dict[str, Any] = {
        "concurrency": concurrency,
        "flows": len(lat),
        "seconds": wall,
        "flows_per_s": len(lat) / wall,
        "p50_ms": statistics.median(lat) * 1000,
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
        "cast_p50_ms": statistics.median(cast) * 1000,
        "cast_p99_ms": cast[min(len(cast) - 1, int(len(cast) * 0.99))] * 1000,
    }
    if have_proc:
        assert server_pid is not None
        n = max(1, len(lat))
        out["cpu_ms_per_flow"] = {
            "server": 1000 * _cpu_used(server0, _cpu_by_pid(_tree(server_pid))) / n,
            "postgres": 1000 * _cpu_used(pg0, _cpu_by_pid(_postgres_pids())) / n,
            "load_generator": 1000 * sum(r[3] for r in results) / n,
        }
        out["loadavg"] = os.getloadavg()[0]
    return out


def _pg_database(server: str) -> tuple[str, Callable[[], None]]:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(server)
    name = f"stembus_bench_{secrets.token_hex(4)}"

    def admin() -> Any:
        return psycopg.connect(
            host=u.host,
            port=u.port or 5432,
            user=u.username,
            password=u.password,
            dbname=u.database or "postgres",
            autocommit=True,
        )

    with admin() as c:
        c.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin() as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return u.set(database=name).render_as_string(hide_password=False), drop


def run(
    print_fn: Callable[[str], Any] = print,
    *,
    voters_per_level: int = 600,
    levels: tuple[int, ...] = (4, 16, 32),
    databases: tuple[str, ...] = ("sqlite", "postgresql"),
    procs: int = 2,
    workers: int = 2,
    http: str = "stdlib",
    batch_size: int = 20,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    ref = machine_reference()
    print_fn(
        f"machine: OpenSSL RSA-2048 sign {ref['openssl_rsa2048_sign_ms']:.3f} ms, Python "
        f"{ref['python_ms_per_million_loops']:.0f} ms per million loops (compare runs by these)"
    )
    for db in databases:
        cleanup: Callable[[], None] = lambda: None  # noqa: E731
        if db == "sqlite":
            tmp = tempfile.mkdtemp(prefix="stembus-bench-")
            url = f"sqlite:///{tmp}/bench.sqlite3"
        else:
            try:
                url, cleanup = _pg_database(os.environ.get("STEMBUS_BENCH_PG", PG_DEFAULT))
            except Exception as e:  # noqa: BLE001 - no server: report and go on
                print_fn(f"postgresql: skipped ({e})")
                continue
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        total = voters_per_level * len(levels) + 8
        t0 = time.perf_counter()
        eid, codes = setup_election(url, base, total, batch_size)
        print_fn(
            f"[{db}] set up {total} voters in {time.perf_counter() - t0:.1f} s; server workers "
            f"{workers}, load generator {procs} processes over {http}; batch_size {batch_size}"
        )
        proc = start_server(url, port, workers)
        try:
            # warm-up: each worker process loads keys and caches (not measured)
            measure(base, eid, codes[:8], 2, 2, http=http)
            pos = 8
            for c in levels:
                chunk = codes[pos : pos + voters_per_level]
                pos += voters_per_level
                r = measure(base, eid, chunk, c, procs, proc.pid, http) | {"db": db}
                r["batch_size"] = batch_size
                r["machine"] = ref
                out.append(r)
                cpu = r.get("cpu_ms_per_flow")
                if cpu and db == "sqlite":
                    cpu["postgres"] = 0.0  # not in play (other users' PostgreSQL work)
                where = (
                    f"; CPU ms/flow: server {cpu['server']:.1f}, postgres {cpu['postgres']:.1f}, "
                    f"load generator {cpu['load_generator']:.1f}; load {r['loadavg']:.2f}"
                    if cpu
                    else ""
                )
                print_fn(
                    f"[{db}] concurrency {c:>3}: {r['flows']} flows in {r['seconds']:.1f} s = "
                    f"{r['flows_per_s']:.0f} flows/s, p50 {r['p50_ms']:.0f} ms, "
                    f"p99 {r['p99_ms']:.0f} ms; cast p50 {r['cast_p50_ms']:.0f} ms, "
                    f"p99 {r['cast_p99_ms']:.0f} ms{where}"
                )
        finally:
            proc.terminate()
            proc.wait(10)
            cleanup()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--voters", type=int, default=600, help="flows per concurrency level")
    p.add_argument("--levels", default="4,16,32")
    p.add_argument("--db", default="sqlite,postgresql")
    p.add_argument("--procs", type=int, default=2, help="load generator processes")
    p.add_argument("--workers", type=int, default=2, help="server worker processes")
    p.add_argument(
        "--http",
        choices=("stdlib", "httpx"),
        default="stdlib",
        help="the SDK's HTTP transport in the load generator (see StdlibHTTP)",
    )
    p.add_argument(
        "--batch-size", type=int, default=20, help="the election's batch_size (at least 5)"
    )
    a = p.parse_args()
    res = run(
        voters_per_level=a.voters,
        levels=tuple(int(x) for x in a.levels.split(",")),
        databases=tuple(a.db.split(",")),
        procs=a.procs,
        workers=a.workers,
        http=a.http,
        batch_size=a.batch_size,
    )
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
