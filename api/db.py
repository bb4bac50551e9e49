"""Database engine and sessions. SQLite by default (zero set-up), PostgreSQL in production.

The request boundary commits (see `api.deps.SessionDep`); services and repositories never do.

Hot-path statements (login, issuance, casting, log appends) are built once, at import, with
`bindparam` placeholders, and run with a parameter dict. Building a Core `select(...).where(...)`
per call costs about as much Python as running it: measured on PostgreSQL, 87 µs of CPU per
primary-key read built per call against 41 µs prebuilt (benchmarks/bench_flows.py for the
effect on whole flows).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, create_engine

READS_ONLY = "stembus_reads_only"  # execution option: see reads_in_autocommit


def reads_in_autocommit(session: Session) -> None:
    """Run this session's next reads outside a transaction, each statement on its own snapshot.
    On PostgreSQL under READ COMMITTED (the default) every statement of a transaction takes its
    own snapshot anyway, so a read-only transaction adds only the BEGIN and COMMIT round trips
    (and the request's commit hand-off). On SQLite every transaction is BEGIN IMMEDIATE and takes
    the writer turn (below), so reads in a transaction would wait for, and hold up, every writer
    of every process; outside one they run beside the writer (WAL).

    Call before the session's first statement; `session.commit()` ends the mode, and the next
    statement begins an ordinary transaction (the pool restores the isolation level)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    else:
        session.connection(execution_options={READS_ONLY: True})


# Errors that mean "the database cannot be reached or cannot take the request now" (down,
# restarting, a dropped connection, a full pool, SQLite's lock timeout): api.problems answers
# them 503 with Retry-After, never 500.
UNAVAILABLE: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeout,
)


def is_unavailable(e: BaseException) -> bool:
    if isinstance(e, UNAVAILABLE):
        return True
    return isinstance(e, DBAPIError) and bool(e.connection_invalidated)


class CommitOutcomeUnknown(Exception):
    """The database failed while a COMMIT was on its way: the transaction may or may not have
    been committed, and no one can tell the client which (api.problems words it so)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause


def commit(session: Session) -> None:
    """`session.commit()`, with an unavailable database during the COMMIT told apart from one
    before it (where nothing was written): see CommitOutcomeUnknown."""
    try:
        session.commit()
    except BaseException as e:
        if is_unavailable(e):
            raise CommitOutcomeUnknown(e) from e
        raise


def rowcount(session: Session, statement: Any) -> int:
    """Run an UPDATE or DELETE; the number of rows it matched."""
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def make_engine(url: str, **kwargs: Any) -> Engine:
    # Never SQL parameters in an error's text: they hold names and e-mail addresses, and error
    # texts reach logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        writer = _WriterTurn(make_url(url).database)
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": SQLITE_LOCK_TIMEOUT,
                "factory": _queued_writer_connection(writer),
            },
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets readers run beside the single writer; foreign keys are off by default.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            # Let SQLAlchemy's BEGIN be an IMMEDIATE transaction: writers queue on the lock
            # instead of failing half-way with "database is locked" on upgrade.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            if conn.get_execution_options().get(READS_ONLY):
                return  # no BEGIN: the driver runs each read on its own (autocommit)
            conn.connection.dbapi_connection.take_writer_turn()
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if "poolclass" not in kwargs:
        # pool_timeout: a request waits this long for a connection, then gets a 503.
        kwargs.update(pool_size=10, max_overflow=20, pool_timeout=10)
    if url.startswith("postgresql") and "connect_timeout" not in url:
        # An unreachable host fails within seconds (503), instead of after the OS's TCP timeout.
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", 5)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


# A connection idle for longer than this is pinged before use. `pool_pre_ping` pings on every
# checkout, i.e. one extra round trip per request; a connection in steady use was just proven
# alive, so only one that sat idle (where a server restart or a dropped socket goes unnoticed)
# is pinged.
IDLE_PING_SECONDS = 5.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["stembus_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("stembus_idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            cur = dbapi_conn.cursor()
            try:
                cur.execute("SELECT 1")
            finally:
                cur.close()
            dbapi_conn.rollback()
        except Exception as e:  # noqa: BLE001 - any failure: let the pool reconnect
            # The pool discards this connection and retries the checkout with a fresh one.
            raise DisconnectionError(str(e)) from e


SQLITE_LOCK_TIMEOUT = 30.0


class _WriterTurn:
    """A turn to write: a lock among this process's threads, then (for a database file) an
    advisory lock (flock) on `<file>-writer` among processes: the kernel wakes the next waiter
    as soon as the turn is free, and a process that dies releases it."""

    def __init__(self, database: str | None) -> None:
        self.local = threading.Lock()
        self.path = None
        if database and database != ":memory:" and not database.startswith("file:"):
            self.path = database + "-writer"
        self.fd: int | None = None

    def acquire(self, timeout: float) -> bool:
        if not self.local.acquire(timeout=timeout):
            return False
        if self.path is None:
            return True
        try:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            # Blocking: the kernel wakes the next process as soon as the turn is free. A
            # process that dies releases it; SQLite's own timeout still bounds the transaction.
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            return True
        except BaseException:
            self.local.release()
            raise

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.local.release()


def _queued_writer_connection(writer: _WriterTurn) -> type[sqlite3.Connection]:
    """sqlite3 connections of one engine that take turns on `writer` for their transactions.

    Every transaction is BEGIN IMMEDIATE (see make_engine), so the threads of a process queue
    for SQLite's write lock. SQLite's own busy handler makes a waiter sleep 1, 2, 5, … up to
    100 ms between tries, and a thread that just arrived may win over one that waited long: under
    concurrency that gives seconds of tail latency. Queuing first on `writer` (_WriterTurn),
    held from BEGIN until COMMIT or ROLLBACK has *finished*, hands the turn over at once within
    the process and between processes. Waiting for the turn within a process times out as SQLite
    did; waiting for another process's turn does not (that process's transaction is itself bounded
    by SQLite's timeout on its statements)."""

    class QueuedWriterConnection(sqlite3.Connection):
        _holds = False

        def take_writer_turn(self) -> None:
            if self._holds:
                return
            if not writer.acquire(timeout=SQLITE_LOCK_TIMEOUT):
                raise sqlite3.OperationalError("database is locked (waited for the writer turn)")
            self._holds = True

        def _end_turn(self) -> None:
            if self._holds:
                self._holds = False
                writer.release()

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self._end_turn()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._end_turn()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._end_turn()

    return QueuedWriterConnection


def session_scope(engine: Engine, info: dict[str, Any] | None = None) -> Iterator[Session]:
    """One transaction per unit of work: commit on success, roll back on any error.

    ``info`` travels with the session (``session.info``): the log reads the deployment settings
    from it to sign checkpoints (api.log.tree)."""
    with Session(engine, expire_on_commit=False, info=info) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
