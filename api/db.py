"""Database engine and sessions. SQLite by default (zero set-up), PostgreSQL in production.

The request boundary commits (see `api.deps.SessionDep`); services and repositories never do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
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
    return create_engine(url, pool_pre_ping=True, **kwargs)


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
