"""Engine and session factories; the caller (a request or a CLI command) owns the transaction."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _make_private(database: str | None) -> None:
    """The SQLite file holds every account: readable by the service's user alone.

    SQLite gives its -wal and -shm files the database file's own mode, so creating the
    file 0600 (whatever the umask) covers them; files left 0644 by an older version are
    closed up here, at the next start.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if each.exists() and stat.S_IMODE(each.stat().st_mode) & 0o077:
            os.chmod(each, 0o600)


def make_engine(database_url: str) -> Engine:
    """An engine for the URL; SQLite gets foreign keys, WAL and a busy timeout.

    Bound parameters are usernames, names, password hashes and ciphertext: they are kept
    out of every error message (and so out of every log line and traceback).
    """
    if database_url.startswith("sqlite"):
        _make_private(make_url(database_url).database)
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
