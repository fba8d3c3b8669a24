"""Every ObjectStore backend honours the same contract, checked over real I/O.

The S3 backend runs against the session's real S3 server over HTTP (Ceph RGW when
installed); nothing in boto3 is patched.
"""

from __future__ import annotations

import datetime
import hashlib
import http.server
import itertools
import os
import re
import stat
import threading
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from locker.errors import ConfigurationError, ObjectNotFound, StorageError, StorageUnavailable
from locker.storage import (
    READ_CHUNK_BYTES,
    InvalidObjectKey,
    LocalFolderStore,
    ObjectStore,
    S3Store,
    open_store,
    s3_client_config,
)
from tests import s3_server as s3_harness

MIB = 1024 * 1024
# S3's minimum part size, as threshold and part size: multipart cases stay small.
PART = 5 * MIB
PART_CONCURRENCY = 2


class Interrupted(Exception):
    """Raised by a chunk iterator to simulate a failing upload source."""


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def chunked(data: bytes, sizes: Iterable[int]) -> Iterator[bytes]:
    """Cut `data` into chunks of the given sizes, cycling through them."""
    offset = 0
    for size in itertools.cycle(sizes):
        if offset >= len(data):
            return
        yield data[offset : offset + size]
        offset += size


def failing_after(data: bytes, chunk_size: int = MIB) -> Iterator[bytes]:
    """Yield `data` in chunks, then raise instead of ending."""
    yield from chunked(data, [chunk_size])
    raise Interrupted


class Passes:
    """Replayable bytes: `data` in `chunk`-byte pieces from the start at every pass, with
    an announced `size` (its length unless told otherwise) and a failure on demand."""

    def __init__(
        self, data: bytes, chunk: int = MIB, size: int | None = None, fail_after: int = -1
    ) -> None:
        self._data = data
        self._chunk = chunk
        self._fail_after = fail_after
        self.size = len(data) if size is None else size
        self.passes = 0

    def __iter__(self) -> Iterator[bytes]:
        self.passes += 1
        for index, piece in enumerate(chunked(self._data, [self._chunk])):
            if index == self._fail_after:
                raise Interrupted
            yield piece


def read_all(store: ObjectStore, key: str) -> bytes:
    chunks = list(store.get(key))
    assert all(len(chunk) <= READ_CHUNK_BYTES for chunk in chunks)
    return b"".join(chunks)


@pytest.fixture(params=["local", "s3", "s3-prefixed"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """A ready, empty store of each backend (S3 fixtures are only started when needed)."""
    backend: ObjectStore
    if request.param == "local":
        backend = LocalFolderStore(tmp_path / "objects")
    else:
        server = request.getfixturevalue("s3_server")
        bucket = request.getfixturevalue("s3_bucket")
        backend = S3Store(
            server.client(),
            bucket,
            prefix="locker/objects" if request.param == "s3-prefixed" else "",
            multipart_threshold=PART,
            part_size=PART,
            part_concurrency=PART_CONCURRENCY,
        )
    backend.ensure_ready()
    return backend


def leftovers(store: ObjectStore, request: pytest.FixtureRequest) -> list[str]:
    """What a failed put could have left behind: staging files, pending uploads."""
    if isinstance(store, LocalFolderStore):
        return [path.name for path in (store.root / ".tmp").iterdir()]
    assert isinstance(store, S3Store)
    client = request.getfixturevalue("s3_server").client()
    uploads = client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    return [upload["UploadId"] for upload in uploads]


# -- the contract, for every backend ------------------------------------------------------


@pytest.mark.parametrize(
    "size",
    [0, 1, 1000, PART - 1, PART, PART + 1, 2 * PART, 2 * PART + 12345],
    ids=lambda size: f"{size}B",
)
def test_round_trip(store: ObjectStore, size: int) -> None:
    data = os.urandom(size)
    key = store.new_key()

    assert store.put(key, chunked(data, [64 * 1024])) == size

    assert read_all(store, key) == data
    assert store.exists(key)
    assert list(store.list_keys()) == [key]


@pytest.mark.parametrize(
    "sizes",
    [
        [1, 7, 0, 65537, MIB + 3, 3 * MIB - 1],
        [2 * PART + 3],  # one chunk bigger than two parts
        [PART - 1, 2],  # chunks straddling every part boundary
    ],
    ids=["odd-small", "one-huge-chunk", "straddling"],
)
def test_round_trip_with_odd_chunks(store: ObjectStore, sizes: list[int]) -> None:
    data = os.urandom(2 * PART + 3)
    key = store.new_key()

    assert store.put(key, chunked(data, sizes)) == len(data)

    assert read_all(store, key) == data


@pytest.mark.parametrize(
    "size", [0, 1, PART - 1, PART + 1, 2 * PART + 12345], ids=lambda size: f"{size}B"
)
def test_replayable_round_trip(store: ObjectStore, size: int) -> None:
    data = os.urandom(size)
    key = store.new_key()
    body = Passes(data, chunk=MIB - 3)

    assert store.put(key, body) == size

    assert read_all(store, key) == data
    assert list(store.list_keys()) == [key]
    assert body.passes >= 1


@pytest.mark.parametrize("fail_after", [0, 1, 3], ids=["first-chunk", "second", "later"])
def test_failed_replayable_put_leaves_nothing_and_keeps_its_error(
    store: ObjectStore, request: pytest.FixtureRequest, fail_after: int
) -> None:
    key = store.new_key()

    with pytest.raises(Interrupted):
        store.put(key, Passes(os.urandom(PART + 1), fail_after=fail_after))

    assert not store.exists(key)
    assert leftovers(store, request) == []


@pytest.mark.parametrize("announced", [0, 999, 1001, PART + 1])
def test_replayable_of_another_size_than_announced_is_refused(
    store: ObjectStore, request: pytest.FixtureRequest, announced: int
) -> None:
    key = store.new_key()

    with pytest.raises(StorageError):
        store.put(key, Passes(os.urandom(1000), size=announced))

    assert not store.exists(key)
    assert leftovers(store, request) == []


def test_put_accepts_any_iterable(store: ObjectStore) -> None:
    key = store.new_key()

    assert store.put(key, [b"ab", b"", b"c"]) == 3
    assert read_all(store, key) == b"abc"


def test_get_missing_key_raises_object_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.get(store.new_key())


def test_exists(store: ObjectStore) -> None:
    key = store.new_key()
    assert not store.exists(key)
    store.put(key, [b"x"])
    assert store.exists(key)


def test_delete_is_idempotent(store: ObjectStore) -> None:
    key = store.new_key()
    store.put(key, [b"secret"])

    store.delete(key)
    store.delete(key)
    store.delete(store.new_key())

    assert not store.exists(key)
    with pytest.raises(ObjectNotFound):
        store.get(key)


def test_list_keys_lists_every_key_and_only_those(store: ObjectStore) -> None:
    assert list(store.list_keys()) == []
    keys = {store.new_key() for _ in range(5)}
    for key in keys:
        store.put(key, [key.encode()])
    removed = keys.pop()
    store.delete(removed)

    assert sorted(store.list_keys()) == sorted(keys)


def test_new_keys_are_random_opaque_and_distinct(store: ObjectStore) -> None:
    keys = [store.new_key() for _ in range(2000)]

    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)
    # Random, not a counter or a clock: no shared prefix across consecutive keys.
    assert len({key[:4] for key in keys[:50]}) > 40


def test_overwrite_replaces_the_whole_object(store: ObjectStore) -> None:
    key = store.new_key()
    big, small = os.urandom(PART + 10), os.urandom(10)

    store.put(key, [big])
    store.put(key, [small])
    assert read_all(store, key) == small

    store.put(key, chunked(big, [MIB]))
    assert read_all(store, key) == big


@pytest.mark.parametrize(
    "size",
    [0, MIB, PART + 1, 2 * PART + 1],
    ids=["before-first-chunk", "below-threshold", "after-first-part", "after-two-parts"],
)
def test_failed_put_leaves_nothing(
    store: ObjectStore, request: pytest.FixtureRequest, size: int
) -> None:
    key = store.new_key()

    with pytest.raises(Interrupted):
        store.put(key, failing_after(os.urandom(size)))

    assert not store.exists(key)
    assert list(store.list_keys()) == []
    assert leftovers(store, request) == []


def test_failed_overwrite_keeps_the_previous_object(
    store: ObjectStore, request: pytest.FixtureRequest
) -> None:
    key = store.new_key()
    old = os.urandom(PART + 1)
    store.put(key, [old])

    with pytest.raises(Interrupted):
        store.put(key, failing_after(os.urandom(2 * PART)))

    assert read_all(store, key) == old
    assert leftovers(store, request) == []


def test_abandoned_read_releases_the_object(store: ObjectStore) -> None:
    key = store.new_key()
    store.put(key, [os.urandom(3 * MIB)])

    stream = store.get(key)
    next(stream)
    stream.close()  # type: ignore[attr-defined]

    store.delete(key)
    assert not store.exists(key)


def test_ensure_ready_is_idempotent(store: ObjectStore) -> None:
    key = store.new_key()
    store.put(key, [b"kept"])

    store.ensure_ready()
    store.ensure_ready()

    assert read_all(store, key) == b"kept"


def test_ping_answers_on_a_ready_store_and_fails_without_its_folder_or_bucket(
    store: ObjectStore, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store.ping()
    gone: ObjectStore
    if isinstance(store, LocalFolderStore):
        gone = LocalFolderStore(tmp_path / "never-made")
    else:
        gone = S3Store(request.getfixturevalue("s3_server").client(), "locker-never-made")
    with pytest.raises(StorageError):
        gone.ping()


@pytest.mark.parametrize(
    "bad_key",
    [
        "../x",
        "a/b",
        "/etc/passwd",
        "",
        ".",
        "..",
        "0" * 31,
        "0" * 33,
        "A" * 32,
        "g" * 32,
        "../" + "0" * 29,
        "00/" + "0" * 29,
        "0" * 32 + "\n",
        "%2e%2e" + "0" * 26,
    ],
)
def test_malformed_keys_are_refused_by_every_operation(
    store: ObjectStore, tmp_path: Path, bad_key: str
) -> None:
    before = sorted(tmp_path.rglob("*"))
    operations: list[Any] = [
        lambda: store.put(bad_key, [b"x"]),
        lambda: store.get(bad_key),
        lambda: store.delete(bad_key),
        lambda: store.exists(bad_key),
    ]
    for operation in operations:
        with pytest.raises(InvalidObjectKey):
            operation()

    assert sorted(tmp_path.rglob("*")) == before
    assert list(store.list_keys()) == []


def test_invalid_key_error_is_a_storage_error_and_a_value_error() -> None:
    assert issubclass(InvalidObjectKey, StorageError)
    assert issubclass(InvalidObjectKey, ValueError)


def test_memory_stays_bounded_while_streaming(
    store: ObjectStore, request: pytest.FixtureRequest
) -> None:
    if isinstance(store, S3Store) and request.getfixturevalue("s3_server").kind == "moto":
        pytest.skip("moto serves from this process: its buffers would be counted too")
    size = 12 * PART
    key = store.new_key()
    # A generator that makes its data on the fly, so only the store's own buffers count.
    source = (os.urandom(MIB) for _ in range(size // MIB))

    tracemalloc.start()
    try:
        assert store.put(key, source) == size
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        assert sum(len(chunk) for chunk in store.get(key)) == size
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Parts on the wire, one filling up, a few chunks and botocore's read buffers: a few
    # parts, never the 60 MiB object.
    assert put_peak < (PART_CONCURRENCY + 2) * PART + 6 * MIB
    assert get_peak < 4 * MIB


# -- local folder specifics -----------------------------------------------------------------


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Umask 0, so the modes checked are the ones the store asks for, not the umask's."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("permissive_umask")
def test_local_files_are_0600_in_folders_0700(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "objects")
    store.ensure_ready()
    key = store.new_key()

    store.put(key, [b"passport scan"])

    path = store.root / key[:2] / key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (store.root, store.root / key[:2], store.root / ".tmp"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    # One file per object and nothing else: no metadata sidecars, no leftovers.
    assert sorted(p.relative_to(store.root) for p in store.root.rglob("*")) == [
        Path(".tmp"),
        Path(key[:2]),
        Path(key[:2]) / key,
    ]


def test_local_list_keys_skips_strangers(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "objects")
    store.ensure_ready()
    key = store.new_key()
    store.put(key, [b"x"])
    other = store.new_key()
    (store.root / ".tmp" / "put-abandoned").write_bytes(b"partial")
    (store.root / key[:2] / "notes.txt").write_bytes(b"")
    (store.root / "zz").mkdir()
    (store.root / "zz" / ("f" * 32)).write_bytes(b"")  # valid name, wrong folder
    (store.root / other[:2]).mkdir(exist_ok=True)
    (store.root / other[:2] / other).mkdir()  # a folder, not an object

    assert list(store.list_keys()) == [key]


def test_local_put_without_folder_is_a_storage_error(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "never-created")

    with pytest.raises(StorageError):
        store.put(store.new_key(), [b"x"])
    with pytest.raises(StorageError):
        list(store.list_keys())


# -- S3 specifics ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, PART + 1], ids=["single-put", "multipart"])
def test_s3_objects_carry_no_metadata_and_no_tags(
    s3_server: s3_harness.S3Server, s3_bucket: str, size: int
) -> None:
    client = s3_server.client()
    store = S3Store(client, s3_bucket, multipart_threshold=PART, part_size=PART)
    key = store.new_key()

    store.put(key, [os.urandom(size)])

    head = client.head_object(Bucket=s3_bucket, Key=key)
    assert head["Metadata"] == {}
    assert head["ContentType"] == "application/octet-stream"
    headers = head["ResponseMetadata"]["HTTPHeaders"]
    assert not [name for name in headers if name.startswith("x-amz-meta-")]
    assert "x-amz-tagging-count" not in headers
    assert client.get_object_tagging(Bucket=s3_bucket, Key=key)["TagSet"] == []


@pytest.mark.parametrize("concurrency", [1, 4])
def test_s3_multipart_round_trip_at_any_concurrency(
    s3_server: s3_harness.S3Server, s3_bucket: str, concurrency: int
) -> None:
    store = S3Store(
        s3_server.client(),
        s3_bucket,
        multipart_threshold=PART,
        part_size=PART,
        part_concurrency=concurrency,
    )
    data = os.urandom(5 * PART + 1)
    key = store.new_key()

    assert store.put(key, chunked(data, [MIB - 1])) == len(data)

    assert read_all(store, key) == data


def test_s3_replayable_goes_in_one_put_up_to_the_limit(
    s3_server: s3_harness.S3Server, s3_bucket: str
) -> None:
    # A multipart object's ETag is "<md5 of the part md5s>-<parts>"; a single PUT's is
    # the MD5 of the object itself.
    client = s3_server.client()
    store = S3Store(
        client, s3_bucket, multipart_threshold=PART, part_size=PART, single_put_limit=3 * PART
    )
    one, parts = store.new_key(), store.new_key()
    small, big = os.urandom(2 * PART + 1), os.urandom(3 * PART + 1)

    assert store.put(one, Passes(small)) == len(small)
    assert store.put(parts, Passes(big)) == len(big)

    assert client.head_object(Bucket=s3_bucket, Key=one)["ETag"] == f'"{md5_hex(small)}"'
    assert client.head_object(Bucket=s3_bucket, Key=parts)["ETag"].endswith('-4"')
    assert read_all(store, one) == small and read_all(store, parts) == big


def test_s3_prefix_keeps_objects_apart_from_foreign_ones(
    s3_server: s3_harness.S3Server, s3_bucket: str
) -> None:
    client = s3_server.client()
    store = S3Store(client, s3_bucket, prefix="/tenant/objects/")
    key = store.new_key()
    store.put(key, [b"x"])
    client.put_object(Bucket=s3_bucket, Key="f" * 32, Body=b"outside the prefix")
    client.put_object(Bucket=s3_bucket, Key="tenant/objects/README", Body=b"not a key")
    client.put_object(Bucket=s3_bucket, Key=f"tenant/objects/sub/{key}", Body=b"nested")

    assert store.prefix == "tenant/objects/"
    assert client.head_object(Bucket=s3_bucket, Key=f"tenant/objects/{key}")["ContentLength"] == 1
    assert list(store.list_keys()) == [key]


def test_s3_list_keys_follows_pagination(s3_server: s3_harness.S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    store = S3Store(client, s3_bucket)
    keys = [store.new_key() for _ in range(1003)]  # servers answer at most 1000 per page
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: store.put(key, []), keys))

    assert sorted(store.list_keys()) == sorted(keys)


def test_s3_ensure_ready_creates_the_bucket(s3_server: s3_harness.S3Server) -> None:
    client = s3_server.client()
    bucket = f"locker-test-new-{os.urandom(6).hex()}"
    store = S3Store(client, bucket)

    with pytest.raises(StorageError) as missing:
        store.get(store.new_key())
    assert not isinstance(missing.value, ObjectNotFound)  # a missing bucket is not a 404

    store.ensure_ready()
    store.ensure_ready()
    try:
        key = store.new_key()
        store.put(key, [b"x"])
        assert read_all(store, key) == b"x"
    finally:
        client.delete_object(Bucket=bucket, Key=key)
        client.delete_bucket(Bucket=bucket)


def quick_failing_store(s3_server: s3_harness.S3Server, bucket: str) -> S3Store:
    """An S3Store whose client gives up at once: no retries, 1 s connect timeout."""
    config = s3_client_config(connect_timeout=1, read_timeout=5, max_attempts=1)
    return S3Store(s3_server.client(config), bucket, multipart_threshold=PART, part_size=PART)


def test_s3_unreachable_server_is_storage_unavailable(
    s3_server: s3_harness.S3Server, s3_bucket: str
) -> None:
    store = quick_failing_store(s3_server, s3_bucket)
    key = store.new_key()
    store.put(key, [b"x"])
    operations: list[Any] = [
        lambda: store.put(store.new_key(), [b"x"]),
        lambda: store.put(store.new_key(), [os.urandom(PART + 1)]),
        lambda: store.get(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: list(store.list_keys()),
        store.ensure_ready,
    ]

    started = time.monotonic()
    with s3_server.unreachable():
        for operation in operations:
            with pytest.raises(StorageUnavailable):
                operation()
    assert time.monotonic() - started < 10

    assert read_all(store, key) == b"x"  # reachable again, nothing lost


def test_s3_connection_lost_mid_upload_leaves_no_object(
    s3_server: s3_harness.S3Server, s3_bucket: str
) -> None:
    store = quick_failing_store(s3_server, s3_bucket)
    key = store.new_key()
    client = s3_server.client()

    def outage_midway() -> Iterator[bytes]:
        yield os.urandom(PART + 1)
        # The cut comes once the upload has started on the server.
        deadline = time.monotonic() + 10
        while not client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads"):
            assert time.monotonic() < deadline, "the multipart upload never started"
            time.sleep(0.02)
        s3_server.stop()
        yield os.urandom(PART)

    try:
        with pytest.raises(StorageUnavailable):
            store.put(key, outage_midway())
    finally:
        s3_server.start()

    assert not store.exists(key)
    # The abort could not reach the server either: the upload lingers until swept.
    if s3_server.kind != "moto":  # moto dates every upload 2010-11-10
        assert store.abort_incomplete_uploads(datetime.timedelta(hours=1)) == 0
    assert store.abort_incomplete_uploads(datetime.timedelta(0)) == 1
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_s3_read_cut_midway_is_storage_unavailable(
    s3_server: s3_harness.S3Server, s3_bucket: str
) -> None:
    store = quick_failing_store(s3_server, s3_bucket)
    key = store.new_key()
    store.put(key, [os.urandom(4 * PART)])

    stream = store.get(key)
    next(stream)
    try:
        with s3_server.unreachable(), pytest.raises(StorageUnavailable):
            for _ in stream:
                pass
    finally:
        stream.close()  # type: ignore[attr-defined]


def test_open_store_s3_uses_the_standard_credential_variables(
    s3_server: s3_harness.S3Server, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3_server.credentials_env().items():
        monkeypatch.setenv(name, value)

    store = open_store(
        f"s3://{s3_bucket}/locker/objects/",
        s3_endpoint_url=s3_server.endpoint_url,
        s3_region=s3_server.region,
    )

    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == (s3_bucket, "locker/objects/")
    store.ensure_ready()
    key = store.new_key()
    store.put(key, [b"hello"])
    assert read_all(store, key) == b"hello"


# -- open_store -----------------------------------------------------------------------------


def test_open_store_file_url(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}/objects%20folder")

    assert isinstance(store, LocalFolderStore)
    assert store.root == tmp_path / "objects folder"


def test_open_store_file_url_with_localhost() -> None:
    store = open_store("file://localhost/var/lib/locker")

    assert isinstance(store, LocalFolderStore)
    assert store.root == Path("/var/lib/locker")


def test_open_store_s3_url_without_prefix() -> None:
    store = open_store("s3://locker-objects", s3_endpoint_url="http://127.0.0.1:9")

    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == ("locker-objects", "")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "relative/path",
        "/absolute/but/no/scheme",
        "file:relative",
        "file://relative/path",
        "file://",
        "file:///srv/../etc",
        "ftp://bucket/x",
        "http://bucket",
        "s3://",
        "s3:///prefix",
        "s3://ab",
        "s3://Bucket_With_Capitals",
        "s3://bucket:9000/x",
        "s3://AKIAEXAMPLE:hunter2secret@bucket",
        "s3://bucket/../other",
        "s3://bucket?region=x",
        "s3://[bucket/x",
    ],
)
def test_open_store_rejects_bad_urls_naming_the_setting(url: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        open_store(url)

    assert "LOCKER_STORAGE_URL" in str(refused.value)
    assert "hunter2secret" not in str(refused.value)


class _CutOffAnswers(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint gone mid-answer: a 200 whose body never came."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_an_answer_cut_off_by_the_server_is_storage_unavailable() -> None:
    # Seen with Ceph stopped just as it answered the start of a multipart upload: the
    # transfer found no `UploadId` and raised a KeyError, which was a 500 for the phone.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CutOffAnswers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{server.server_port}",
            aws_access_key_id="LOCKERTEST",
            aws_secret_access_key="locker-test-secret",
            region_name="us-east-1",
            config=s3_client_config(connect_timeout=1, read_timeout=5, max_attempts=1),
        )
        store = S3Store(client, "bucket", multipart_threshold=PART, part_size=PART)
        with pytest.raises(StorageUnavailable, match="cut off"):
            store.put(store.new_key(), iter([os.urandom(PART + 1), b"end"]))

        # The source's own error still comes out as itself.
        def failing() -> Iterator[bytes]:
            yield b"start"
            raise KeyError("the source's own")

        with pytest.raises(KeyError, match="the source's own"):
            store.put(store.new_key(), failing())
    finally:
        server.shutdown()
        server.server_close()
