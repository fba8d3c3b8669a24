"""Chunk-signed S3 uploads: the signatures match AWS's published example, the framing is
exactly as long as announced, and the real S3 server refuses a chunk altered after it
was signed (the signature is checked, not decorative)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locker.errors import StorageError
from locker.storage.s3 import S3Store, _ChunkSignedBody, s3_client_config
from locker.storage.sigv4_chunks import ChunkSigner, ChunkSigning, _signing_key, chunked_length
from tests.s3_server import S3Server

# AWS's worked example of a chunk-signed PUT ("Signature Calculations for the
# Authorization Header: Transferring Payload in Multiple Chunks"): 66,560 bytes of "a"
# in chunks of 64 KiB, with the documentation's example credentials.
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
EXAMPLE_CHUNK_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)


def _example_signer() -> ChunkSigner:
    return ChunkSigner(
        key=_signing_key(EXAMPLE_SECRET, "20130524", "us-east-1", "s3"),
        timestamp="20130524T000000Z",
        scope="20130524/us-east-1/s3/aws4_request",
        seed=EXAMPLE_SEED,
    )


def test_chunk_signatures_match_the_aws_example() -> None:
    signing = ChunkSigning(66_560, chunk_bytes=64 * 1024)
    signing.signer = _example_signer()

    framed = b"".join(bytes(piece) for piece in signing.frames([b"a" * 66_560]))

    headers = [line for line in framed.split(b"\r\n") if b";chunk-signature=" in line]
    assert headers == [
        f"{size:x};chunk-signature={signature}".encode()
        for size, signature in zip((65_536, 1_024, 0), EXAMPLE_CHUNK_SIGNATURES, strict=True)
    ]
    assert len(framed) == signing.encoded_size == chunked_length(66_560, 64 * 1024)


@given(
    size=st.integers(min_value=1, max_value=300_000),
    chunk_bytes=st.sampled_from([8192, 65_536, 100_000]),
    pieces=st.lists(st.integers(min_value=1, max_value=70_000), min_size=1, max_size=8),
)
def test_framing_is_as_long_as_announced_and_carries_the_bytes(
    size: int, chunk_bytes: int, pieces: list[int]
) -> None:
    data = os.urandom(size)
    cuts, offset = [], 0
    while offset < size:
        step = pieces[len(cuts) % len(pieces)]
        cuts.append(data[offset : offset + step])
        offset += step
    signing = ChunkSigning(size, chunk_bytes=chunk_bytes)
    signing.signer = _example_signer()

    framed = b"".join(bytes(piece) for piece in signing.frames(cuts))

    assert len(framed) == signing.encoded_size
    decoded, rest = b"", framed
    while True:
        header, rest = rest.split(b"\r\n", 1)
        length = int(header.split(b";", 1)[0], 16)
        assert length <= chunk_bytes
        decoded, rest = decoded + rest[:length], rest[length:]
        assert rest[:2] == b"\r\n"
        rest = rest[2:]
        if length == 0:
            break
    assert rest == b"" and decoded == data


def test_a_body_read_before_signing_is_refused() -> None:
    signing = ChunkSigning(10)
    with pytest.raises(StorageError):
        next(signing.frames([b"0123456789"]))


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, self.size, 256 * 1024):
            yield self._data[start : start + 256 * 1024]


class _AlteredAfterSigning(_ChunkSignedBody):
    """Flips one byte of the second chunk's data after its signature was made: what a
    corrupting link or a tampering middlebox would do."""

    def _fresh_pass(self) -> Iterator[bytes | memoryview]:
        data_pieces = 0
        for piece in super()._fresh_pass():
            # Frame headers and line ends are short; the chunks' data are not.
            if len(piece) > 1024:
                data_pieces += 1
                if data_pieces == 2:
                    altered = bytearray(piece)
                    altered[100] ^= 1
                    piece = bytes(altered)
            yield piece


def _store(s3_server: S3Server, bucket: str) -> S3Store:
    # One attempt: a refused request must not be retried into the next test's time.
    return S3Store(s3_server.client(s3_client_config(max_attempts=1)), bucket)


def test_real_server_takes_a_chunk_signed_put(s3_server: S3Server, s3_bucket: str) -> None:
    store = _store(s3_server, s3_bucket)
    data = os.urandom(3 * 1024 * 1024 + 17)
    key = store.new_key()

    assert store.put(key, _Bytes(data)) == len(data)

    assert b"".join(store.get(key)) == data
    etag = store._client.head_object(Bucket=s3_bucket, Key=key)["ETag"]
    assert etag == f'"{hashlib.md5(data).hexdigest()}"'  # the decoded bytes, one PUT


def test_real_server_refuses_a_chunk_altered_after_signing(
    s3_server: S3Server, s3_bucket: str
) -> None:
    store = _store(s3_server, s3_bucket)
    data = os.urandom(3 * 1024 * 1024)
    body = _AlteredAfterSigning(_Bytes(data))
    key = store.new_key()

    with pytest.raises(Exception) as refused:
        store._client.put_object(
            Bucket=s3_bucket, Key=store._name(key), Body=body, ContentLength=body.size
        )

    assert "SHA256Mismatch" in str(refused.value) or "SignatureDoesNotMatch" in str(refused.value)
    assert not store.exists(key)
    # The same body, unaltered, goes through: the refusal was the altered byte's doing.
    assert store.put(key, _Bytes(data)) == len(data)
    with pytest.raises(StorageError):
        store.put(store.new_key(), _Sized(data, len(data) + 1))


class _Sized(_Bytes):
    def __init__(self, data: bytes, size: int) -> None:
        super().__init__(data)
        self.size = size
