"""Engine and session factories; the caller (a request or a CLI command) owns the transaction."""

from __future__ import annotations

import contextlib
import os
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def _owner_only(database: Path) -> None:
    # The database holds hashes and wrapped keys: only the service's user may read it.
    # SQLite gives the -wal and -shm files the mode of the database file, so creating
    # the file 0600 ourselves covers all three; chmod mends files made by older versions.
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    except FileNotFoundError:
        return  # the directory is missing: SQLite will give its own error
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, 0o600)


def _sqlite_pragmas(database: Path | None, dbapi_connection: Any, _record: Any) -> None:
    if database is not None:
        _owner_only(database)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(database_url: str) -> Engine:
    """An engine for the URL; SQLite gets foreign keys, WAL and a busy timeout."""
    # hide_parameters: an error message must never carry a username, a name or a hash.
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"timeout": 10}, hide_parameters=True)
        name = engine.url.database
        on_disk = Path(name) if name and name != ":memory:" and "mode=memory" not in name else None
        if on_disk is not None:
            _owner_only(on_disk)
        event.listen(engine, "connect", partial(_sqlite_pragmas, on_disk))
        return engine
    return create_engine(
        database_url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        hide_parameters=True,
        # Whatever the server's default: an audit append waits on the log's state row and
        # then reads its new size; under SERIALIZABLE it would fail instead (a 503).
        isolation_level="READ COMMITTED",
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (we render after committing)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
