"""Signed streaming uploads for S3 (SigV4 "aws-chunked", STREAMING-AWS4-HMAC-SHA256-PAYLOAD).

botocore signs a request body by hashing it whole before the first byte is sent. For an
object the store makes as it sends (encryption of a file), that is a second full pass
before the upload can start: 20 ms of a 20 MB upload, a fifth of the time the server
needs to take it (bench/README.md, "uploads"). S3's chunked signature signs each chunk as
it goes, chained to the request's own signature, so the body is made and signed in the
one pass that sends it, and the server still refuses any chunk altered on the way.
botocore implements only the unsigned variant of aws-chunked (a CRC trailer, over TLS),
hence this module; it uses botocore's own signer for the request itself.

Wiring (`enable_chunk_signing`): a put_object whose body has a `chunk_signing` attribute
holding a ChunkSigning is marked before the call, left unsigned by botocore's signer, and
signed here instead, once per attempt (a retry gets a fresh signature, and its body a
fresh pass under it).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import botocore
from botocore.auth import S3SigV4Auth

from locker.errors import StorageError
from locker.storage.base import regrouped

if TYPE_CHECKING:
    from botocore.awsrequest import AWSRequest
    from botocore.signers import RequestSigner
    from mypy_boto3_s3 import S3Client

STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_SIGNATURE_FIELD = ";chunk-signature="
_SIGNATURE_HEX = 64
# S3 wants chunks of at least 8 KiB (but the last); 1 MiB keeps the framing and the
# per-chunk signatures negligible while holding little.
CHUNK_BYTES = 1024 * 1024
_CONTEXT_KEY = "locker_chunk_signing"


def chunked_length(size: int, chunk_bytes: int = CHUNK_BYTES) -> int:
    """The length on the wire of `size` bytes sent in signed chunks of `chunk_bytes`."""
    full, rest = divmod(size, chunk_bytes)

    def framed(length: int) -> int:
        header = len(f"{length:x}") + len(_SIGNATURE_FIELD) + _SIGNATURE_HEX + 2
        return header + length + 2

    return full * framed(chunk_bytes) + (framed(rest) if rest else 0) + framed(0)


@dataclass(frozen=True)
class ChunkSigner:
    """What one signed request's chunks are signed with: the request's signing key, date
    and scope, and its signature, which the first chunk's signature chains to."""

    key: bytes
    timestamp: str
    scope: str
    seed: str

    def sign(self, previous: str, digest_hex: str) -> str:
        """The signature of a chunk whose SHA-256 is `digest_hex`, after `previous`."""
        to_sign = "\n".join(
            (
                "AWS4-HMAC-SHA256-PAYLOAD",
                self.timestamp,
                self.scope,
                previous,
                _EMPTY_SHA256,
                digest_hex,
            )
        )
        return hmac.new(self.key, to_sign.encode(), hashlib.sha256).hexdigest()


class ChunkSigning:
    """The signing side of one chunk-signed body: its decoded size, its length on the
    wire, and the signer of the attempt in progress."""

    def __init__(self, size: int, chunk_bytes: int = CHUNK_BYTES) -> None:
        if size <= 0:
            raise ValueError("an aws-chunked body must not be empty")
        self.size = size
        self.chunk_bytes = chunk_bytes
        self.encoded_size = chunked_length(size, chunk_bytes)
        self.signer: ChunkSigner | None = None

    def frames(self, data: Iterable[bytes]) -> Iterator[bytes | memoryview]:
        """`data` (exactly `size` bytes, checked by the caller) as signed chunks, each
        chunk's frame made once all its bytes are in hand: holds one chunk at most."""
        signer = self.signer
        if signer is None:
            raise StorageError("a chunk-signed body was read before its request was signed")
        previous = signer.seed

        def frame(pieces: list[memoryview]) -> Iterator[bytes | memoryview]:
            nonlocal previous
            digest = hashlib.sha256()
            for piece in pieces:
                digest.update(piece)
            previous = signer.sign(previous, digest.hexdigest())
            yield f"{sum(map(len, pieces)):x}{_SIGNATURE_FIELD}{previous}\r\n".encode()
            yield from pieces
            yield b"\r\n"

        for pieces in regrouped(data, self.chunk_bytes):
            yield from frame(pieces)
        yield from frame([])  # the empty chunk that ends the body, signed like the others


class _StreamingSigV4(S3SigV4Auth):
    """botocore's S3 signer, announcing a chunk-signed payload instead of hashing it."""

    def payload(self, request: AWSRequest) -> str:
        return STREAMING_PAYLOAD


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _signing_of(body: object) -> ChunkSigning | None:
    signing = getattr(body, "chunk_signing", None)
    return signing if isinstance(signing, ChunkSigning) else None


def _mark(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    signing = _signing_of(params.get("body"))
    if signing is None:
        return
    if context.get("checksum", {}).get("request_algorithm"):
        # A checksum trailer would wrap the body in another aws-chunked encoding.
        raise StorageError("chunk signing needs request_checksum_calculation='when_required'")
    context[_CONTEXT_KEY] = signing


def _leave_unsigned(context: dict[str, Any], **_: Any) -> object | None:
    # botocore's signer would hash the whole body first: this module signs instead.
    return botocore.UNSIGNED if _CONTEXT_KEY in context else None


def _sign(
    request: AWSRequest,
    request_signer: RequestSigner,
    signing_name: str,
    region_name: str,
    **_: Any,
) -> None:
    signing = request.context.get(_CONTEXT_KEY)
    if not isinstance(signing, ChunkSigning):
        return
    # The region and name the default signer would have used (endpoint rules may set them).
    overrides = request.context.get("signing", {})
    region = overrides.get("region", region_name)
    service = overrides.get("signing_name", signing_name)
    credentials = request_signer.get_auth_instance(service, region, "s3v4").credentials
    for name in ("Content-Encoding", "X-Amz-Decoded-Content-Length"):
        if name in request.headers:
            del request.headers[name]
    request.headers["Content-Encoding"] = "aws-chunked"
    request.headers["X-Amz-Decoded-Content-Length"] = str(signing.size)
    auth = _StreamingSigV4(credentials, service, region)
    auth.add_auth(request)
    timestamp = request.context["timestamp"]
    seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    signing.signer = ChunkSigner(
        key=_signing_key(credentials.secret_key, timestamp[:8], region, service),
        timestamp=timestamp,
        scope=auth.credential_scope(request),
        seed=seed,
    )


def enable_chunk_signing(client: S3Client) -> None:
    """Have `client` sign chunk-signed put_object bodies (idempotent)."""
    events = client.meta.events
    events.register("before-call.s3.PutObject", _mark, unique_id="locker-chunks-mark")
    # The stubs type handlers as returning None; choose-signer's answer is what it returns.
    events.register(
        "choose-signer.s3.PutObject",
        cast("Callable[..., None]", _leave_unsigned),
        unique_id="locker-chunks-unsigned",
    )
    events.register("before-sign.s3.PutObject", _sign, unique_id="locker-chunks-sign")
