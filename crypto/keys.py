"""Key generation, key wrapping and small-field encryption with AES-256-GCM.

A sealed value is  format (1 byte) ‖ nonce (12 random bytes) ‖ AES-GCM ciphertext ‖ tag,
authenticated with  format ‖ purpose ‖ associated data. The format byte is bound so that a
future layout cannot be confused with this one; the purpose label keeps a wrapped key and an
encrypted field apart even under the same key and associated data.
"""

from __future__ import annotations

import os
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto.errors import IntegrityError

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
FORMAT_V1 = b"\x01"

# NUL-terminated so that no label is a prefix of another: label ‖ associated data stays
# unambiguous whatever the caller's associated data is.
_WRAPPED_KEY = b"locker/wrapped-key\x00"
_FIELD = b"locker/field\x00"


class Aead(Protocol):
    """AES-256-GCM under a key held elsewhere (`AESGCM`, or a key inside a hardware token):
    decrypt raises cryptography's InvalidTag when authentication fails."""

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        """Return ciphertext ‖ 16-byte tag."""
        ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        """Return the plaintext of ciphertext ‖ tag, or raise InvalidTag."""
        ...


def generate_key() -> bytes:
    """Return a fresh 32-byte key from the operating system's CSPRNG."""
    return os.urandom(KEY_SIZE)


def wrap_key(wrapping_key: bytes, key: bytes, associated_data: bytes) -> bytes:
    """Return `key` sealed under `wrapping_key`; it unwraps only with the same associated data."""
    return wrap_key_with(_aead(wrapping_key), key, associated_data)


def unwrap_key(wrapping_key: bytes, wrapped: bytes, associated_data: bytes) -> bytes:
    """Return the key sealed by `wrap_key`, or raise IntegrityError if anything differs."""
    return unwrap_key_with(_aead(wrapping_key), wrapped, associated_data)


def wrap_key_with(aead: Aead, key: bytes, associated_data: bytes) -> bytes:
    """`wrap_key` with the wrapping key behind `aead` (e.g. inside a token): same layout."""
    if len(key) != KEY_SIZE:
        raise ValueError(f"only {KEY_SIZE}-byte keys are wrapped")
    return _seal(aead, key, _WRAPPED_KEY, associated_data)


def unwrap_key_with(aead: Aead, wrapped: bytes, associated_data: bytes) -> bytes:
    """`unwrap_key` with the wrapping key behind `aead`; IntegrityError if anything differs."""
    key = _open(aead, wrapped, _WRAPPED_KEY, associated_data)
    if len(key) != KEY_SIZE:
        raise IntegrityError("wrapped key has the wrong length")
    return key


def encrypt_field(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """Return a small value (title, file name) sealed under `key` and bound to associated data."""
    return _seal(_aead(key), plaintext, _FIELD, associated_data)


def decrypt_field(key: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
    """Return the value sealed by `encrypt_field`, or raise IntegrityError if anything differs."""
    return _open(_aead(key), ciphertext, _FIELD, associated_data)


def _seal(aead: Aead, plaintext: bytes, purpose: bytes, associated_data: bytes) -> bytes:
    # Random 96-bit nonces: the birthday bound (2**32 seals per key at 2**-32 collision
    # risk) is far above what one person or master key ever seals.
    nonce = os.urandom(NONCE_SIZE)
    sealed = aead.encrypt(nonce, plaintext, FORMAT_V1 + purpose + associated_data)
    return FORMAT_V1 + nonce + sealed


def _open(aead: Aead, sealed: bytes, purpose: bytes, associated_data: bytes) -> bytes:
    if len(sealed) < 1 + NONCE_SIZE + TAG_SIZE:
        raise IntegrityError("sealed value is truncated")
    if sealed[:1] != FORMAT_V1:
        raise IntegrityError("sealed value has an unknown format byte")
    nonce = sealed[1 : 1 + NONCE_SIZE]
    try:
        return aead.decrypt(nonce, sealed[1 + NONCE_SIZE :], FORMAT_V1 + purpose + associated_data)
    except InvalidTag:
        raise IntegrityError("sealed value failed authentication") from None


def _aead(key: bytes) -> AESGCM:
    # Callers pass keys from generate_key or a keyring; any other length is a bug, not an
    # integrity failure, so it is not reported as one.
    if len(key) != KEY_SIZE:
        raise ValueError(f"key must be {KEY_SIZE} bytes")
    return AESGCM(key)
