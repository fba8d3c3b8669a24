"""Alembic environment: the URL comes from the caller's config (`locker init`) or LOCKER_*."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import locker.audit_models
import sharing.models
from locker.db import make_engine
from locker.models import Base

# Every module that defines tables is imported above, so autogenerate sees them all.
_MODEL_MODULES = (locker.audit_models, sharing.models)

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from locker.settings import load_settings

        url = load_settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
