"""Interoperability with Google's tink, given the same raw key material.

crypto/ output must decrypt with tink and tink output with crypto/, for the streaming AEAD
(raw and framed) and for the AES-GCM format of wrapped keys and encrypted fields.
"""

from __future__ import annotations

import os

import pytest
import tink
from crypto_tink_reference import (
    aes_gcm_primitive,
    tink_decrypt_stream,
    tink_encrypt_stream,
)

from crypto.keys import decrypt_field, encrypt_field, generate_key, unwrap_key, wrap_key
from crypto.streaming import (
    FRAME_SIZE,
    SEGMENT_SIZE,
    decrypt_object,
    decrypt_stream,
    encrypt_object,
    encrypt_stream,
    verify_stream,
)

AAD = b"document 6c1e0b7a version 3"

# (segment size, plaintext size): empty, tiny, around the first segment boundary, and
# multi-segment with and without a short last segment, for a small and the default size.
CASES = [
    (256, 0),
    (256, 1),
    (256, 199),
    (256, 200),
    (256, 201),
    (256, 200 + 240 * 4),
    (256, 200 + 240 * 4 + 17),
    (4096, 100_000),
    (SEGMENT_SIZE, 0),
    (SEGMENT_SIZE, 1),
    (SEGMENT_SIZE, SEGMENT_SIZE - 56),
    (SEGMENT_SIZE, 3 * SEGMENT_SIZE + 12345),
]


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


@pytest.mark.parametrize(("segment_size", "size"), CASES)
def test_tink_decrypts_our_stream(segment_size: int, size: int) -> None:
    key, plaintext = generate_key(), os.urandom(size)
    ciphertext = b"".join(
        encrypt_stream(key, pieces(plaintext, 4099), AAD, segment_size=segment_size)
    )

    assert tink_decrypt_stream(key, segment_size, ciphertext, AAD) == plaintext


@pytest.mark.parametrize(("segment_size", "size"), CASES)
def test_we_decrypt_tink_stream(segment_size: int, size: int) -> None:
    key, plaintext = generate_key(), os.urandom(size)
    ciphertext = tink_encrypt_stream(key, segment_size, plaintext, AAD)
    chunks = pieces(ciphertext, 5003)

    assert b"".join(decrypt_stream(key, chunks, AAD, segment_size=segment_size)) == plaintext
    assert verify_stream(key, chunks, AAD, segment_size=segment_size) == size


@pytest.mark.parametrize(("segment_size", "size"), [(256, 1000), (SEGMENT_SIZE, 600_000)])
def test_framed_object_is_a_frame_then_tink_ciphertext(segment_size: int, size: int) -> None:
    key, plaintext = generate_key(), os.urandom(size)
    stored = b"".join(encrypt_object(key, [plaintext], AAD, segment_size=segment_size))
    frame = stored[:FRAME_SIZE]

    assert frame == b"LKS1" + segment_size.to_bytes(4, "big")
    raw = stored[FRAME_SIZE:]
    assert tink_decrypt_stream(key, segment_size, raw, frame + AAD) == plaintext
    with pytest.raises(tink.TinkError):
        tink_decrypt_stream(key, segment_size, raw, AAD)

    made_by_tink = frame + tink_encrypt_stream(key, segment_size, plaintext, frame + AAD)
    assert b"".join(decrypt_object(key, [made_by_tink], AAD)) == plaintext


# Wrapped keys and fields are format byte 0x01 ‖ Tink RAW AES-GCM ciphertext (nonce ‖
# ciphertext ‖ tag) over associated data 0x01 ‖ purpose label ‖ caller's associated data.
WRAPPED_KEY_AAD = b"\x01locker/wrapped-key\x00"
FIELD_AAD = b"\x01locker/field\x00"


def test_tink_opens_our_wrapped_key_and_field() -> None:
    wrapping_key, data_key = generate_key(), generate_key()
    tink_aead = aes_gcm_primitive(wrapping_key)

    wrapped = wrap_key(wrapping_key, data_key, AAD)
    field = encrypt_field(wrapping_key, "Carte d'identité.pdf".encode(), AAD)

    assert wrapped[:1] == field[:1] == b"\x01"
    assert tink_aead.decrypt(wrapped[1:], WRAPPED_KEY_AAD + AAD) == data_key
    assert tink_aead.decrypt(field[1:], FIELD_AAD + AAD) == "Carte d'identité.pdf".encode()


def test_we_open_tink_sealed_key_and_field() -> None:
    wrapping_key, data_key = generate_key(), generate_key()
    tink_aead = aes_gcm_primitive(wrapping_key)

    wrapped = b"\x01" + tink_aead.encrypt(data_key, WRAPPED_KEY_AAD + AAD)
    field = b"\x01" + tink_aead.encrypt(b"Titre de sejour", FIELD_AAD + AAD)

    assert unwrap_key(wrapping_key, wrapped, AAD) == data_key
    assert decrypt_field(wrapping_key, field, AAD) == b"Titre de sejour"
