"""Erasure keys: one random key per person, kept by the key provider beside the master keys
(never in the database, never in the object store), destroyed when the person closes
their account.

Each person key is sealed under the person's erasure key on top of the master key's wrap.
Destroying the erasure key at closure makes every copy of that person's wrapped key
useless, including the copies in database backups taken before: a restored old database
and bucket, opened with the keys of today, decrypt nothing of a closed account. Backups
of the key provider itself still hold it until they expire (docs/closure.md).

The local provider keeps them in an SQLite file next to the key file (mode 0600, WAL, one
connection per thread), read on every unwrap: closing an account in one process is
final in every process at once. Written by hand because no maintained library keeps a
small durable map of secrets that processes share on one host without a server.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from crypto.errors import KeyNotFound
from crypto.keys import generate_key

_SCHEMA = "CREATE TABLE IF NOT EXISTS erasure_keys (owner TEXT PRIMARY KEY, key BLOB NOT NULL)"


class ErasureKeys:
    """A durable map from an owner's id to their erasure key; in memory without a path."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._local = threading.local()
        self._memory: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return f"ErasureKeys({self._path})"

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Made on first use (a command that never unwraps leaves no file), private
            # before SQLite opens it: it holds keys.
            assert self._path is not None
            os.close(os.open(self._path, os.O_CREAT | os.O_RDWR, 0o600))
            conn = sqlite3.connect(str(self._path), timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute(_SCHEMA)
            self._local.conn = conn
        return conn

    def create(self, owner: str) -> bytes:
        """A new erasure key for `owner` (ValueError if they already have one)."""
        key = generate_key()
        if self._path is None:
            if owner in self._memory:
                raise ValueError("this owner already has an erasure key")
            self._memory[owner] = key
            return key
        try:
            self._connection().execute("INSERT INTO erasure_keys VALUES (?, ?)", (owner, key))
        except sqlite3.IntegrityError:
            raise ValueError("this owner already has an erasure key") from None
        return key

    def get(self, owner: str) -> bytes:
        """The owner's erasure key; KeyNotFound once it is destroyed (or never was)."""
        if self._path is None:
            key = self._memory.get(owner)
        else:
            row = (
                self._connection()
                .execute("SELECT key FROM erasure_keys WHERE owner = ?", (owner,))
                .fetchone()
            )
            key = None if row is None else bytes(row[0])
        if key is None:
            raise KeyNotFound("no erasure key for this owner")
        return key

    def owners(self) -> list[str]:
        """Every owner holding an erasure key, in a stable order."""
        if self._path is None:
            return sorted(self._memory)
        rows = self._connection().execute("SELECT owner FROM erasure_keys ORDER BY owner")
        return [str(row[0]) for row in rows]

    def adopt(self, owner: str, key: bytes) -> bool:
        """Keep `key` (copied from another provider) as the owner's erasure key; False if it
        is already theirs, ValueError if they hold a different one."""
        try:
            held = self.get(owner)
        except KeyNotFound:
            if self._path is None:
                self._memory[owner] = key
            else:
                self._connection().execute("INSERT INTO erasure_keys VALUES (?, ?)", (owner, key))
            return True
        if held != key:
            raise ValueError("this owner already has a different erasure key")
        return False

    def destroy(self, owner: str) -> bool:
        """Destroy the owner's erasure key for good; False if there was none."""
        if self._path is None:
            return self._memory.pop(owner, None) is not None
        conn = self._connection()
        deleted = conn.execute("DELETE FROM erasure_keys WHERE owner = ?", (owner,)).rowcount
        # Overwritten, not just unlinked: secure_delete zeroes the freed bytes, and the
        # checkpoint writes the change into the file and empties the write-ahead log.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted > 0
