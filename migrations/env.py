"""Alembic environment: migrations target the SQLModel metadata of `api.models`.

Batch mode (`render_as_batch`) lets the same migrations alter tables on SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from api.db import make_engine
from api.models import metadata

config = context.config


def _url() -> str:
    x = context.get_x_argument(as_dictionary=True)
    if "url" in x:
        return x["url"]
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from api.settings import get_settings

    return get_settings().sqlalchemy_url


def run_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = (
        make_engine(_url(), poolclass=pool.NullPool)
        if not _url().startswith("sqlite")
        else make_engine(_url())
    )
    with engine.connect() as conn:
        context.configure(
            connection=conn, target_metadata=metadata, render_as_batch=True, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
