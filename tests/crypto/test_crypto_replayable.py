"""EncryptedObject: the object encrypt_object makes, readable again and again, each pass the
same bytes; a pass over other plaintext releases nothing encrypted under reused nonces."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import CryptoError
from crypto.streaming import (
    FRAME_SIZE,
    HEADER_SIZE,
    KEY_SIZE,
    MIN_SEGMENT_SIZE,
    SEGMENT_SIZE,
    TAG_SIZE,
    EncryptedObject,
    ciphertext_size,
    decrypt_object,
    encrypt_stream,
)

KEY = bytes(range(32))
AAD = b"document 5 version 2"
FIRST = SEGMENT_SIZE - HEADER_SIZE - TAG_SIZE  # plaintext bytes in the first segment
LATER = SEGMENT_SIZE - TAG_SIZE


class Source:
    """A plaintext read in `chunk`-byte pieces, each pass from the start; `data` may be
    swapped between passes, as a file changed on disk would be."""

    def __init__(self, data: bytes, chunk: int = 100_000) -> None:
        self.data = data
        self.chunk = chunk
        self.passes = 0

    def __call__(self) -> Iterator[bytes]:
        self.passes += 1
        data = self.data
        for start in range(0, len(data), self.chunk):
            yield data[start : start + self.chunk]


def one_pass(sealed: EncryptedObject) -> bytes:
    return b"".join(sealed)


@pytest.mark.parametrize(
    "size", [0, 1, FIRST - 1, FIRST, FIRST + 1, FIRST + LATER, FIRST + LATER + 1, 3_000_000]
)
def test_every_pass_is_the_same_object_and_decrypts(size: int) -> None:
    plaintext = bytes(i % 251 for i in range(size))
    source = Source(plaintext)
    sealed = EncryptedObject(KEY, source, size, AAD)
    first, second, third = one_pass(sealed), one_pass(sealed), one_pass(sealed)
    assert first == second == third
    assert len(first) == sealed.size == ciphertext_size(size)
    assert source.passes == 3
    assert b"".join(decrypt_object(KEY, [first], AAD)) == plaintext


def test_it_is_the_construction_of_encrypt_object() -> None:
    # Same frame, then the raw Tink stream under the salt and nonce prefix it drew, bound to
    # frame + associated data: byte for byte what encrypt_stream makes with them (and so
    # what Tink reads; tests/crypto/test_crypto_tink_interop.py).
    plaintext = bytes(range(256)) * 4000
    stored = one_pass(EncryptedObject(KEY, Source(plaintext), len(plaintext), AAD))
    frame, header = stored[:FRAME_SIZE], stored[FRAME_SIZE : FRAME_SIZE + HEADER_SIZE]
    salt, prefix = header[1 : 1 + KEY_SIZE], header[1 + KEY_SIZE :]
    again = b"".join(encrypt_stream(KEY, [plaintext], frame + AAD, salt=salt, nonce_prefix=prefix))
    assert frame + again == stored


def test_two_objects_of_one_plaintext_draw_their_own_salt_and_nonces() -> None:
    plaintext = b"x" * 1000
    first = one_pass(EncryptedObject(KEY, Source(plaintext), 1000, AAD))
    second = one_pass(EncryptedObject(KEY, Source(plaintext), 1000, AAD))
    assert first[FRAME_SIZE:][:HEADER_SIZE] != second[FRAME_SIZE:][:HEADER_SIZE]
    assert first[FRAME_SIZE + HEADER_SIZE :] != second[FRAME_SIZE + HEADER_SIZE :]


@pytest.mark.parametrize("changed_at", [0, FIRST + 5, 2 * LATER + FIRST - 1])
def test_a_pass_over_changed_plaintext_releases_no_segment_of_it(changed_at: int) -> None:
    plaintext = bytes(3 * LATER)
    source = Source(plaintext)
    sealed = EncryptedObject(KEY, source, len(plaintext), AAD)
    first = one_pass(sealed)
    altered = bytearray(plaintext)
    altered[changed_at] ^= 1
    source.data = bytes(altered)
    released = bytearray()
    with pytest.raises(CryptoError, match="changed"):
        for piece in sealed:
            released += piece
    # What came out before the refusal is the first pass's, to the byte: nothing encrypted
    # from the changed plaintext under the first pass's nonces left the object.
    assert first.startswith(bytes(released))
    changed_segment = 0 if changed_at < FIRST else 1 + (changed_at - FIRST) // LATER
    assert len(released) == FRAME_SIZE + HEADER_SIZE + changed_segment * SEGMENT_SIZE - (
        HEADER_SIZE if changed_segment else 0
    )


@pytest.mark.parametrize("actual", [0, 999, 1001, FIRST + 10])
def test_a_plaintext_of_another_size_than_announced_is_refused(actual: int) -> None:
    sealed = EncryptedObject(KEY, Source(bytes(actual)), 1000, AAD)
    released = 0
    with pytest.raises(CryptoError, match="size"):
        for piece in sealed:
            released += len(piece)
    assert released <= sealed.size


def test_a_shorter_second_pass_is_refused() -> None:
    source = Source(bytes(FIRST + 100))
    sealed = EncryptedObject(KEY, source, FIRST + 100, AAD)
    one_pass(sealed)
    source.data = bytes(FIRST + 99)
    with pytest.raises(CryptoError):
        one_pass(sealed)


def test_bad_keys_and_segment_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        EncryptedObject(bytes(16), Source(b""), 0, AAD)
    with pytest.raises(ValueError):
        EncryptedObject(KEY, Source(b""), 0, AAD, segment_size=MIN_SEGMENT_SIZE - 1)


@settings(deadline=None, max_examples=150)
@given(
    st.binary(max_size=3000),
    st.sampled_from([MIN_SEGMENT_SIZE, 64, 100, 256, 1000]),
    st.integers(1, 700),
)
def test_any_plaintext_any_chunking_round_trips(
    plaintext: bytes, segment_size: int, chunk: int
) -> None:
    sealed = EncryptedObject(
        KEY, Source(plaintext, chunk), len(plaintext), AAD, segment_size=segment_size
    )
    stored = one_pass(sealed)
    assert stored == one_pass(sealed)
    assert len(stored) == sealed.size
    assert b"".join(decrypt_object(KEY, [stored], AAD)) == plaintext
