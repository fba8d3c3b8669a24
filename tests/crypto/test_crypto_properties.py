"""Property tests: any plaintext, cut into any chunks, round-trips; chunking never matters."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.streaming import (
    HEADER_SIZE,
    MIN_SEGMENT_SIZE,
    TAG_SIZE,
    ciphertext_size,
    decrypt_object,
    decrypt_stream,
    encrypt_object,
    encrypt_stream,
    verify_object,
)

KEY = bytes(range(32))
AAD = b"document 5 version 2"
SEGMENT_SIZES = st.sampled_from([MIN_SEGMENT_SIZE, 64, 100, 256, 1000])


def cut_at(data: bytes, cuts: list[int]) -> list[bytes]:
    """Split `data` at the given offsets; repeated offsets make empty chunks."""
    bounds = [0, *sorted(cuts), len(data)]
    return [data[start:end] for start, end in pairwise(bounds)]


@st.composite
def chunkings(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = draw(st.lists(st.integers(0, len(data)), max_size=25))
    return cut_at(data, cuts)


@settings(deadline=None, max_examples=300)
@given(st.data(), st.binary(max_size=3000), SEGMENT_SIZES)
def test_framed_round_trip_with_independent_chunkings(
    data: st.DataObject, plaintext: bytes, segment_size: int
) -> None:
    stored = b"".join(
        encrypt_object(KEY, data.draw(chunkings(plaintext)), AAD, segment_size=segment_size)
    )
    assert len(stored) == ciphertext_size(len(plaintext), segment_size)

    read_back = data.draw(chunkings(stored))
    assert b"".join(decrypt_object(KEY, read_back, AAD)) == plaintext
    assert verify_object(KEY, read_back, AAD) == len(plaintext)


@settings(deadline=None, max_examples=300)
@given(st.data(), st.binary(max_size=3000), SEGMENT_SIZES)
def test_raw_ciphertext_does_not_depend_on_input_chunking(
    data: st.DataObject, plaintext: bytes, segment_size: int
) -> None:
    salt, prefix = bytes(32), bytes(7)

    def encrypt(chunks: list[bytes]) -> bytes:
        stream = encrypt_stream(
            KEY, chunks, AAD, segment_size=segment_size, salt=salt, nonce_prefix=prefix
        )
        return b"".join(stream)

    reference = encrypt([plaintext])
    assert encrypt(data.draw(chunkings(plaintext))) == reference

    decrypted = decrypt_stream(KEY, data.draw(chunkings(reference)), AAD, segment_size=segment_size)
    assert b"".join(decrypted) == plaintext


@given(st.integers(0, 10**7), st.integers(MIN_SEGMENT_SIZE, 1 << 20))
def test_ciphertext_size_matches_tinks_formula(plaintext_size: int, segment_size: int) -> None:
    # Tink's expectedCiphertextSize: the header counts as plaintext-segment space.
    full, tail = divmod(plaintext_size + HEADER_SIZE, segment_size - TAG_SIZE)
    tink_size = full * segment_size + (tail + TAG_SIZE if tail else 0)
    assert ciphertext_size(plaintext_size, segment_size) == 8 + tink_size
