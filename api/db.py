"""Database engine and sessions. SQLite by default (zero set-up), PostgreSQL in production.

The request boundary commits (see `api.deps.SessionDep`); services and repositories never do.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
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
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if "poolclass" not in kwargs:
        kwargs.update(pool_size=10, max_overflow=20)
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
