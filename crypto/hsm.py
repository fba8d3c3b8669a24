"""Master keys inside a PKCS#11 token (a hardware security module; SoftHSM2 in the tests).

Each master key version N is an AES-256 key the token generated itself, labelled
`locker-master-v<N>`, sensitive and never extractable: it never leaves the token. A wrap
or an unwrap is one AES-GCM operation computed by the token, in the local keyring's exact
layout (crypto/keyring.py): version (4 bytes) ‖ format ‖ nonce ‖ ciphertext ‖ tag, the
version bound into the associated data; only where AES-GCM runs changes.

Beside the token, a sidecar file (JSON, mode 0600):
    {"format": "locker-pkcs11-sidecar/1", "audit_signing_key": "<base64 of the wrapped seed>"}
holds the Ed25519 audit signing key's seed wrapped by the token like any key (a stolen
sidecar signs nothing); the per-person erasure keys stay in an SQLite file next to it
(crypto/erasure.py), as they do beside a key file. docs/operations.md says why.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import pkcs11
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11 import exceptions as p11
from pkcs11.mechanisms import GCMParams

from crypto.erasure import ErasureKeys
from crypto.errors import KeyFileError, KeyNotFound, KeyProviderUnavailable
from crypto.keyring import (
    VERSION_SIZE,
    claimed_version,
    erasure_keys_file,
    fsync_directory,
    read_private_json,
    unwrap_logged,
    write_private_json,
)
from crypto.keys import KEY_SIZE, TAG_SIZE, unwrap_key_with, wrap_key_with

SIDECAR_FORMAT = "locker-pkcs11-sidecar/1"
LABEL_PREFIX = "locker-master-v"
_LABEL = re.compile(r"locker-master-v([1-9][0-9]{0,9})")
_MAX_VERSION = 2 ** (8 * VERSION_SIZE) - 1
_AUDIT_KEY_AAD = b"locker/audit-signing-key/v1"
# What SoftHSM2 answers a failed GCM tag with (CKR_GENERAL_ERROR); the standard says
# CKR_ENCRYPTED_DATA_INVALID. Either, on a decrypt, is a refused ciphertext.
_REFUSED_CIPHERTEXT = (
    p11.GeneralError,
    p11.EncryptedDataInvalid,
    p11.EncryptedDataLenRange,
    p11.DataLenRange,
)
# A PIN the token refused is not tried again by this process: tokens lock after a few.
_REFUSED_PIN = (p11.PinIncorrect, p11.PinLocked, p11.PinExpired, p11.PinInvalid, p11.PinLenRange)

_logger = logging.getLogger("crypto.hsm")
T = TypeVar("T")


@dataclass(frozen=True)
class TokenLocation:
    """Where the master keys are: a PKCS#11 module, a token label, the user PIN's file."""

    module: Path
    token_label: str
    pin_file: Path

    def __str__(self) -> str:
        return f"pkcs11:{self.module}?token={self.token_label}"


def read_pin(pin_file: Path) -> str:
    """The user PIN: the file's first line (KeyFileError naming the file otherwise)."""
    try:
        pin = pin_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise KeyFileError(
            f"LOCKER_PKCS11_PIN_FILE {pin_file}: cannot read it ({reason})"
        ) from None
    if not pin or not pin[0]:
        raise KeyFileError(f"LOCKER_PKCS11_PIN_FILE {pin_file} holds no PIN on its first line")
    return pin[0]


class _TokenKey(Protocol):
    # What python-pkcs11's AES key objects offer (their classes are built at run time).
    def encrypt(self, data: bytes, buffer_size: int = ..., **kwargs: Any) -> Any: ...

    def decrypt(self, data: bytes, buffer_size: int = ..., **kwargs: Any) -> Any: ...


class _TokenAead:
    """AES-256-GCM computed by the token with one of its keys (crypto.keys.Aead)."""

    def __init__(self, key: _TokenKey) -> None:
        self._key = key

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        param = GCMParams(nonce, associated_data, TAG_SIZE * 8)
        return bytes(self._key.encrypt(data, mechanism=Mechanism.AES_GCM, mechanism_param=param))

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        param = GCMParams(nonce, associated_data, TAG_SIZE * 8)
        try:
            plain = self._key.decrypt(data, mechanism=Mechanism.AES_GCM, mechanism_param=param)
        except _REFUSED_CIPHERTEXT:
            raise InvalidTag() from None
        return bytes(plain)


class _Token:
    """One logged-in session on the token, shared by the threads of a keyring.

    A PKCS#11 session runs one operation at a time, hence the lock. A session the token
    dropped (restart, failover, removal) is opened again once per call before the call
    is reported as KeyProviderUnavailable.
    """

    def __init__(self, location: TokenLocation) -> None:
        self.location = location
        self._lock = threading.Lock()
        self._session: pkcs11.Session | None = None
        self._keys: dict[int, _TokenKey] = {}
        self._pin_refused = False

    def run(self, operation: Callable[[pkcs11.Session], T]) -> T:
        """Run `operation` on a live session; KeyProviderUnavailable if the token is gone."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    return operation(self._live_session())
                except (p11.PKCS11Error, RuntimeError, OSError) as error:
                    self._forget_session()
                    if attempt == 2 or isinstance(error, _REFUSED_PIN):
                        _logger.warning("PKCS#11 token does not answer (%s)", type(error).__name__)
                        raise KeyProviderUnavailable(
                            f"the PKCS#11 token {self.location} does not answer "
                            f"({type(error).__name__})"
                        ) from None
        raise AssertionError("unreachable")

    def key(self, session: pkcs11.Session, version: int) -> _TokenKey:
        """The token's master key of `version` (KeyNotFound if the token holds none)."""
        key = self._keys.get(version)
        if key is None:
            try:
                found = session.get_key(
                    object_class=ObjectClass.SECRET_KEY,
                    key_type=KeyType.AES,
                    label=f"{LABEL_PREFIX}{version}",
                )
            except p11.NoSuchKey:
                raise KeyNotFound(f"master key version {version} is not in the token") from None
            except p11.MultipleObjectsReturned:
                raise KeyFileError(
                    f"the token holds two keys labelled {LABEL_PREFIX}{version}"
                ) from None
            key = self._keys[version] = cast(_TokenKey, found)
        return key

    def _live_session(self) -> pkcs11.Session:
        if self._session is None:
            if self._pin_refused:
                raise p11.PinIncorrect()
            token = pkcs11.lib(str(self.location.module)).get_token(
                token_label=self.location.token_label
            )
            try:
                self._session = token.open(user_pin=read_pin(self.location.pin_file), rw=True)
            except p11.UserAlreadyLoggedIn:
                # Logging in is per process: another keyring of this process already did.
                self._session = token.open(rw=True)
            except _REFUSED_PIN:
                self._pin_refused = True
                raise
        return self._session

    def _forget_session(self) -> None:
        session, self._session = self._session, None
        self._keys.clear()
        if session is not None:
            # Already gone with the token, maybe: nothing left to close then.
            with contextlib.suppress(p11.PKCS11Error, RuntimeError):
                session.close()


def _master_versions(session: pkcs11.Session) -> list[int]:
    versions = set()
    for found in session.get_objects(
        {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES}
    ):
        match = _LABEL.fullmatch(str(found[Attribute.LABEL]))
        if match and int(match.group(1)) <= _MAX_VERSION:
            versions.add(int(match.group(1)))
    return sorted(versions)


def _generate_master_key(session: pkcs11.Session, version: int) -> None:
    session.generate_key(
        KeyType.AES,
        KEY_SIZE * 8,
        label=f"{LABEL_PREFIX}{version}",
        store=True,
        capabilities=MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT,
        template={
            # Generated here, never readable nor wrappable out, and these two flags can
            # never be turned back (the token sets ALWAYS_SENSITIVE, NEVER_EXTRACTABLE).
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.PRIVATE: True,
            Attribute.WRAP: False,
            Attribute.UNWRAP: False,
            Attribute.DERIVE: False,
            Attribute.SIGN: False,
            Attribute.VERIFY: False,
        },
    )


class Pkcs11Keyring:
    """Master keys in a PKCS#11 token; the audit seed and erasure keys beside it."""

    def __init__(self, location: TokenLocation, sidecar: Path) -> None:
        self._token = _Token(location)
        self._sidecar = sidecar
        self._versions: list[int] = []
        self._audit_key: Ed25519PrivateKey | None = None
        self._erasure_keys = ErasureKeys(erasure_keys_file(sidecar))

    def __repr__(self) -> str:
        return f"Pkcs11Keyring({self._token.location}, versions={self._versions})"

    @classmethod
    def open(cls, location: TokenLocation, sidecar: Path) -> Pkcs11Keyring:
        """A keyring on a provisioned token: at least one master key, and the sidecar."""
        keyring = cls(location, sidecar)
        if not keyring.master_versions():
            raise KeyFileError(
                f"the token {location} holds no master key ({LABEL_PREFIX}<N>): "
                "run `locker init` or `locker migrate-key-provider`"
            )
        keyring.audit_signing_key()
        return keyring

    def master_versions(self) -> list[int]:
        """The master key versions the token holds now (read from the token)."""
        self._versions = self._token.run(_master_versions)
        return list(self._versions)

    def add_master_key(self, version: int) -> None:
        """Generate master key `version` inside the token (KeyFileError if it has it)."""
        if not 1 <= version <= _MAX_VERSION:
            raise KeyFileError(f"master key version {version} is out of range")
        if version in self.master_versions():
            raise KeyFileError(f"the token already holds master key version {version}")
        self._token.run(lambda session: _generate_master_key(session, version))
        self.master_versions()

    def wrap(self, key: bytes, associated_data: bytes) -> bytes:
        """Return `key` wrapped under the newest master key, its version embedded and bound."""
        # The versions are read again first (one search in the token): a rotation run by
        # `locker rotate-master-key` is used by every running process at once.
        if not self.master_versions():
            raise KeyNotFound(f"the token {self._token.location} holds no master key")
        current = self._versions[-1]
        version = current.to_bytes(VERSION_SIZE, "big")
        return version + self._token.run(
            lambda session: wrap_key_with(
                _TokenAead(self._token.key(session, current)), key, version + associated_data
            )
        )

    def unwrap(self, wrapped: bytes, associated_data: bytes) -> bytes:
        """Return the wrapped key; KeyNotFound if its version is unknown, else IntegrityError."""
        version = self.wrapped_version(wrapped)
        if version not in self._versions and version not in self.master_versions():
            # Read again first: another process may have rotated since this one started.
            _logger.warning("unwrap refused: master key version %d is not held", version)
            raise KeyNotFound(f"master key version {version} is not in the token")
        return unwrap_logged(
            _logger,
            version,
            lambda: self._token.run(
                lambda session: unwrap_key_with(
                    _TokenAead(self._token.key(session, version)),
                    wrapped[VERSION_SIZE:],
                    wrapped[:VERSION_SIZE] + associated_data,
                )
            ),
        )

    def wrapped_version(self, wrapped: bytes) -> int:
        """Return the master key version a wrapped key claims (not yet authenticated)."""
        return claimed_version(wrapped)

    def current_version(self) -> int:
        """Return the version new wraps use: the newest master key in the token."""
        if not self._versions and not self.master_versions():
            raise KeyNotFound(f"the token {self._token.location} holds no master key")
        return self._versions[-1]

    def audit_signing_key(self) -> Ed25519PrivateKey:
        """Return the Ed25519 key that signs checkpoints, unwrapped by the token once."""
        if self._audit_key is None:
            document = read_private_json(self._sidecar)
            if document.get("format") != SIDECAR_FORMAT:
                raise KeyFileError(f"{self._sidecar}: 'format' must be {SIDECAR_FORMAT!r}")
            seed = self.unwrap(_decode(self._sidecar, document), _AUDIT_KEY_AAD)
            self._audit_key = Ed25519PrivateKey.from_private_bytes(seed)
        return self._audit_key

    def erasure_keys(self) -> ErasureKeys:
        """Return the per-person erasure keys, kept in an SQLite file beside the sidecar."""
        return self._erasure_keys

    def write_sidecar(self, audit_key: Ed25519PrivateKey | None = None) -> None:
        """Write the sidecar with the audit key (given, or the one it holds) wrapped under the
        current master key, atomically: at provisioning and after each rotation."""
        key = audit_key or self.audit_signing_key()
        seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        document = {
            "format": SIDECAR_FORMAT,
            "audit_signing_key": base64.b64encode(self.wrap(seed, _AUDIT_KEY_AAD)).decode(),
        }
        temporary = write_private_json(self._sidecar, document)
        try:
            os.replace(temporary, self._sidecar)
        except OSError as error:
            os.unlink(temporary)
            raise KeyFileError(f"cannot write {self._sidecar}: {error.strerror}") from None
        fsync_directory(self._sidecar.parent)
        self._audit_key = key


def _decode(path: Path, document: dict[str, object]) -> bytes:
    value = document.get("audit_signing_key")
    try:
        if not isinstance(value, str):
            raise ValueError
        return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise KeyFileError(f"{path}: 'audit_signing_key' must be a base64 string") from None
