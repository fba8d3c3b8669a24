"""Versioned master keys: the newest wraps, any listed one unwraps (local key file backend).

A keyring-wrapped key is  master key version (4 bytes, big-endian) ‖ `wrap_key` output, with
the version also prepended to the associated data, so editing it cannot point the blob at a
master key it was not sealed under. Rotation appends a version; nothing is re-encrypted
except, by the caller, the wrapped keys rewrapped under the new version (sharing/rekey.py).
crypto/hsm.py keeps the same layout with the master keys inside a PKCS#11 token.

Key file (JSON, mode 0600):
    {"format": "locker-keyring/1",
     "master_keys": [{"version": 1, "created_at": "<ISO 8601 UTC>", "key": "<base64, 32 bytes>"}],
     "audit_signing_key": "<base64 of the raw 32-byte Ed25519 seed>"}
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import stat
import tempfile
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from crypto.erasure import ErasureKeys
from crypto.errors import IntegrityError, KeyFileError, KeyNotFound
from crypto.keys import KEY_SIZE, generate_key, unwrap_key, wrap_key

KEYFILE_FORMAT = "locker-keyring/1"
VERSION_SIZE = 4
_MAX_VERSION = 2 ** (8 * VERSION_SIZE) - 1

_logger = logging.getLogger("crypto.keyring")


class Keyring(Protocol):
    """Where master keys live: a local key file for the embedded default, a PKCS#11 token
    (crypto/hsm.py) in production."""

    def wrap(self, key: bytes, associated_data: bytes) -> bytes:
        """Return `key` wrapped under the current master key, its version embedded and bound."""
        ...

    def unwrap(self, wrapped: bytes, associated_data: bytes) -> bytes:
        """Return the wrapped key; KeyNotFound if its version is unknown, else IntegrityError."""
        ...

    def wrapped_version(self, wrapped: bytes) -> int:
        """Return the master key version a wrapped key claims (not yet authenticated)."""
        ...

    def current_version(self) -> int:
        """Return the version new wraps use: the newest master key."""
        ...

    def audit_signing_key(self) -> Ed25519PrivateKey:
        """Return the Ed25519 key that signs audit-log checkpoints."""
        ...

    def erasure_keys(self) -> ErasureKeys:
        """Return the per-person erasure keys this provider keeps (crypto/erasure.py)."""
        ...


def claimed_version(wrapped: bytes) -> int:
    """The master key version a keyring-wrapped key claims (not yet authenticated), whichever
    provider sealed it: both use the same blob format."""
    if len(wrapped) < VERSION_SIZE:
        raise IntegrityError("wrapped key is too short to hold a master key version")
    return int.from_bytes(wrapped[:VERSION_SIZE], "big")


def unwrap_logged(logger: logging.Logger, version: int, unwrap: Callable[[], bytes]) -> bytes:
    """Return what `unwrap` unwrapped under master key `version`, logging which version was
    used, or failed authentication (the IntegrityError goes on)."""
    try:
        key = unwrap()
    except IntegrityError:
        logger.warning("unwrap failed authentication under master key version %d", version)
        raise
    logger.info("unwrapped a key with master key version %d", version)
    return key


class LocalKeyring:
    """A keyring held in memory, normally loaded from a local key file."""

    def __init__(
        self,
        master_keys: Mapping[int, bytes],
        audit_signing_key: Ed25519PrivateKey,
        erasure_keys: ErasureKeys | None = None,
        source: Path | None = None,
    ) -> None:
        if not master_keys:
            raise ValueError("a keyring needs at least one master key")
        for version, key in master_keys.items():
            if not 1 <= version <= _MAX_VERSION:
                raise ValueError(f"master key version {version} is out of range")
            if len(key) != KEY_SIZE:
                raise ValueError(f"master key version {version} is not {KEY_SIZE} bytes")
        self._master_keys = dict(master_keys)
        self._current_version = max(self._master_keys)
        self._audit_signing_key = audit_signing_key
        self._erasure_keys = erasure_keys or ErasureKeys()
        self._source = source
        self._stamp = _stamp(source) if source is not None else None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        # Only versions: a keyring ends up in tracebacks and debug logs.
        return f"LocalKeyring(versions={sorted(self._master_keys)})"

    @classmethod
    def load(cls, path: Path) -> LocalKeyring:
        """Return the keyring in a key file readable by its owner only; KeyFileError otherwise."""
        master_keys, audit_seed = _parse_keyfile(path, read_private_json(path))
        erasure = ErasureKeys(erasure_keys_file(path))
        return cls(master_keys, Ed25519PrivateKey.from_private_bytes(audit_seed), erasure, path)

    def _follow_rotation(self) -> None:
        """Read the key file's versions again when the file changed (a rotation run by
        another process): new wraps here then use the new version, and a key already
        rewrapped under it opens, without a restart. A version is never dropped."""
        if self._source is None:
            return
        try:
            stamp = _stamp(self._source)
        except OSError:
            return
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            self._stamp = stamp  # tried once per change, not on every call
            try:
                found, _ = _parse_keyfile(self._source, read_private_json(self._source))
            except (KeyFileError, OSError):
                _logger.exception("the key file changed and could not be read: versions kept")
                return
            # A version held here keeps its key: a file that changes one is not a rotation.
            self._master_keys = {**found, **self._master_keys}
            self._current_version = max(self._master_keys)
            _logger.info("key file read again: newest master key version %d", self._current_version)

    def wrap(self, key: bytes, associated_data: bytes) -> bytes:
        """Return `key` wrapped under the current master key, its version embedded and bound."""
        self._follow_rotation()
        version = self._current_version.to_bytes(VERSION_SIZE, "big")
        master_key = self._master_keys[self._current_version]
        return version + wrap_key(master_key, key, version + associated_data)

    def unwrap(self, wrapped: bytes, associated_data: bytes) -> bytes:
        """Return the wrapped key; KeyNotFound if its version is unknown, else IntegrityError."""
        self._follow_rotation()
        version = self.wrapped_version(wrapped)
        master_key = self._master_keys.get(version)
        if master_key is None:
            _logger.warning("unwrap refused: master key version %d is not held", version)
            raise KeyNotFound(f"master key version {version} is not in the keyring")
        return unwrap_logged(
            _logger,
            version,
            lambda: unwrap_key(
                master_key, wrapped[VERSION_SIZE:], wrapped[:VERSION_SIZE] + associated_data
            ),
        )

    def wrapped_version(self, wrapped: bytes) -> int:
        """Return the master key version a wrapped key claims (not yet authenticated)."""
        return claimed_version(wrapped)

    def current_version(self) -> int:
        """Return the version new wraps use: the newest master key."""
        self._follow_rotation()
        return self._current_version

    def audit_signing_key(self) -> Ed25519PrivateKey:
        """Return the Ed25519 key that signs audit-log checkpoints."""
        return self._audit_signing_key

    def erasure_keys(self) -> ErasureKeys:
        """Return the per-person erasure keys, kept next to the key file."""
        return self._erasure_keys


def erasure_keys_file(key_file: Path) -> Path:
    """Where a key file's erasure keys are kept: beside it, as private as it is."""
    return key_file.with_name(f"{key_file.name}.erasure.sqlite")


def create_keyfile(path: Path) -> bool:
    """Create a 0600 key file (master key 1, audit key); False and untouched if it exists."""
    if os.path.lexists(path):
        return False
    seed = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    document = {
        "format": KEYFILE_FORMAT,
        "master_keys": [_new_master_key(1)],
        "audit_signing_key": base64.b64encode(seed).decode("ascii"),
    }
    temporary = write_private_json(path, document)
    try:
        # link() refuses an existing target, unlike rename(): two concurrent creators
        # cannot overwrite each other, and readers never see a half-written file.
        os.link(temporary, path)
    except FileExistsError:
        return False
    except OSError as error:
        raise KeyFileError(f"cannot create key file {path}: {error.strerror}") from None
    finally:
        os.unlink(temporary)
    fsync_directory(path.parent)
    return True


def rotate_master_key(path: Path) -> int:
    """Append a new master key version to the key file atomically and return that version."""
    # One operator rotates at a time; two concurrent rotations could lose one new version.
    document = read_private_json(path)
    master_keys, _ = _parse_keyfile(path, document)
    version = max(master_keys) + 1
    if version > _MAX_VERSION:
        raise KeyFileError(f"key file {path} has no master key version left")
    document["master_keys"].append(_new_master_key(version))
    temporary = write_private_json(path, document)
    try:
        os.replace(temporary, path)
    except OSError as error:
        os.unlink(temporary)
        raise KeyFileError(f"cannot replace key file {path}: {error.strerror}") from None
    fsync_directory(path.parent)
    return version


def _new_master_key(version: int) -> dict[str, Any]:
    return {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "key": base64.b64encode(generate_key()).decode("ascii"),
    }


def read_private_json(path: Path) -> dict[str, Any]:
    """Return the JSON object in a file only its owner may read; KeyFileError otherwise."""
    try:
        with open(path, "rb") as handle:
            # fstat on the open descriptor, so the mode checked is that of the bytes read.
            mode = os.fstat(handle.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise KeyFileError(f"key file {path} is not a regular file")
            if mode & 0o077:
                raise KeyFileError(
                    f"key file {path} is accessible by group or others "
                    f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"
                )
            raw = handle.read()
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist") from None
    except OSError as error:
        raise KeyFileError(f"cannot read key file {path}: {error.strerror}") from None
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        # The decoder's message could quote bytes of the file: keep it out.
        raise KeyFileError(f"key file {path} is not valid JSON") from None
    if not isinstance(document, dict):
        raise KeyFileError(f"key file {path} must hold a JSON object")
    return document


def _stamp(path: Path) -> tuple[int, int, int]:
    """What changes when the key file is replaced (rotation renames a new file in)."""
    found = path.stat()
    return found.st_ino, found.st_mtime_ns, found.st_size


def _parse_keyfile(path: Path, document: dict[str, Any]) -> tuple[dict[int, bytes], bytes]:
    if document.get("format") != KEYFILE_FORMAT:
        raise KeyFileError(f"key file {path}: 'format' must be {KEYFILE_FORMAT!r}")
    entries = document.get("master_keys")
    if not isinstance(entries, list) or not entries:
        raise KeyFileError(f"key file {path}: 'master_keys' must be a non-empty list")
    master_keys: dict[int, bytes] = {}
    for position, entry in enumerate(entries):
        where = f"key file {path}: master_keys[{position}]"
        if not isinstance(entry, dict):
            raise KeyFileError(f"{where} must be an object")
        version = entry.get("version")
        # bool is an int subclass; `true` is not a version.
        if type(version) is not int or not 1 <= version <= _MAX_VERSION:
            raise KeyFileError(f"{where}: 'version' must be an integer from 1 to {_MAX_VERSION}")
        if version in master_keys:
            raise KeyFileError(f"{where}: version {version} appears twice")
        if not isinstance(entry.get("created_at"), str):
            raise KeyFileError(f"{where}: 'created_at' must be a string")
        master_keys[version] = _decode_key(entry.get("key"), f"{where}: 'key'")
    audit_seed = _decode_key(
        document.get("audit_signing_key"), f"key file {path}: 'audit_signing_key'"
    )
    return master_keys, audit_seed


def _decode_key(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise KeyFileError(f"{where} must be a base64 string")
    try:
        key = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise KeyFileError(f"{where} is not valid base64") from None
    if len(key) != KEY_SIZE:
        raise KeyFileError(f"{where} must decode to {KEY_SIZE} bytes")
    return key


def write_private_json(path: Path, document: dict[str, Any]) -> Path:
    """Write the document next to `path` with mode 0600, flushed to disk; return its path."""
    try:
        # mkstemp creates the file 0600 and in the same directory, so the final rename or
        # link stays on one filesystem and is atomic.
        descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise KeyFileError(f"cannot write next to key file {path}: {error.strerror}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def fsync_directory(directory: Path) -> None:
    # Makes the new directory entry itself durable, not only the file's bytes.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
