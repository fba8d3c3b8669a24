"""The database half of a backup: pg_dump / pg_restore for PostgreSQL, SQLite's backup API.

The dump and the list of objects to copy come from one snapshot: on PostgreSQL pg_dump
imports the snapshot a transaction of ours exported after reading the object keys, so
every key the dump names is in the list, and nothing the list names is missing from it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from locker.audit_models import AuditCheckpoint, AuditLogState
from locker.db import make_engine
from locker.errors import BackupInvalid, BackupToolFailed, TargetRefused, Unreachable
from locker.reconcile import referenced_keys

# A dump of the whole database takes as long as it takes; an hour stops a hung server.
TOOL_TIMEOUT_SECONDS = 3600


@dataclass(frozen=True)
class DatabaseFacts:
    """What the snapshot a dump was taken from says, read in that same snapshot."""

    dialect: str
    migration_revision: str
    object_keys: frozenset[str]
    audit_tree_size: int
    audit_checkpoint_size: int | None


def dialect_of(database_url: str) -> str:
    """ "sqlite" or "postgresql" (the two databases the service runs on)."""
    return "sqlite" if make_url(database_url).get_backend_name() == "sqlite" else "postgresql"


def read_facts(conn: Connection) -> DatabaseFacts:
    """Revision, the keys documents name, and the audit log's size, on `conn`'s snapshot."""
    revisions = sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))
    tree_size = conn.scalar(select(AuditLogState.size)) or 0
    checkpoint = conn.scalar(select(func.max(AuditCheckpoint.tree_size)))
    keys = referenced_keys(Session(bind=conn))
    return DatabaseFacts(
        dialect=conn.dialect.name,
        migration_revision=",".join(revisions),
        object_keys=frozenset(keys),
        audit_tree_size=int(tree_size),
        audit_checkpoint_size=None if checkpoint is None else int(checkpoint),
    )


def dump_database(database_url: str, target: Path, pg_bin: Path | None) -> DatabaseFacts:
    """Write a consistent dump of the database to `target`; the facts of its snapshot."""
    if dialect_of(database_url) == "sqlite":
        return _dump_sqlite(_sqlite_path(database_url), target)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = str(conn.scalar(text("SELECT pg_export_snapshot()")))
                facts = read_facts(conn)
                # The transaction stays open while pg_dump runs: its snapshot lives as long.
                conninfo, env = _libpq(database_url)
                _run_tool(
                    pg_bin,
                    "pg_dump",
                    ["--format=custom", f"--snapshot={snapshot}", f"--file={target}"],
                    conninfo,
                    env,
                )
    finally:
        engine.dispose()
    return facts


def _dump_sqlite(source: Path, target: Path) -> DatabaseFacts:
    if not source.is_file():
        raise BackupToolFailed(f"no SQLite database at {source}")
    with (
        sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True) as src,
        sqlite3.connect(target) as dst,
    ):
        src.backup(dst)  # one step: a consistent copy under one read lock
    src.close()
    dst.close()
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            return read_facts(conn)
    finally:
        engine.dispose()


def _sqlite_path(database_url: str) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:" or "mode=memory" in name:
        raise BackupToolFailed("an in-memory SQLite database cannot be backed up or restored")
    return Path(name)


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for the tools, and their environment: the password goes in
    PGPASSWORD, never on a command line other users can read."""
    url = make_url(database_url)
    conninfo = url._replace(drivername="postgresql", password=None)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return conninfo.render_as_string(hide_password=False), env


def _run_tool(
    pg_bin: Path | None, tool: str, args: list[str], conninfo: str, env: dict[str, str]
) -> None:
    program = str(pg_bin / tool) if pg_bin is not None else shutil.which(tool)
    if program is None or not Path(program).exists():
        raise BackupToolFailed(
            f"{tool} not found: install PostgreSQL's client tools of the server's major "
            "version (Debian: postgresql-client-NN), or name their folder with --pg-bin"
        )
    result = subprocess.run(  # noqa: S603 (a list of arguments, no shell; the program is ours)
        [program, *args, "--no-password", f"--dbname={conninfo}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
        raise BackupToolFailed(f"{tool} failed: {lines[-1]}")


def database_is_empty(database_url: str) -> bool:
    """True when the database has no table at all (a fresh one, not even migrated)."""
    if dialect_of(database_url) == "sqlite":
        path = _sqlite_path(database_url)
        if not path.exists() or path.stat().st_size == 0:
            return True
    engine = create_engine(database_url)
    try:
        return not inspect(engine).get_table_names()
    except OperationalError as exc:
        cause = str(exc.orig or exc).strip().splitlines()[:1]
        raise Unreachable(f"LOCKER_DATABASE_URL does not answer: {''.join(cause)}") from exc
    finally:
        engine.dispose()


def restore_database(
    database_url: str, dump: Path, dialect: str, *, force: bool, pg_bin: Path | None
) -> None:
    """Load `dump` into the database, all or nothing; with `force`, over what is there."""
    if dialect != dialect_of(database_url):
        raise TargetRefused(f"this backup is of a {dialect} database, the target is not")
    if dialect == "sqlite":
        _restore_sqlite(dump, _sqlite_path(database_url))
        return
    conninfo, env = _libpq(database_url)
    replace = ["--clean", "--if-exists"] if force else []
    # One transaction: an interrupted or failed restore leaves the database as it was.
    options = ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    _run_tool(pg_bin, "pg_restore", [*options, *replace, str(dump)], conninfo, env)


def _restore_sqlite(dump: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f"{target.name}.restoring")
    shutil.copyfile(dump, staging)
    os.chmod(staging, 0o600)
    with sqlite3.connect(staging) as conn:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()
    conn.close()
    if verdict is None or verdict[0] != "ok":
        staging.unlink()
        raise BackupInvalid("the SQLite dump fails its integrity check")
    # A log left by an earlier database would be replayed onto the restored one.
    for leftover in ("-wal", "-shm"):
        target.with_name(target.name + leftover).unlink(missing_ok=True)
    staging.replace(target)  # atomic: the old file or the whole new one, never half
