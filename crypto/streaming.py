"""Streaming AEAD for stored objects: Tink's AES-GCM-HKDF streaming, AES-256, HKDF-SHA256.

Raw Tink ciphertext (`encrypt_stream`) is

    header = 0x28 ‖ salt (32 bytes) ‖ nonce prefix (7 bytes)
    segment_i = AES-GCM(k, prefix ‖ i as 4 big-endian bytes ‖ last?, plaintext_i) ‖ tag

with k = HKDF-SHA256(ikm=key, salt=salt, info=associated_data, 32 bytes). Every ciphertext
segment is `segment_size` bytes (tag included) except the first, which is shorter by the
header, and the last, which may be shorter. Segment index and last-segment flag in the nonce
catch reordering, truncation and appending; the per-object key catches swapped objects.

Objects in the store use the framed form (`encrypt_object`): b"LKS1" ‖ segment size (4 bytes,
big-endian) ‖ raw Tink ciphertext, with that 8-byte frame prepended to the associated data,
so a rewritten segment size fails authentication even on a single-segment object.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Iterable, Iterator
from itertools import chain

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.errors import CryptoError, IntegrityError
from crypto.keys import KEY_SIZE, TAG_SIZE

NONCE_PREFIX_SIZE = 7
HEADER_SIZE = 1 + KEY_SIZE + NONCE_PREFIX_SIZE

# Tink's own lower bound: the first segment must carry at least one plaintext byte.
MIN_SEGMENT_SIZE = HEADER_SIZE + TAG_SIZE + 1
# The frame of a stored object is read before anything is authenticated; capping the size it
# announces keeps a tampered object from making the reader buffer gigabytes.
MAX_SEGMENT_SIZE = 16 * 1024 * 1024

# 256 KiB: the fastest with bench/crypto.py whatever the input chunking, and a transfer
# holds about two segments (why and figures: bench/README.md, "crypto").
SEGMENT_SIZE = 256 * 1024

FRAME_MAGIC = b"LKS1"
FRAME_SIZE = len(FRAME_MAGIC) + 4

# The segment index is a 4-byte counter in the nonce; it must never wrap.
_MAX_SEGMENTS = 2**32


def encrypt_stream(
    key: bytes,
    plaintext: Iterable[bytes],
    associated_data: bytes,
    *,
    segment_size: int = SEGMENT_SIZE,
    salt: bytes | None = None,
    nonce_prefix: bytes | None = None,
) -> Iterator[bytes]:
    """Yield raw Tink ciphertext (header, then segment by segment), holding ~2 segments."""
    _check_key(key)
    _check_segment_size(segment_size)
    # Fixed salt and nonce prefix exist only for known-answer tests; reusing them with the
    # same key and associated data would reuse AES-GCM nonces.
    salt = os.urandom(KEY_SIZE) if salt is None else salt
    nonce_prefix = os.urandom(NONCE_PREFIX_SIZE) if nonce_prefix is None else nonce_prefix
    if len(salt) != KEY_SIZE:
        raise ValueError(f"salt must be {KEY_SIZE} bytes")
    if len(nonce_prefix) != NONCE_PREFIX_SIZE:
        raise ValueError(f"nonce prefix must be {NONCE_PREFIX_SIZE} bytes")
    return _encrypt_segments(key, plaintext, associated_data, segment_size, salt, nonce_prefix)


def decrypt_stream(
    key: bytes,
    ciphertext: Iterable[bytes],
    associated_data: bytes,
    *,
    segment_size: int = SEGMENT_SIZE,
) -> Iterator[bytes]:
    """Yield each plaintext segment only once it is authenticated; IntegrityError otherwise.

    Segments before a damaged one have already been yielded when the error is raised: call
    `verify_stream` first when nothing may be released from a damaged object.
    """
    _check_key(key)
    _check_segment_size(segment_size)
    return _decrypt_segments(key, ciphertext, associated_data, segment_size)


def verify_stream(
    key: bytes,
    ciphertext: Iterable[bytes],
    associated_data: bytes,
    *,
    segment_size: int = SEGMENT_SIZE,
) -> int:
    """Return the plaintext length once the whole ciphertext authenticates; releases nothing."""
    stream = decrypt_stream(key, ciphertext, associated_data, segment_size=segment_size)
    return sum(len(segment) for segment in stream)


def encrypt_object(
    key: bytes,
    plaintext: Iterable[bytes],
    associated_data: bytes,
    *,
    segment_size: int = SEGMENT_SIZE,
) -> Iterator[bytes]:
    """Yield a framed object (frame, then raw Tink ciphertext bound to the frame)."""
    _check_key(key)
    _check_segment_size(segment_size)
    frame = _frame(segment_size)
    return chain(
        [frame],
        encrypt_stream(key, plaintext, frame + associated_data, segment_size=segment_size),
    )


class EncryptedObject:
    """The framed object `encrypt_object` makes of a plaintext that can be read again, and
    that can be read again itself: every pass over it yields the very same bytes.

    A store that knows an object's size and can read it twice sends it in one request (to
    S3: a hash pass to sign the request, a second pass to send it, more on a retry) instead
    of a multipart upload. The salt and nonce prefix are drawn once, so each pass encrypts
    the plaintext under the same nonces. That is safe only while the plaintext is the same
    bytes every time: a pass whose segment would differ from the first pass's (its tag
    does) raises CryptoError before that segment is released, and so does a plaintext
    that is not `plaintext_size` bytes long.
    """

    def __init__(
        self,
        key: bytes,
        plaintext: Callable[[], Iterable[bytes]],
        plaintext_size: int,
        associated_data: bytes,
        *,
        segment_size: int = SEGMENT_SIZE,
    ) -> None:
        _check_key(key)
        self.size = ciphertext_size(plaintext_size, segment_size)
        self._key = key
        self._plaintext = plaintext
        self._plaintext_size = plaintext_size
        self._segment_size = segment_size
        self._frame = _frame(segment_size)
        self._associated_data = self._frame + associated_data
        self._salt, self._nonce_prefix = os.urandom(KEY_SIZE), os.urandom(NONCE_PREFIX_SIZE)
        # The first pass's tag of every segment: 16 bytes a segment (64 bytes a MiB).
        self._tags: list[bytes] = []

    def __iter__(self) -> Iterator[bytes]:
        """A fresh pass: frame and header, then each segment as it is encrypted."""
        yield self._frame
        sealed = _encrypt_segments(
            self._key,
            self._announced_plaintext(),
            self._associated_data,
            self._segment_size,
            self._salt,
            self._nonce_prefix,
        )
        yield next(sealed)  # the header
        for index, segment in enumerate(sealed):
            tag = segment[-TAG_SIZE:]
            if index == len(self._tags):
                self._tags.append(tag)
            elif not hmac.compare_digest(tag, self._tags[index]):
                raise CryptoError("plaintext changed between two passes")
            yield segment

    def _announced_plaintext(self) -> Iterator[bytes]:
        # Checked chunk by chunk, so a chunk past the announced size, or an end short of
        # it, raises before the segment it would complete is encrypted.
        seen = 0
        for chunk in self._plaintext():
            seen += len(chunk)
            if seen > self._plaintext_size:
                raise CryptoError("plaintext is not the size announced")
            yield chunk
        if seen != self._plaintext_size:
            raise CryptoError("plaintext is not the size announced")


def decrypt_object(
    key: bytes, ciphertext: Iterable[bytes], associated_data: bytes
) -> Iterator[bytes]:
    """Yield a framed object's plaintext segment by segment, each only once authenticated.

    As with `decrypt_stream`, segments before a damaged one are released before the
    IntegrityError: use `verify_object` before serving.
    """
    _check_key(key)
    return _decrypt_framed(key, ciphertext, associated_data)


def verify_object(key: bytes, ciphertext: Iterable[bytes], associated_data: bytes) -> int:
    """Return the plaintext length once the whole framed object authenticates; releases nothing."""
    return sum(len(segment) for segment in decrypt_object(key, ciphertext, associated_data))


def ciphertext_size(plaintext_size: int, segment_size: int = SEGMENT_SIZE) -> int:
    """Return the exact size of the framed object `encrypt_object` makes from that plaintext."""
    if plaintext_size < 0:
        raise ValueError("plaintext size must not be negative")
    _check_segment_size(segment_size)
    first_capacity = segment_size - HEADER_SIZE - TAG_SIZE
    if plaintext_size <= first_capacity:
        return FRAME_SIZE + HEADER_SIZE + plaintext_size + TAG_SIZE
    full_segments, tail = divmod(plaintext_size - first_capacity, segment_size - TAG_SIZE)
    size = FRAME_SIZE + segment_size * (1 + full_segments)
    # A plaintext that ends exactly on a segment boundary has no extra empty segment.
    return size + (tail + TAG_SIZE if tail else 0)


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise ValueError(f"key must be {KEY_SIZE} bytes")


def _check_segment_size(segment_size: int) -> None:
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise ValueError(
            f"segment size must be between {MIN_SEGMENT_SIZE} and {MAX_SEGMENT_SIZE} bytes"
        )


def _frame(segment_size: int) -> bytes:
    return FRAME_MAGIC + segment_size.to_bytes(4, "big")


def _derive_aead(key: bytes, salt: bytes, associated_data: bytes) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=associated_data
    ).derive(key)
    return AESGCM(derived)


def _segment_nonce(nonce_prefix: bytes, index: int, last: bool) -> bytes:
    return nonce_prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _segments(
    chunks: Iterable[bytes | memoryview], first_size: int, size: int
) -> Iterator[tuple[memoryview | bytearray, bool]]:
    """Cut chunks into segments of `first_size`, then `size`, bytes, flagging the last one.

    A full segment is released as "not last" only once a byte beyond it has arrived: that
    read-ahead is how both sides agree on which segment is last, as Tink does. The final
    segment is never empty unless the whole input is.
    """
    want = first_size
    # Holds at most one segment; bytes are copied into it only when a segment straddles
    # two chunks, otherwise segments are zero-copy views of the caller's chunk.
    pending = bytearray()
    for chunk in chunks:
        view = memoryview(chunk)
        position = 0
        if pending:
            position = min(want - len(pending), len(view))
            pending += view[:position]
            if position == len(view):
                continue
            yield pending, False
            # A fresh buffer rather than clear(): the consumer may still hold a view of it.
            pending = bytearray()
            want = size
        while len(view) - position > want:
            yield view[position : position + want], False
            position += want
            want = size
        pending += view[position:]
    yield pending, True


def _encrypt_segments(
    key: bytes,
    plaintext: Iterable[bytes],
    associated_data: bytes,
    segment_size: int,
    salt: bytes,
    nonce_prefix: bytes,
) -> Iterator[bytes]:
    aead = _derive_aead(key, salt, associated_data)
    yield bytes([HEADER_SIZE]) + salt + nonce_prefix
    first_capacity = segment_size - HEADER_SIZE - TAG_SIZE
    segments = _segments(plaintext, first_capacity, segment_size - TAG_SIZE)
    for index, (segment, last) in enumerate(segments):
        if index >= _MAX_SEGMENTS:
            raise CryptoError("plaintext too long: the segment counter would wrap")
        yield aead.encrypt(_segment_nonce(nonce_prefix, index, last), segment, None)


def _decrypt_segments(
    key: bytes, ciphertext: Iterable[bytes | memoryview], associated_data: bytes, segment_size: int
) -> Iterator[bytes]:
    # The header travels inside the first ciphertext segment, so every segment, the first
    # included, is `segment_size` bytes of input.
    segments = _segments(ciphertext, segment_size, segment_size)
    first, last = next(segments)
    if len(first) < HEADER_SIZE + TAG_SIZE:
        raise IntegrityError("ciphertext is truncated: shorter than a header and one tag")
    first_view = memoryview(first)
    header = bytes(first_view[:HEADER_SIZE])
    if header[0] != HEADER_SIZE:
        raise IntegrityError("ciphertext header has the wrong length byte")
    nonce_prefix = header[1 + KEY_SIZE :]
    aead = _derive_aead(key, header[1 : 1 + KEY_SIZE], associated_data)
    bodies = chain([(first_view[HEADER_SIZE:], last)], segments)
    for index, (body, last) in enumerate(bodies):
        if len(body) < TAG_SIZE:
            raise IntegrityError(f"ciphertext is truncated in segment {index}")
        if index >= _MAX_SEGMENTS:
            raise IntegrityError("ciphertext has more segments than the counter allows")
        try:
            plaintext = aead.decrypt(_segment_nonce(nonce_prefix, index, last), body, None)
        except InvalidTag:
            raise IntegrityError(f"segment {index} failed authentication") from None
        if plaintext:
            yield plaintext


def _decrypt_framed(
    key: bytes, ciphertext: Iterable[bytes], associated_data: bytes
) -> Iterator[bytes]:
    chunks = iter(ciphertext)
    frame = bytearray()
    rest: Iterable[bytes | memoryview] = ()
    for chunk in chunks:
        view = memoryview(chunk)
        needed = FRAME_SIZE - len(frame)
        frame += view[:needed]
        if len(frame) == FRAME_SIZE:
            rest = chain([view[needed:]], chunks)
            break
    if len(frame) < FRAME_SIZE:
        raise IntegrityError("object is truncated: shorter than its frame")
    if frame[: len(FRAME_MAGIC)] != FRAME_MAGIC:
        raise IntegrityError("object has an unknown frame magic")
    segment_size = int.from_bytes(frame[len(FRAME_MAGIC) :], "big")
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise IntegrityError("object frame announces an impossible segment size")
    yield from _decrypt_segments(key, rest, bytes(frame) + associated_data, segment_size)
