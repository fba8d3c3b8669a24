"""Engine and session factories; the caller (a request or a CLI command) owns the transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(database_url: str) -> Engine:
    """An engine for the URL; SQLite gets foreign keys, WAL and a busy timeout.

    Bound parameters are usernames, names, password hashes and ciphertext: they are kept
    out of every error message (and so out of every log line and traceback).
    """
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"timeout": 10}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        database_url, pool_pre_ping=True, pool_size=5, max_overflow=10, hide_parameters=True
    )


def make_session_factory(
    engine: Engine, info: dict[str, Any] | None = None
) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (we render after committing)."""
    return sessionmaker(bind=engine, expire_on_commit=False, info=info)
