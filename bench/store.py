"""Encrypted object storage against raw boto3, on a real S3 server.

Run: .venv/bin/python bench/store.py [--endpoint URL] [--sizes-mb 5,50] [--repeats 7]

For each payload size, on the same server, bucket, client and bytes:
  raw put        boto3 put_object(Body=payload)                         (the baseline)
  store put      S3Store.put(payload in 1 MiB chunks, replayable)       (storage layer alone)
  encrypted put  S3Store.put(EncryptedObject(payload in 1 MiB chunks))  (the upload path)
  streamed put   S3Store.put(encrypt_object(payload in 1 MiB chunks))  (a stream of unknown
                                                                        size: multipart)
  raw get        boto3 get_object().read()                              (the baseline)
  store get      S3Store.get(), consumed
  encrypted get  decrypt_object(S3Store.get()), consumed                (the read path)
Each is run once to warm up, then --repeats times; every round runs the puts, then the
gets, in a new random order, each put to a new key. Medians are reported; the goal is
encrypted / raw <= 1.15.

Without --endpoint, a throwaway Ceph RGW is started with tests/tools/ceph-rgw-up.sh
(bluestore on a sparse file by default, like a real OSD) and stopped at the end. With
--endpoint, credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

# bench/ holds a crypto.py of its own: take this folder off the import path so `import
# crypto` finds the package, and put the repository root on it for `tests.s3_server`.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(ROOT))

from crypto.keys import generate_key  # noqa: E402
from crypto.streaming import EncryptedObject, decrypt_object, encrypt_object  # noqa: E402
from locker.storage import S3Store  # noqa: E402
from tests.s3_server import S3Server, ceph_rgw, remove_bucket  # noqa: E402

MB = 1_000_000
MIB = 1024 * 1024
OPERATIONS = [
    "raw put",
    "store put",
    "encrypted put",
    "streamed put",
    "raw get",
    "store get",
    "encrypted get",
]


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    """Yield `data` in `size`-byte slices, as an upload spool would be read."""
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield bytes(view[start : start + size])


class Passes:
    """`data` in `size`-byte slices, as often as it is read: a spooled upload, replayable."""

    def __init__(self, data: bytes, size: int) -> None:
        self._data = data
        self._chunk = size
        self.size = len(data)

    def __iter__(self) -> Iterator[bytes]:
        return chunks_of(self._data, self._chunk)


def drain(stream: Iterable[bytes]) -> int:
    """Consume a stream, keeping nothing, and return how many bytes went by."""
    return sum(len(piece) for piece in stream)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", help="S3 endpoint URL (default: start Ceph RGW)")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    parser.add_argument("--sizes-mb", default="5,50", help="payload sizes in MB (10^6 bytes)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--chunk-kib", type=int, default=1024, help="plaintext chunk size")
    parser.add_argument("--part-mib", type=int, default=8, help="S3Store part size")
    parser.add_argument("--threshold-mib", type=int, default=8, help="S3Store threshold")
    parser.add_argument(
        "--part-concurrency", type=int, default=None, help="S3Store parts in flight"
    )
    parser.add_argument("--objectstore", default="bluestore", choices=["bluestore", "memstore"])
    return parser.parse_args()


@contextlib.contextmanager
def server_for(args: argparse.Namespace) -> Iterator[S3Server]:
    if args.endpoint:
        yield S3Server(
            kind="external",
            upstream_url=args.endpoint,
            access_key=os.environ["AWS_ACCESS_KEY_ID"],
            secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
            region=args.region,
        )
        return
    started = time.monotonic()
    with ceph_rgw(objectstore=args.objectstore) as server:
        print(f"Ceph RGW ({args.objectstore}) up in {time.monotonic() - started:.1f} s")
        yield server


def make_store(args: argparse.Namespace, server: S3Server, bucket: str) -> S3Store:
    options: dict[str, int] = {
        "multipart_threshold": args.threshold_mib * MIB,
        "part_size": args.part_mib * MIB,
    }
    if args.part_concurrency is not None:
        options["part_concurrency"] = args.part_concurrency
    return S3Store(server.client(), bucket, **options)


def bench_size(
    args: argparse.Namespace, server: S3Server, bucket: str, size: int
) -> dict[str, float]:
    """Return the median seconds of each operation on a `size`-byte payload."""
    client = server.client()
    store = make_store(args, server, bucket)
    payload = os.urandom(size)
    chunk = args.chunk_kib * 1024
    data_key = generate_key()
    aad = secrets.token_bytes(32)
    # Every put writes a new key, as the locker does (one key per document version): an
    # overwrite would make the server clean up the previous version meanwhile.
    keys: dict[str, str] = {}

    def raw_put() -> None:
        keys["raw"] = store.new_key()
        client.put_object(Bucket=bucket, Key=keys["raw"], Body=payload)

    def store_put() -> None:
        keys["store"] = store.new_key()
        store.put(keys["store"], Passes(payload, chunk))

    def encrypted_put() -> None:
        keys["encrypted"] = store.new_key()
        # As upload_document does with the sanitised file: its size is known, and it can
        # be read again.
        plaintext = Passes(payload, chunk)
        store.put(keys["encrypted"], EncryptedObject(data_key, plaintext.__iter__, size, aad))

    def streamed_put() -> None:
        keys["streamed"] = store.new_key()
        store.put(keys["streamed"], encrypt_object(data_key, chunks_of(payload, chunk), aad))

    def raw_get() -> None:
        assert len(client.get_object(Bucket=bucket, Key=keys["raw"])["Body"].read()) == size

    def store_get() -> None:
        assert drain(store.get(keys["store"])) == size

    def encrypted_get() -> None:
        assert drain(decrypt_object(data_key, store.get(keys["encrypted"]), aad)) == size

    puts: list[tuple[str, Callable[[], None]]] = [
        ("raw put", raw_put),
        ("store put", store_put),
        ("encrypted put", encrypted_put),
        ("streamed put", streamed_put),
    ]
    gets: list[tuple[str, Callable[[], None]]] = [
        ("raw get", raw_get),
        ("store get", store_get),
        ("encrypted get", encrypted_get),
    ]
    order = random.Random(size)
    durations: dict[str, list[float]] = {name: [] for name in OPERATIONS}
    for round_number in range(args.repeats + 1):
        # A new order every round, so that whatever the server does after one request
        # (flushes, garbage collection) does not always land on the same next one.
        order.shuffle(puts)
        order.shuffle(gets)
        for name, action in puts + gets:
            start = time.perf_counter()
            action()
            if round_number:  # round 0 warms connections and caches up
                durations[name].append(time.perf_counter() - start)
        # Untimed: a long run of fresh keys would otherwise fill a small test cluster
        # (the bluestore file of ceph-rgw-up.sh is 10 GiB; freed space returns only after
        # RGW's garbage collection).
        for key in keys.values():
            store.delete(key)
    return {name: statistics.median(times) for name, times in durations.items()}


def main() -> None:
    args = parse_args()
    sizes = [int(float(text) * MB) for text in args.sizes_mb.split(",")]
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs; chunks {args.chunk_kib} KiB,"
        f" part {args.part_mib} MiB, threshold {args.threshold_mib} MiB,"
        f" part concurrency {args.part_concurrency or 'default'}, median of {args.repeats}"
    )
    with server_for(args) as server:
        bucket = f"locker-bench-{secrets.token_hex(6)}"
        server.client().create_bucket(Bucket=bucket)
        try:
            print(f"endpoint {server.upstream_url} ({server.kind})")
            print(f"{'size':>6} {'operation':<14} {'median ms':>10} {'MB/s':>8} {'vs raw':>7}")
            for size in sizes:
                medians = bench_size(args, server, bucket, size)
                for name in OPERATIONS:
                    baseline = medians["raw put" if "put" in name else "raw get"]
                    print(
                        f"{size / MB:>4g}MB {name:<14} {medians[name] * 1000:>10.1f}"
                        f" {size / medians[name] / MB:>8.0f} {medians[name] / baseline:>7.2f}"
                    )
        finally:
            remove_bucket(server, bucket)


if __name__ == "__main__":
    main()
