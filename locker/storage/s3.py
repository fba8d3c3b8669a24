"""The S3 backend: any S3-compatible endpoint through boto3, streaming both ways."""

from __future__ import annotations

import bisect
import contextlib
import datetime
import io
import itertools
import logging
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, cast

import boto3.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    SSLError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from locker.errors import ObjectNotFound, StorageError, StorageUnavailable
from locker.storage.base import (
    READ_CHUNK_BYTES,
    Replayable,
    check_object_key,
    is_object_key,
    new_object_key,
    regrouped,
)
from locker.storage.sigv4_chunks import ChunkSigner, ChunkSigning, enable_chunk_signing

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

log = logging.getLogger(__name__)

MIB = 1024 * 1024
# S3 refuses parts below 5 MiB (except the last one) and uploads of more than 10,000 parts.
MIN_PART_BYTES = 5 * MIB
MAX_PARTS = 10_000
# Every object is ciphertext; saying so is all a content type may reveal.
_CONTENT_TYPE = "application/octet-stream"
# Error codes meaning "the service is overloaded or hiccuped", worth retrying later.
_TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "RequestTimeout",
        "ServiceUnavailable",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
    }
)
_MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "404"})


def s3_client_config(
    *,
    path_style: bool = True,
    connect_timeout: float = 5.0,
    read_timeout: float = 60.0,
    max_attempts: int = 4,
) -> Config:
    """Return the botocore settings every locker S3 client uses: bounded waits and retries."""
    return Config(
        s3={"addressing_style": "path" if path_style else "virtual"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        # "standard" retries connection errors, 5xx and throttling with jittered backoff.
        retries={"mode": "standard", "max_attempts": max_attempts},
        tcp_keepalive=True,
        # botocore >= 1.36 adds CRC trailers and aws-chunked bodies by default, which several
        # S3-compatible stores (older Ceph RGW, MinIO, some providers) reject or store as
        # object attributes. Objects are authenticated ciphertext, so the AEAD already
        # detects any corruption end to end.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


def make_s3_client(
    *,
    endpoint_url: str | None,
    region: str | None,
    path_style: bool = True,
    config: Config | None = None,
) -> S3Client:
    """Build an S3 client with credentials from the standard AWS sources (env, profile, role)."""
    # A private session: the module-level default session is not thread-safe to create
    # clients from, and must not leak settings between stores.
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        config=config or s3_client_config(path_style=path_style),
    )


class S3Store:
    """Objects in one bucket, optionally under a prefix; small ones and replayable ones
    of a known size in one PUT, other big ones in a multipart upload streamed with a few
    parts in flight.

    One PUT is the fastest way in: Ceph RGW commits each part of a multipart upload
    before answering it, which made a 50 MB upload 1.2-1.3x slower than a single PUT even
    with four parts in flight (bench/README.md, "store"). A stream of unknown size cannot
    be sent that way without buffering it whole, so it goes in parts; parts in flight
    cost memory (part_size each) but hide the per-part round trip.
    """

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        prefix: str = "",
        multipart_threshold: int = 8 * MIB,
        part_size: int = 8 * MIB,
        part_concurrency: int = 4,
        single_put_limit: int = 64 * MIB,
        chunk_signing: bool = True,
    ) -> None:
        if part_size < MIN_PART_BYTES:
            raise ValueError(f"part_size must be at least {MIN_PART_BYTES} bytes (S3 minimum)")
        if multipart_threshold < 0:
            raise ValueError("multipart_threshold must not be negative")
        if part_concurrency < 1:
            raise ValueError("part_concurrency must be at least 1")
        self._client = client
        self._bucket = bucket
        stripped = prefix.strip("/")
        self._prefix = f"{stripped}/" if stripped else ""
        self._threshold = multipart_threshold
        self._part_size = part_size
        self._part_concurrency = part_concurrency
        # Above this a multipart upload is worth its round trips: parts go in parallel,
        # and a retry resends one part, not the whole object (S3's own cap is 5 GiB).
        self._single_put_limit = min(single_put_limit, 5 * 1024 * MIB)
        # A replayable object is signed chunk by chunk as it is sent, not hashed whole
        # first (sigv4_chunks), unless the client adds checksum trailers of its own.
        self._chunk_signing = chunk_signing and (
            getattr(client.meta.config, "request_checksum_calculation", None) == "when_required"
        )
        if self._chunk_signing:
            enable_chunk_signing(client)

    @property
    def bucket(self) -> str:
        """The bucket holding the objects."""
        return self._bucket

    @property
    def prefix(self) -> str:
        """The prefix before every key: empty, or ending with a slash."""
        return self._prefix

    def new_key(self) -> str:
        """Return a fresh random key that names nothing and collides with nothing."""
        return new_object_key()

    def _name(self, key: str) -> str:
        return self._prefix + check_object_key(key)

    def put(self, key: str, chunks: Iterable[bytes], size_hint: int | None = None) -> int:
        """Store the chunks in one PUT up to the threshold, else in a multipart upload that
        is aborted on any error; holds at most the threshold, or (concurrency + 1) parts.

        Replayable chunks up to `single_put_limit` go in one streamed PUT whatever their
        size, holding about one chunk, signed chunk by chunk as they go (sigv4_chunks). A
        `size_hint` over the threshold starts the multipart upload with the first byte,
        while the next chunks are still being made, instead of after a threshold's worth of
        them (a wrong hint costs a request or two, never correctness).
        """
        name = self._name(key)
        if isinstance(chunks, Replayable):
            if chunks.size <= self._single_put_limit:
                return self._put_replayed(name, chunks)
            size_hint = chunks.size
        source = iter(chunks)
        big = size_hint is not None and size_hint > self._threshold
        threshold = 0 if big else self._threshold
        buffered: list[bytes] = []
        size = 0
        for chunk in source:
            buffered.append(chunk)
            size += len(chunk)
            if size > threshold:
                return self._put_multipart(name, _regroup(buffered, source, self._part_size))
        body = _Body([memoryview(chunk).cast("B") for chunk in buffered])
        with _translated_errors("put"):
            self._client.put_object(
                Bucket=self._bucket,
                Key=name,
                Body=cast("IO[bytes]", body),
                ContentType=_CONTENT_TYPE,
            )
        return size

    def _put_replayed(self, name: str, source: Replayable) -> int:
        body = (
            _ChunkSignedBody(source)
            if self._chunk_signing and source.size
            else _ReplayedBody(source)
        )
        try:
            with _translated_errors("put"):
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=name,
                    Body=cast("IO[bytes]", body),
                    ContentLength=body.size,
                    ContentType=_CONTENT_TYPE,
                )
        except StorageError:
            # botocore reports a failing body as a failed request (and retries it): the
            # caller must see the source's own error, as with any other put.
            if body.failure is not None:
                raise body.failure from None
            raise
        return source.size

    def _put_multipart(self, name: str, parts: Iterator[_Body]) -> int:
        with _translated_errors("put"):
            upload_id = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=name, ContentType=_CONTENT_TYPE
            )["UploadId"]
        try:
            uploader = _PartUploader(
                self._client, self._bucket, name, upload_id, self._part_concurrency
            )
            try:
                for part in parts:
                    uploader.send(part)
                    del part  # in flight, the uploader holds it; nobody else should
                sent = uploader.finish()
            finally:
                # Waits for parts still on the wire, so none lands after the abort below.
                uploader.close()
            with _translated_errors("put"):
                self._client.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=name,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": sent},
                )
        except BaseException:
            # Whatever failed (our request, the caller's iterator, an interrupt), the
            # uploaded parts must not linger: they are invisible but billed and readable.
            self._abort(name, upload_id)
            raise
        return uploader.size

    def _abort(self, name: str, upload_id: str) -> None:
        try:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=name, UploadId=upload_id)
        except (BotoCoreError, ClientError) as exc:
            # The put already failed; report its error, not this one. The upload stays
            # until abort_incomplete_uploads or a bucket lifecycle rule removes it.
            log.warning("could not abort multipart upload %s: %s", upload_id, type(exc).__name__)

    def get(self, key: str) -> Iterator[bytes]:
        """Stream the object in chunks of at most 1 MiB; ObjectNotFound if absent.

        The request is made before returning, so a missing object fails here and not at
        the first chunk.
        """
        name = self._name(key)
        with _translated_errors("get"):
            body = self._client.get_object(Bucket=self._bucket, Key=name)["Body"]
        return _read_chunks(body)

    def delete(self, key: str) -> None:
        """Remove the object if present; deleting an absent key is not an error."""
        name = self._name(key)
        with _translated_errors("delete"):
            self._client.delete_object(Bucket=self._bucket, Key=name)

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under `key`."""
        name = self._name(key)
        try:
            with _translated_errors("exists"):
                self._client.head_object(Bucket=self._bucket, Key=name)
        except ObjectNotFound:
            return False
        return True

    def list_keys(self) -> Iterator[str]:
        """Yield every key under the prefix; foreign objects sharing the bucket are skipped."""
        paginator = self._client.get_paginator("list_objects_v2")
        with _translated_errors("list"):
            for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix):
                for item in page.get("Contents", []):
                    key = item["Key"][len(self._prefix) :]
                    if is_object_key(key):
                        yield key

    def ensure_ready(self) -> None:
        """Create the bucket if it does not exist; idempotent and safe against races."""
        with _translated_errors("ensure_ready"):
            try:
                self._client.head_bucket(Bucket=self._bucket)
                return
            except ClientError as exc:
                if _status(exc) != 404:
                    raise
            region = self._client.meta.region_name
            try:
                if region and region != "us-east-1":
                    self._client.create_bucket(
                        Bucket=self._bucket,
                        CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
                    )
                else:
                    self._client.create_bucket(Bucket=self._bucket)
            except ClientError:
                # Another process may have created it in between: what matters is that
                # the bucket is there and ours to use, which head_bucket answers.
                self._client.head_bucket(Bucket=self._bucket)

    def abort_incomplete_uploads(self, older_than: datetime.timedelta) -> int:
        """Abort multipart uploads under the prefix started before now - older_than; return
        how many were aborted."""
        cutoff = datetime.datetime.now(datetime.UTC) - older_than
        paginator = self._client.get_paginator("list_multipart_uploads")
        aborted = 0
        with _translated_errors("abort_incomplete_uploads"):
            for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix):
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] < cutoff and is_object_key(
                        upload["Key"][len(self._prefix) :]
                    ):
                        self._client.abort_multipart_upload(
                            Bucket=self._bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        aborted += 1
        return aborted


def _regroup(first: list[bytes], rest: Iterator[bytes], part_size: int) -> Iterator[_Body]:
    """Yield the bytes of `first` then `rest` as bodies of exactly `part_size` bytes (the
    last one shorter), made of views on the chunks: nothing is copied."""
    for pieces in regrouped(itertools.chain(_drained(first), rest), part_size):
        yield _Body(pieces)


def _drained(chunks: list[bytes]) -> Iterator[bytes]:
    # Hands the chunks over one by one and forgets them, so the chunks read before the
    # upload started do not stay alive until it ends.
    chunks.reverse()
    while chunks:
        yield chunks.pop()


class _SeekableBody(io.RawIOBase):
    """A read-only file of `size` bytes that can be sought anywhere, as botocore wants."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position


class _Body(_SeekableBody):
    """A read-only, seekable file over a list of buffers.

    botocore sends any body by reading it in small blocks (and seeks back to resend it on
    a retry), so the chunks never need joining: joining would cost a fresh multi-MiB
    buffer per object or part, page faults included, for nothing.
    """

    def __init__(self, pieces: list[memoryview]) -> None:
        self._pieces = [piece for piece in pieces if piece]
        self._starts = list(itertools.accumulate(map(len, self._pieces), initial=0))
        super().__init__(self._starts[-1])

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        written = 0
        index = bisect.bisect_right(self._starts, self._position) - 1
        while written < len(target) and self._position < self.size:
            piece = self._pieces[index]
            offset = self._position - self._starts[index]
            count = min(len(target) - written, len(piece) - offset)
            target[written : written + count] = piece[offset : offset + count]
            written += count
            self._position += count
            index += 1
        return written


class _ReplayedBody(_SeekableBody):
    """A Replayable as the seekable file botocore reads: once to send it, and from the
    start again on a retry (and, signed the default way, once more to sign it first).

    Seeking back starts a fresh pass (skipping to the position, though botocore only ever
    goes back to the start); the bytes are never held beyond the chunk being read. A pass
    that ends short of the announced size, or runs past it, is an error, never a request
    that hangs waiting for bytes or sends more than its Content-Length.
    """

    def __init__(self, source: Replayable, size: int | None = None) -> None:
        super().__init__(source.size if size is None else size)
        self._source = source
        self._pass: Iterator[bytes | memoryview] | None = None
        # What is left of the chunk being read: the chunk itself until it is cut.
        self._pending: bytes | memoryview = b""
        self._reached = 0  # where the current pass stands, behind or at the position
        # The first error a pass raised: botocore wraps it into a failed request.
        self.failure: Exception | None = None

    def _fresh_pass(self) -> Iterator[bytes | memoryview]:
        return _exactly(self._source)

    def _stale(self) -> bool:
        return self._pass is None or self._reached > self._position

    def read(self, size: int | None = -1) -> bytes:
        want = self.size if size is None or size < 0 else size
        try:
            if self._stale():
                self._pass, self._pending, self._reached = self._fresh_pass(), b"", 0
            while self._reached < self._position:
                if not self._take(self._position - self._reached):
                    break
            piece = self._take(want)
        except Exception as exc:
            self.failure = self.failure or exc
            raise
        self._position += len(piece)
        return piece

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        piece = self.read(len(target))
        target[: len(piece)] = piece
        return len(piece)

    def _take(self, most: int) -> bytes:
        assert self._pass is not None
        while not self._pending:
            chunk = next(self._pass, None)
            if chunk is None:
                return b""
            self._pending = chunk
        pending = self._pending
        if most >= len(pending):
            piece = pending  # a whole chunk (or what is left of it) goes as it is
            self._pending = b""
        else:
            view = memoryview(pending).cast("B")
            piece, self._pending = view[:most], view[most:]
        self._reached += len(piece)
        return piece if isinstance(piece, bytes) else bytes(piece)


class _ChunkSignedBody(_ReplayedBody):
    """A Replayable sent as signed aws-chunks (sigv4_chunks): made, signed and sent in one
    pass per attempt, each attempt under the signature botocore's retry gave it."""

    def __init__(self, source: Replayable) -> None:
        self.chunk_signing = ChunkSigning(source.size)
        super().__init__(source, size=self.chunk_signing.encoded_size)
        self._signed_by: ChunkSigner | None = None

    def _fresh_pass(self) -> Iterator[bytes | memoryview]:
        self._signed_by = self.chunk_signing.signer
        return self.chunk_signing.frames(_exactly(self._source))

    def _stale(self) -> bool:
        # A new signature (a retry) starts a new pass, whatever was read under the old one.
        return super()._stale() or self._signed_by is not self.chunk_signing.signer


def _exactly(source: Replayable) -> Iterator[bytes]:
    """One pass over `source`, refused as soon as it runs past its announced size, or
    when it ends short of it: before the bytes that would make the request wrong."""
    reached = 0
    for chunk in source:
        reached += len(chunk)
        if reached > source.size:
            raise StorageError("the object runs past its announced size")
        yield chunk
    if reached != source.size:
        raise StorageError("the object ended before its announced size")


class _PartUploader:
    """Sends the parts of one multipart upload, at most `concurrency` of them at a time."""

    def __init__(
        self, client: S3Client, bucket: str, name: str, upload_id: str, concurrency: int
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._name = name
        self._upload_id = upload_id
        self._concurrency = concurrency
        self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix="s3-part")
        self._in_flight: deque[Future[CompletedPartTypeDef]] = deque()
        self._sent: list[CompletedPartTypeDef] = []
        self._count = 0
        self.size = 0

    def send(self, part: _Body) -> None:
        """Queue the next part, first waiting for the oldest one if `concurrency` are out."""
        if self._count == MAX_PARTS:
            raise StorageError("object too large for a multipart upload of this part size")
        # Waiting here bounds memory (concurrency parts out, one filling up) and surfaces
        # a failed part before more are sent.
        while len(self._in_flight) >= self._concurrency:
            self._sent.append(self._in_flight.popleft().result())
        self._count += 1
        self._in_flight.append(self._executor.submit(self._upload, self._count, part))
        self.size += part.size

    def finish(self) -> list[CompletedPartTypeDef]:
        """Wait for every part and return them in order, as CompleteMultipartUpload wants."""
        while self._in_flight:
            self._sent.append(self._in_flight.popleft().result())
        return self._sent

    def close(self) -> None:
        """Drop parts not started yet and wait for those on the wire."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _upload(self, number: int, part: _Body) -> CompletedPartTypeDef:
        with _translated_errors("put"):
            etag = self._client.upload_part(
                Bucket=self._bucket,
                Key=self._name,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=cast("IO[bytes]", part),
            )["ETag"]
        return {"ETag": etag, "PartNumber": number}


def _read_chunks(body: StreamingBody) -> Iterator[bytes]:
    try:
        with _translated_errors("get"):
            yield from body.iter_chunks(READ_CHUNK_BYTES)
    finally:
        # Releases the connection even when the reader stops early.
        body.close()


def _status(exc: ClientError) -> int:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)


@contextlib.contextmanager
def _translated_errors(operation: str) -> Iterator[None]:
    """Turn boto3's exceptions into the locker's storage errors, keeping the cause."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = _status(exc)
        if code in _MISSING_CODES:
            raise ObjectNotFound(f"{operation}: no such object") from exc
        if status >= 500 or code in _TRANSIENT_CODES:
            raise StorageUnavailable(f"{operation}: {code or status}") from exc
        raise StorageError(f"{operation}: {code or status}") from exc
    except SSLError as exc:
        # A certificate problem is configuration, not a passing outage.
        raise StorageError(f"{operation}: TLS failure talking to the object store") from exc
    except (BotoConnectionError, HTTPClientError, IncompleteReadError) as exc:
        raise StorageUnavailable(f"{operation}: object store unreachable") from exc
    except BotoCoreError as exc:
        raise StorageError(f"{operation}: {type(exc).__name__}") from exc
