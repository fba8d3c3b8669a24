"""The object store interface every backend honours, and the shape of its keys."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from locker.errors import InvalidObjectKey

# Chunk size for reads: big enough that per-chunk overhead vanishes, small enough that a
# request serving a document holds about one chunk in memory.
READ_CHUNK_BYTES = 1024 * 1024

# 128 random bits as lowercase hex. The exact shape is enforced on every operation so a key
# can never carry a path separator, a dot segment or anything readable by a human.
_KEY_PATTERN = re.compile(r"[0-9a-f]{32}")


def new_object_key() -> str:
    """Return a fresh random key (32 lowercase hex characters) that reveals nothing."""
    return secrets.token_hex(16)


def is_object_key(candidate: str) -> bool:
    """Tell whether `candidate` has the exact shape of a key from `new_object_key`."""
    return _KEY_PATTERN.fullmatch(candidate) is not None


def check_object_key(key: str) -> str:
    """Return `key` unchanged if it is well formed, else raise InvalidObjectKey."""
    if not isinstance(key, str) or not is_object_key(key):
        # The rejected value is left out of the message: it may be anything, even a path.
        raise InvalidObjectKey("object keys are 32 lowercase hex characters")
    return key


@runtime_checkable
class Replayable(Protocol):
    """Bytes of a known size that can be read again from the start, the same every time:
    each `iter()` is a fresh pass (crypto's EncryptedObject is one)."""

    @property
    def size(self) -> int:
        """How many bytes every pass yields."""
        ...

    def __iter__(self) -> Iterator[bytes]:
        """A fresh pass over the bytes, from the first."""
        ...


class ObjectStore(Protocol):
    """Where encrypted objects live: a flat namespace of opaque keys to byte strings."""

    def new_key(self) -> str:
        """Return a fresh random key that names nothing and collides with nothing."""
        ...

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store the concatenated chunks under `key` and return their length.

        Chunks that are `Replayable` tell their size themselves, and the store may read
        them more than once (S3 sends such an object again when a request is retried).

        Atomic: readers see the previous content (nothing, for a new key) until the whole
        object is stored; on any failure, including one raised by `chunks`, nothing new is
        left behind and the error propagates.
        """
        ...

    def get(self, key: str) -> Iterator[bytes]:
        """Stream the object in chunks of at most about 1 MiB; ObjectNotFound if absent."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object if present; deleting an absent key is not an error."""
        ...

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under `key`."""
        ...

    def list_keys(self) -> Iterator[str]:
        """Yield every key stored in this store, in no particular order."""
        ...

    def ensure_ready(self) -> None:
        """Create the folder or bucket if missing; safe to call any number of times."""
        ...

    def ping(self) -> None:
        """Raise StorageError unless the folder or bucket answers (one cheap request,
        no object read or written): the readiness probe's question."""
        ...
