"""Group commit of the voting paths' writes: several requests' pool inserts in one transaction.

Appends to an election's log are serialised by the election's row lock, held until COMMIT
(api.log.service). One append per transaction means one WAL flush and ~8 round trips per entry
inside the lock, so throughput is bounded by 1 / (lock hold time) and collapses under
concurrency. Here the requests of one process that want to append to the same election queue up;
whoever gets the per-election mutex becomes the *leader* and runs everything queued in one
transaction (leader/follower group commit, no background thread):

1. each job's ``work(session)``, in queue order: its atomic rule (one credential per voter, the
   ``seq`` rule) as one conditional statement whose *result* says accept or refuse, so a refused
   job never aborts the transaction; it returns the entry to append, or ``None`` (nothing to
   append), or raises a ProblemError (refused, nothing written). This runs *before* the
   election's lock: a job's rows (the voter's claim, the credential's seq) lock only themselves;
2. ``SELECT status ... FOR UPDATE``: the election's lock, and a close that committed meanwhile
   refuses every queued item (the rollback drops their rows; no entry lands after ``voting
   closed``);
3. one INSERT of all accepted entries into their kiesgroep's pool (api.log.pool, docs/protocol.md
   "Publication in shuffled batches"), then, for each group the batch touched, the flush if its
   pool now holds 2·``batch_size`` ballots (one append of the flushed entries, one checkpoint);
4. each job's ``after(session, entry)`` builds its answer (a ballot promise, or the credential);
5. one COMMIT; only then are the answers handed out.

The election's lock is the one thing every append of an election waits for, across processes,
so it is held for the append alone: with the jobs' statements and the blind signatures inside
it, a batch of eight held it ~15 ms under load (each round trip inside it waits for the GIL of a
busy process again) and throughput stalled on it with CPU to spare. Lock order is always job
rows, then the election row, and the election's holder waits for no job row, so batches cannot
deadlock on the election; two batches that both hold a claim the other wants (the same two
voters, issued twice at once, in opposite order) can, and PostgreSQL's deadlock detection ends
one, which then runs its jobs one by one (below).

If anything unexpected fails (a database error, a signing fault), the batch is rolled back and
each job is run again alone, so one bad job cannot sink the others and a job's answer is only
ever given for a committed append. The leader runs the batch in its own request's session
(after ending that session's read-only transaction); followers have released their connection
before queuing, so a full pool cannot deadlock.

On SQLite the same holds with the database's one writer turn (api.db) in place of the row
lock: a batch takes the turn once for its jobs instead of once per request, and holds it for the
batch's statements only, not for a whole request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, select

from api.db import CommitOutcomeUnknown
from api.db import commit as commit_session
from api.elections.models import Election
from api.problems import ProblemError

# A job's entry: as it is, or already encoded (api.log.pool.Encoded).
Entry = Any
Work = Callable[[Session], Entry | None]
After = Callable[[Session, Entry | None], Any]


@dataclass(eq=False)
class Job:
    work: Work
    after: After
    group: str = ""
    batch_size: int = 20
    result: Any = None
    error: BaseException | None = None
    done: bool = False


@dataclass(eq=False)
class _Queue:
    mutex: threading.Lock = field(default_factory=threading.Lock)
    guard: threading.Lock = field(default_factory=threading.Lock)
    pending: list[Job] = field(default_factory=list)


_E = Election.__table__.c  # type: ignore[attr-defined]
# FOR NO KEY UPDATE (PostgreSQL; SQLite ignores it): the jobs' INSERTs before it hold KEY SHARE
# locks on the election row through their foreign keys, which a plain FOR UPDATE would wait for
# (two batches, each waiting for the other's KEY SHARE: a deadlock). NO KEY UPDATE still
# excludes every other batch's and any status change's lock, which is what serialises appends.
_LOCK_STATUS = select(_E.status).where(_E.id == bindparam("id")).with_for_update(key_share=True)

_QUEUES: dict[tuple[int, str], _Queue] = {}
_QUEUES_LOCK = threading.Lock()


def _queue(session: Session, election_id: str) -> _Queue:
    key = (id(session.get_bind()), election_id)
    q = _QUEUES.get(key)
    if q is None:
        with _QUEUES_LOCK:
            q = _QUEUES.setdefault(key, _Queue())
    return q


def submit(
    session: Session,
    election_id: str,
    work: Work,
    after: After,
    refuse_closed: Callable[[str], ProblemError],
    *,
    group: str,
    batch_size: int,
) -> Any:
    """Run `work` then `after` under the election's lock with its entry pooled in between (and
    the group flushed if that makes it due); return `after`'s result once committed.

    `refuse_closed(status)` makes the error for a job whose election is no longer in `voting`.
    The caller's session must hold no writes of its own: it is committed first (its reads end,
    and its connection, or on SQLite its writer turn, is released while we wait).
    """
    job = Job(work, after, group, batch_size)
    session.commit()
    q = _queue(session, election_id)
    with q.guard:
        q.pending.append(job)
    with q.mutex:
        if not job.done:
            with q.guard:
                batch, q.pending = q.pending, []
            _run_batch(session, election_id, batch, refuse_closed)
    return _outcome(job)


def _outcome(job: Job) -> Any:
    if job.error is not None:
        raise job.error
    return job.result


def _run_batch(
    session: Session,
    election_id: str,
    batch: list[Job],
    refuse_closed: Callable[[str], ProblemError],
) -> None:
    try:
        _run(session, election_id, batch, refuse_closed, commit=True)
    except BaseException as e:
        _rollback(session)
        for job in batch:
            job.result, job.error = None, None
        if isinstance(e, CommitOutcomeUnknown):
            # The COMMIT may have landed: running the jobs again would not tell either. Every
            # job's client hears that the outcome is unknown (its retry is safe: docs/protocol.md).
            for job in batch:
                job.error = e
        elif len(batch) == 1:
            batch[0].error = e
        else:
            for job in batch:  # one at a time, so one failure cannot sink the others
                try:
                    _run(session, election_id, [job], refuse_closed, commit=True)
                except BaseException as e1:  # noqa: BLE001 - handed to the job's own caller
                    _rollback(session)
                    job.result, job.error = None, e1
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
    finally:
        for job in batch:
            job.done = True


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    except Exception:  # noqa: BLE001, S110 - the database is gone; the job's error is the answer
        pass


def _run(
    session: Session,
    election_id: str,
    batch: list[Job],
    refuse_closed: Callable[[str], ProblemError],
    *,
    commit: bool,
) -> None:
    from api.log import pool

    if commit and getattr(session.connection().connection.dbapi_connection, "autocommit", False):
        # The lock, the rules and the append must be one transaction.
        raise RuntimeError("group commit on a connection in autocommit")
    # 1. Each job's rule, before the election's lock: its own rows (the voter's claim, the
    #    credential's seq) lock only themselves, so this part of several batches runs at once.
    accepted: list[tuple[Job, dict[str, Any] | None]] = []
    for job in batch:
        try:
            accepted.append((job, job.work(session)))
        except ProblemError as e:
            job.error = e
    # 2. The election's lock, held to COMMIT and kept short: the status once more (a close that
    #    committed meanwhile refuses everything, and the rollback drops the jobs' rows), then
    #    only the append. The row lock orders after the jobs' rows in every batch, and the
    #    holder waits for no job row, so batches cannot deadlock on it.
    status = session.execute(_LOCK_STATUS, {"id": election_id}).scalar_one()
    if status != "voting":
        for job, _ in accepted:
            job.error = refuse_closed(status)
        if commit:
            session.rollback()
        return
    pool.pool_entries(session, election_id, [e for _, e in accepted if e is not None])
    due = {job.group: job.batch_size for job, e in accepted if e is not None}
    for group in sorted(due):
        pool.flush_if_due(session, election_id, group, due[group])
    results = [(job, job.after(session, e)) for job, e in accepted]
    if commit:
        commit_session(session)
    for job, result in results:
        job.result = result
