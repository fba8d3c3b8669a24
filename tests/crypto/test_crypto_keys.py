"""Key generation, key wrapping and field encryption."""

from __future__ import annotations

import pytest

from crypto.errors import IntegrityError
from crypto.keys import (
    KEY_SIZE,
    decrypt_field,
    encrypt_field,
    generate_key,
    unwrap_key,
    wrap_key,
)

ROW_A = b"document 1f00 version 1"
ROW_B = b"document 1f00 version 2"


def test_generated_keys_are_32_distinct_bytes() -> None:
    keys = {generate_key() for _ in range(100)}
    assert len(keys) == 100
    assert {len(key) for key in keys} == {KEY_SIZE}


def test_wrap_round_trip_and_format() -> None:
    wrapping_key, data_key = generate_key(), generate_key()
    wrapped = wrap_key(wrapping_key, data_key, ROW_A)

    assert wrapped[:1] == b"\x01"
    assert len(wrapped) == 1 + 12 + KEY_SIZE + 16
    assert data_key not in wrapped
    assert unwrap_key(wrapping_key, wrapped, ROW_A) == data_key
    # A fresh nonce every time: the same key wrapped twice looks unrelated.
    assert wrap_key(wrapping_key, data_key, ROW_A) != wrapped


def test_wrapped_key_moved_to_another_row_fails() -> None:
    wrapping_key = generate_key()
    wrapped = wrap_key(wrapping_key, generate_key(), ROW_A)

    with pytest.raises(IntegrityError):
        unwrap_key(wrapping_key, wrapped, ROW_B)


def test_wrapped_key_under_another_wrapping_key_fails() -> None:
    wrapped = wrap_key(generate_key(), generate_key(), ROW_A)

    with pytest.raises(IntegrityError):
        unwrap_key(generate_key(), wrapped, ROW_A)


def test_every_bit_flip_and_truncation_of_a_wrapped_key_fails() -> None:
    wrapping_key = generate_key()
    wrapped = wrap_key(wrapping_key, generate_key(), ROW_A)
    for position in range(len(wrapped)):
        for bit in range(8):
            damaged = bytearray(wrapped)
            damaged[position] ^= 1 << bit
            with pytest.raises(IntegrityError):
                unwrap_key(wrapping_key, bytes(damaged), ROW_A)
    for length in range(len(wrapped)):
        with pytest.raises(IntegrityError):
            unwrap_key(wrapping_key, wrapped[:length], ROW_A)


def test_field_round_trip_including_empty_and_unicode() -> None:
    key = generate_key()
    for value in ("", "Acte de naissance – Mamadou", "récépissé 😀"):
        sealed = encrypt_field(key, value.encode(), ROW_A)
        assert decrypt_field(key, sealed, ROW_A).decode() == value


def test_field_bound_to_its_row() -> None:
    key = generate_key()
    sealed = encrypt_field(key, b"Passeport.pdf", ROW_A)

    with pytest.raises(IntegrityError):
        decrypt_field(key, sealed, ROW_B)
    with pytest.raises(IntegrityError):
        decrypt_field(key, sealed[:-1], ROW_A)


def test_wrapped_key_and_field_cannot_stand_in_for_each_other() -> None:
    # Same key, same associated data: the purpose label still keeps them apart.
    key, data_key = generate_key(), generate_key()

    with pytest.raises(IntegrityError):
        decrypt_field(key, wrap_key(key, data_key, ROW_A), ROW_A)
    with pytest.raises(IntegrityError):
        unwrap_key(key, encrypt_field(key, data_key, ROW_A), ROW_A)


@pytest.mark.parametrize("length", [0, 16, 31, 33])
def test_keys_of_the_wrong_length_are_a_programming_error(length: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        wrap_key(bytes(length), generate_key(), ROW_A)
    with pytest.raises(ValueError, match="32-byte keys"):
        wrap_key(generate_key(), bytes(length), ROW_A)
    with pytest.raises(ValueError, match="32 bytes"):
        encrypt_field(bytes(length), b"title", ROW_A)
