"""The embedded backend: one file per object under a local folder, written atomically."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from locker.errors import ObjectNotFound, StorageError
from locker.storage.base import (
    READ_CHUNK_BYTES,
    Replayable,
    check_object_key,
    is_object_key,
    new_object_key,
)

_FANOUT_PATTERN = re.compile(r"[0-9a-f]{2}")
# Staging area for writes in progress; inside the root so os.replace never crosses a
# filesystem, and dot-named so it can never be mistaken for a fan-out folder.
_STAGING = ".tmp"


class LocalFolderStore:
    """Objects as files `root/<first 2 hex>/<key>`, mode 0600, in folders of mode 0700."""

    def __init__(self, root: Path) -> None:
        self._root = root.absolute()
        self._staging = self._root / _STAGING

    @property
    def root(self) -> Path:
        """The folder holding every object of this store."""
        return self._root

    def new_key(self) -> str:
        """Return a fresh random key that names nothing and collides with nothing."""
        return new_object_key()

    def _path(self, key: str) -> Path:
        check_object_key(key)
        # Fan-out keeps folders small enough for fast lookups with millions of objects.
        return self._root / key[:2] / key

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Write the chunks to a staging file, fsync it and rename it over `key`.

        Readers see the old content or the new one, never a mix; on failure the staging
        file is removed and the error (the iterator's own, or StorageError) propagates.
        """
        final = self._path(key)
        with _failing_as("local store folder is not writable"):
            self._make_folder(final.parent)
            fd, staging_name = tempfile.mkstemp(dir=self._staging, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as staged:
                size = 0
                for chunk in chunks:
                    size += _write(staged, chunk)
                if isinstance(chunks, Replayable) and size != chunks.size:
                    raise StorageError("the object is not the size it announced")
                with _failing_as("could not write the object"):
                    staged.flush()
                    os.fsync(staged.fileno())
            with _failing_as("could not move the object into place"):
                os.replace(staging_name, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(staging_name)
            raise
        # Without syncing the folder, a crash could forget the rename after put returned.
        _sync_folder(final.parent)
        return size

    def get(self, key: str) -> Iterator[bytes]:
        """Stream the object in chunks of at most 1 MiB; ObjectNotFound if absent."""
        path = self._path(key)
        try:
            stored = path.open("rb", buffering=0)
        except FileNotFoundError:
            raise ObjectNotFound() from None
        except OSError as exc:
            raise StorageError("could not open the object") from exc
        return _read_chunks(stored)

    def delete(self, key: str) -> None:
        """Remove the object if present; deleting an absent key is not an error."""
        path = self._path(key)
        with _failing_as("could not delete the object"):
            path.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under `key`."""
        return self._path(key).is_file()

    def list_keys(self) -> Iterator[str]:
        """Yield the key of every object file; staging files and strangers are skipped."""
        with _failing_as("could not list the local store folder"):
            with os.scandir(self._root) as folders:
                fanouts = [
                    entry.path
                    for entry in folders
                    if _FANOUT_PATTERN.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)
                ]
            for fanout in fanouts:
                prefix = os.path.basename(fanout)
                with os.scandir(fanout) as files:
                    for entry in files:
                        if (
                            is_object_key(entry.name)
                            and entry.name.startswith(prefix)
                            and entry.is_file(follow_symlinks=False)
                        ):
                            yield entry.name

    def ensure_ready(self) -> None:
        """Create the root and staging folders (mode 0700) if missing; idempotent."""
        with _failing_as("could not create the local store folder"):
            self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._make_folder(self._staging)

    def ping(self) -> None:
        """Raise StorageError unless the root and staging folders are there and writable."""
        for folder in (self._root, self._staging):
            if not (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)):
                raise StorageError("the local store folder is missing or not writable")

    def _make_folder(self, folder: Path) -> None:
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            return
        _sync_folder(folder.parent)


@contextlib.contextmanager
def _failing_as(message: str) -> Iterator[None]:
    """Turn our own I/O errors into StorageError(message), keeping the cause."""
    try:
        yield
    except OSError as exc:
        raise StorageError(message) from exc


def _write(staged: BinaryIO, chunk: bytes) -> int:
    # Kept apart from the loop so that only our own I/O errors become StorageError, while
    # whatever the chunk iterator raises reaches the caller untouched.
    with _failing_as("could not write the object"):
        return staged.write(chunk)


def _sync_folder(folder: Path) -> None:
    with _failing_as("could not sync the local store folder"):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _read_chunks(stored: BinaryIO) -> Iterator[bytes]:
    with stored:
        while True:
            with _failing_as("could not read the object"):
                chunk = stored.read(READ_CHUNK_BYTES)
            if not chunk:
                return
            yield chunk
