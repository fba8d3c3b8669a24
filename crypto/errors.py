"""Typed errors of the crypto package; `web/` maps each to an HTTP status in one table."""

from __future__ import annotations


class CryptoError(Exception):
    """Base of every error `crypto/` raises on purpose; messages never hold key material."""


class IntegrityError(CryptoError):
    """A ciphertext, wrapped key or keyring entry failed authentication or is malformed."""


class KeyNotFound(CryptoError):
    """The data was wrapped under a master key version the keyring does not hold."""


class KeyFileError(CryptoError):
    """The local key file is missing, too widely readable or malformed; the message names it."""


class KeyProviderUnavailable(CryptoError):
    """The key provider (a PKCS#11 token) does not answer: a service fault, not damage."""
