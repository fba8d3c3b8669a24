"""Envelope encryption for the locker: streaming AEAD objects, wrapped keys, master keyring.

Imports only the standard library and `cryptography`, and python-pkcs11 in `crypto.hsm`
(the master keys in a PKCS#11 token).
"""

from crypto.errors import CryptoError, IntegrityError, KeyFileError, KeyNotFound
from crypto.keyring import Keyring, LocalKeyring, create_keyfile, rotate_master_key
from crypto.keys import decrypt_field, encrypt_field, generate_key, unwrap_key, wrap_key
from crypto.streaming import (
    SEGMENT_SIZE,
    EncryptedObject,
    ciphertext_size,
    decrypt_object,
    decrypt_stream,
    encrypt_object,
    encrypt_stream,
    verify_object,
    verify_stream,
)

__all__ = [
    "SEGMENT_SIZE",
    "CryptoError",
    "EncryptedObject",
    "IntegrityError",
    "KeyFileError",
    "KeyNotFound",
    "Keyring",
    "LocalKeyring",
    "ciphertext_size",
    "create_keyfile",
    "decrypt_field",
    "decrypt_object",
    "decrypt_stream",
    "encrypt_field",
    "encrypt_object",
    "encrypt_stream",
    "generate_key",
    "rotate_master_key",
    "unwrap_key",
    "verify_object",
    "verify_stream",
    "wrap_key",
]
