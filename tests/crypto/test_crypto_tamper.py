"""Tampered, truncated, extended, reordered or swapped ciphertext is refused.

What may be released before the error:
- `decrypt_object` / `decrypt_stream` yield each segment as soon as it authenticates, so
  segments BEFORE the damaged one have been yielded when IntegrityError is raised; never a
  byte of the damaged segment or anything after it. These tests pin exactly that prefix,
  and that damage in the LAST segment (or a truncation) is still caught.
- `verify_object` / `verify_stream` authenticate the whole object and yield nothing: callers
  run them before serving a single byte, which is what "no partial 200" relies on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

import pytest

from crypto.errors import IntegrityError
from crypto.keys import generate_key
from crypto.streaming import (
    FRAME_SIZE,
    HEADER_SIZE,
    TAG_SIZE,
    decrypt_object,
    decrypt_stream,
    encrypt_object,
    encrypt_stream,
    verify_object,
    verify_stream,
)

SEGMENT = 256
FIRST_CAPACITY = SEGMENT - HEADER_SIZE - TAG_SIZE  # 200 plaintext bytes in segment 0
CAPACITY = SEGMENT - TAG_SIZE  # 240 in every later one
# Segments 0..4: four full ones and a short last one of 100 plaintext bytes.
PLAINTEXT = os.urandom(FIRST_CAPACITY + 3 * CAPACITY + 100)
SEGMENT_COUNT = 5
KEY = generate_key()
AAD = b"document 8d0c version 1"


def released_before(segment: int) -> bytes:
    """The plaintext of the segments before `segment`: all decrypt may yield before failing."""
    if segment == 0:
        return b""
    return PLAINTEXT[: FIRST_CAPACITY + (segment - 1) * CAPACITY]


def seal(plaintext: bytes = PLAINTEXT, key: bytes = KEY, aad: bytes = AAD) -> bytes:
    return b"".join(encrypt_object(key, [plaintext], aad, segment_size=SEGMENT))


STORED = seal()


def segment_span(index: int) -> tuple[int, int]:
    """Start and end offsets, in the framed object, of ciphertext segment `index`."""
    start = FRAME_SIZE + (HEADER_SIZE if index == 0 else index * SEGMENT)
    return start, min(FRAME_SIZE + (index + 1) * SEGMENT, len(STORED))


def flip(data: bytes, position: int) -> bytes:
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def decrypt_until_error(stream: Iterable[bytes]) -> bytes:
    """Collect what a decrypting stream yields until it raises IntegrityError (which it must)."""
    released = bytearray()
    with pytest.raises(IntegrityError):
        for piece in stream:
            released += piece
    return bytes(released)


def assert_refused(damaged: bytes, first_bad_segment: int, aad: bytes = AAD) -> None:
    """verify_object releases nothing; decrypt_object only whole segments before the damage."""
    for chunk_size in (len(damaged) + 1, 7):
        with pytest.raises(IntegrityError):
            verify_object(KEY, chunked(damaged, chunk_size), aad)
        released = decrypt_until_error(decrypt_object(KEY, chunked(damaged, chunk_size), aad))
        assert released == released_before(first_bad_segment)


def test_untouched_object_decrypts() -> None:
    assert segment_span(SEGMENT_COUNT - 1)[1] == len(STORED)
    assert b"".join(decrypt_object(KEY, [STORED], AAD)) == PLAINTEXT
    assert verify_object(KEY, [STORED], AAD) == len(PLAINTEXT)


BIT_FLIPS: dict[str, tuple[Callable[[], int], int]] = {
    # name: (position of the flipped bit, first segment that must fail)
    "frame magic": (lambda: 0, 0),
    "frame segment size": (lambda: FRAME_SIZE - 1, 0),
    "header length byte": (lambda: FRAME_SIZE, 0),
    "salt": (lambda: FRAME_SIZE + 1 + 20, 0),
    "nonce prefix": (lambda: FRAME_SIZE + HEADER_SIZE - 1, 0),
    "first segment": (lambda: segment_span(0)[0] + 5, 0),
    "first segment tag": (lambda: segment_span(0)[1] - 1, 0),
    "middle segment": (lambda: segment_span(2)[0] + 100, 2),
    "middle segment tag": (lambda: segment_span(2)[1] - TAG_SIZE, 2),
    "last segment": (lambda: segment_span(4)[0], 4),
    "last segment tag": (lambda: len(STORED) - 1, 4),
}


@pytest.mark.parametrize("name", BIT_FLIPS)
def test_bit_flip_is_refused(name: str) -> None:
    position, first_bad_segment = BIT_FLIPS[name]
    assert_refused(flip(STORED, position()), first_bad_segment)


def test_every_single_bit_flip_is_caught_by_verify() -> None:
    small = seal(PLAINTEXT[:300])
    for position in range(len(small)):
        for bit in range(8):
            damaged = bytearray(small)
            damaged[position] ^= 1 << bit
            with pytest.raises(IntegrityError):
                verify_object(KEY, [bytes(damaged)], AAD)


def test_rewritten_segment_size_is_caught_on_a_single_segment_object() -> None:
    # The whole object fits in one segment under either size, so only the frame's binding
    # into the associated data can catch this.
    single = seal(b"passport scan")
    for size in (SEGMENT + 1, SEGMENT * 2, 4096):
        rewritten = b"LKS1" + size.to_bytes(4, "big") + single[FRAME_SIZE:]
        assert_refused(rewritten, 0)


@pytest.mark.parametrize(
    "frame",
    [b"LKS2" + SEGMENT.to_bytes(4, "big"), b"\x00" * 8, b"LKS1" + (2**32 - 1).to_bytes(4, "big")],
    ids=["unknown magic", "zeros", "absurd segment size"],
)
def test_unknown_or_absurd_frame_is_refused(frame: bytes) -> None:
    assert_refused(frame + STORED[FRAME_SIZE:], 0)


@pytest.mark.parametrize("boundary", range(1, SEGMENT_COUNT))
def test_truncation_at_a_segment_boundary_is_refused(boundary: int) -> None:
    # The segment before the cut now looks last, but was sealed as "not last".
    cut = segment_span(boundary)[0]
    assert_refused(STORED[:cut], boundary - 1)


@pytest.mark.parametrize("segment", range(SEGMENT_COUNT))
def test_truncation_inside_a_segment_is_refused(segment: int) -> None:
    start, end = segment_span(segment)
    for cut in (start + 1, (start + end) // 2, end - 1):
        assert_refused(STORED[:cut], segment)


@pytest.mark.parametrize(
    "cut", [0, 1, FRAME_SIZE - 1, FRAME_SIZE, FRAME_SIZE + 1, FRAME_SIZE + HEADER_SIZE]
)
def test_truncation_in_frame_or_header_is_refused(cut: int) -> None:
    assert_refused(STORED[:cut], 0)


def test_empty_input_is_refused() -> None:
    with pytest.raises(IntegrityError):
        verify_object(KEY, [], AAD)
    with pytest.raises(IntegrityError):
        verify_stream(KEY, [], AAD, segment_size=SEGMENT)


def segment_bytes(index: int) -> bytes:
    start, end = segment_span(index)
    return STORED[start:end]


def test_appended_segment_is_refused() -> None:
    # The old last segment is no longer last: it fails (segment 4), whatever follows.
    assert_refused(STORED + segment_bytes(2), 4)
    assert_refused(STORED + b"\x00", 4)
    assert_refused(STORED + seal(b"x" * 500)[FRAME_SIZE + HEADER_SIZE :], 4)


def test_duplicated_segment_is_refused() -> None:
    start, end = segment_span(2)
    assert_refused(STORED[:end] + STORED[start:end] + STORED[end:], 3)


def test_reordered_segments_are_refused() -> None:
    s1, s2 = segment_bytes(1), segment_bytes(2)
    start, end = segment_span(1)[0], segment_span(2)[1]
    assert_refused(STORED[:start] + s2 + s1 + STORED[end:], 1)


def test_segment_from_another_object_is_refused() -> None:
    # Same key, same associated data, same length: only the per-object salt tells them apart.
    other = seal(os.urandom(len(PLAINTEXT)))
    start, end = segment_span(2)
    assert_refused(STORED[:start] + other[start:end] + STORED[end:], 2)


def test_object_of_another_document_or_version_is_refused() -> None:
    swapped_document = seal(aad=b"document 9999 version 1")
    swapped_version = seal(aad=b"document 8d0c version 2")
    assert_refused(swapped_document, 0)
    assert_refused(swapped_version, 0)


def test_object_under_another_key_is_refused() -> None:
    assert_refused(seal(key=generate_key()), 0)


def test_wrong_associated_data_is_refused() -> None:
    assert_refused(STORED, 0, aad=b"document 8d0c version 1 ")
    assert_refused(STORED, 0, aad=b"")


# The raw Tink form has the same guarantees; a few cases through decrypt_stream directly.
RAW = b"".join(encrypt_stream(KEY, [PLAINTEXT], AAD, segment_size=SEGMENT))


def assert_raw_refused(damaged: bytes, first_bad_segment: int, key: bytes = KEY) -> None:
    with pytest.raises(IntegrityError):
        verify_stream(key, [damaged], AAD, segment_size=SEGMENT)
    stream = decrypt_stream(key, chunked(damaged, 13), AAD, segment_size=SEGMENT)
    assert decrypt_until_error(stream) == released_before(first_bad_segment)


def test_raw_stream_refuses_damage_in_last_segment_after_releasing_earlier_ones() -> None:
    assert_raw_refused(flip(RAW, len(RAW) - 20), 4)


def test_raw_stream_refuses_truncation_at_a_boundary() -> None:
    assert_raw_refused(RAW[: 3 * SEGMENT], 2)


def test_raw_stream_refuses_wrong_key_and_header_damage() -> None:
    assert_raw_refused(RAW, 0, key=generate_key())
    assert_raw_refused(flip(RAW, 0), 0)
    assert_raw_refused(RAW[: HEADER_SIZE + TAG_SIZE - 1], 0)


def test_raw_stream_with_the_wrong_segment_size_is_refused() -> None:
    with pytest.raises(IntegrityError):
        verify_stream(KEY, [RAW], AAD, segment_size=SEGMENT + 16)
