"""The S3 backend: any S3-compatible endpoint through boto3, streaming both ways."""

from __future__ import annotations

import contextlib
import datetime
import io
import threading
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, cast

import boto3.session
import botocore.loaders
import botocore.session
from boto3.s3.transfer import TransferConfig
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
from locker.settings import MIB
from locker.storage.base import (
    READ_CHUNK_BYTES,
    Replayable,
    check_object_key,
    is_object_key,
    new_object_key,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client

# S3 refuses parts below 5 MiB (except the last one).
MIN_PART_BYTES = 5 * MIB
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
        s3={
            "addressing_style": "path" if path_style else "virtual",
            # The body is not hashed into the signature (a second pass over every upload
            # before its first byte goes): each object is AEAD ciphertext, so any byte
            # changed on the way fails decryption, and production runs over TLS.
            "payload_signing_enabled": False,
        },
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


# botocore reads the S3 service description (a large JSON file) anew in every session:
# ~0.1 s a client. One reader for the process, as botocore's maintainers advise
# (boto/botocore#3078), makes it ~0.01 s; the sessions stay private.
_DESCRIPTIONS = botocore.loaders.create_loader()
_DESCRIPTIONS_LOCK = threading.Lock()


def _private_session() -> boto3.session.Session:
    # Private: the module-level default session is not thread-safe to create clients from,
    # must not leak settings between stores, and would keep the first credentials it read.
    core = botocore.session.get_session()
    core.register_component("data_loader", _DESCRIPTIONS)
    with _DESCRIPTIONS_LOCK:
        session = boto3.session.Session(botocore_session=core)
        # Each boto3 session adds its own data folder to the reader: keep it once.
        paths = _DESCRIPTIONS.search_paths
        paths[:] = list(dict.fromkeys(paths))
    return session


def make_s3_client(
    *,
    endpoint_url: str | None,
    region: str | None,
    path_style: bool = True,
    config: Config | None = None,
) -> S3Client:
    """Build an S3 client with credentials from the standard AWS sources (env, profile, role)."""
    return _private_session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        config=config or s3_client_config(path_style=path_style),
    )


class S3Store:
    """Objects in one bucket, optionally under a prefix.

    A replayable object of a known size (every encrypted document) goes in one streamed
    PUT, read again from the start if botocore retries it; any other stream goes through
    boto3's managed transfer: one PUT up to the threshold, a multipart upload above it
    (aborted on failure, holding at most `part_concurrency + 1` parts in memory).
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
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=part_size,
            max_concurrency=part_concurrency,
        )
        # s3transfer reads a stream of unknown size part by part into memory, up to ten
        # parts ahead by default; one more than are in flight keeps the senders busy.
        self._transfer.max_in_memory_upload_chunks = part_concurrency + 1
        # Above this a multipart upload is worth its round trips: parts go in parallel,
        # and a retry resends one part, not the whole object (S3's own cap is 5 GiB).
        self._single_put_limit = min(single_put_limit, 5 * 1024 * MIB)

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

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store the chunks; on any error nothing is left, not even a part, and the
        error (the source's own, if it failed) propagates."""
        name = self._name(key)
        if isinstance(chunks, Replayable) and chunks.size <= self._single_put_limit:
            return self._put_replayed(name, chunks)
        stream = _Stream(iter(chunks))
        with _translated_errors("put"):
            try:
                self._client.upload_fileobj(
                    cast("IO[bytes]", io.BufferedReader(stream, READ_CHUNK_BYTES)),
                    self._bucket,
                    name,
                    ExtraArgs={"ContentType": _CONTENT_TYPE},
                    Config=self._transfer,
                )
            except KeyError as exc:
                if stream.failure is not None:
                    raise
                # A 200 whose body the server cut off (gone mid-answer) parses to nothing,
                # and the transfer then misses the field it reads (`UploadId`, `ETag`).
                raise StorageUnavailable("put: the object store's answer was cut off") from exc
        return stream.size

    def _put_replayed(self, name: str, source: Replayable) -> int:
        # botocore never reads a body announced empty: check that it is, here.
        body = _ReplayedBody(source) if source.size else b"".join(_exactly(source))
        try:
            with _translated_errors("put"):
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=name,
                    Body=cast("IO[bytes]", body),
                    ContentLength=source.size,
                    ContentType=_CONTENT_TYPE,
                )
        except StorageError:
            # botocore reports a failing body as a failed request (and retries it): the
            # caller must see the source's own error, as with any other put.
            if isinstance(body, _ReplayedBody) and body.failure is not None:
                raise body.failure from None
            raise
        return source.size

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

    def ping(self) -> None:
        """Raise StorageError unless the bucket answers a HEAD (it exists, we may use it)."""
        try:
            with _translated_errors("ping"):
                self._client.head_bucket(Bucket=self._bucket)
        except ObjectNotFound:
            raise StorageError("ping: the bucket does not exist") from None

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


class _Stream(io.RawIOBase):
    """An iterator of chunks as the raw file a BufferedReader fills its reads from."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = memoryview(b"")
        self.size = 0
        # The source's own failure, told apart from the transfer's (see `put`).
        self.failure: BaseException | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        while not self._pending:
            try:
                chunk = next(self._chunks, None)
            except BaseException as exc:
                self.failure = exc
                raise
            if chunk is None:
                return 0
            self._pending = memoryview(chunk).cast("B")
        target = memoryview(buffer).cast("B")
        count = min(len(self._pending), len(target))
        target[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        self.size += count
        return count


class _ReplayedBody(io.RawIOBase):
    """A Replayable as the seekable file botocore reads: once to send it, and from the
    start again on a retry.

    Seeking back starts a fresh pass (skipping to the position, though botocore only ever
    goes back to the start); the bytes are never held beyond the chunk being read. A pass
    that ends short of the announced size, or runs past it, is an error, never a request
    that hangs waiting for bytes or sends more than its Content-Length.
    """

    def __init__(self, source: Replayable) -> None:
        super().__init__()
        self.size = source.size
        self._position = 0
        self._source = source
        self._pass: Iterator[bytes] | None = None
        # What is left of the chunk being read: the chunk itself until it is cut.
        self._pending: bytes | memoryview = b""
        self._reached = 0  # where the current pass stands, behind or at the position
        # The first error a pass raised: botocore wraps it into a failed request.
        self.failure: Exception | None = None

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

    def read(self, size: int | None = -1) -> bytes:
        want = self.size if size is None or size < 0 else size
        try:
            if self._pass is None or self._reached > self._position:
                self._pass, self._pending, self._reached = _exactly(self._source), b"", 0
            while self._reached < self._position:
                if not self._take(self._position - self._reached):
                    break
            piece = self._take(want)
        except Exception as exc:
            self.failure = self.failure or exc
            # A retry must start a fresh pass: this one is dead, and reading on would
            # send an empty rest under the announced length, and wait for the server.
            self._pass = None
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
