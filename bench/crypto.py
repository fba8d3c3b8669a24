"""Throughput of crypto.streaming against raw AES-GCM, per candidate segment size.

Run: .venv/bin/python bench/crypto.py [--mib 64] [--chunk-kib 1024] [--repeats 5]

A random plaintext, fed in chunks (as an upload spool or the object store would), goes
through encrypt_object; the resulting object, cut into chunks of the same size, goes through
decrypt_object and verify_object. Baselines, measured in the same run on the same data:
`AESGCM` from cryptography encrypting and decrypting independent 1 MiB buffers, and the same
at each candidate's segment size (what the segment loop costs beyond AES-GCM itself).
Figures are MB/s (10**6 bytes per second) of plaintext: best of the repeats, median in
brackets. Every output is dropped as soon as it is made, as a streaming consumer would do.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

# This file is itself named crypto.py: drop its folder from the import path so that
# `import crypto` finds the package, not this script.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

MIB = 1024 * 1024
CANDIDATES = [16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024]


def cut(data: bytes, size: int) -> list[bytes]:
    """Return `data` as `size`-byte pieces, like the reads of a file or an HTTP body."""
    return [data[start : start + size] for start in range(0, len(data), size)]


def drain(stream: Iterable[bytes]) -> int:
    """Consume a stream, keeping nothing, and return how many bytes went by."""
    return sum(len(piece) for piece in stream)


class Runner:
    """Times actions over one plaintext and turns durations into MB/s."""

    def __init__(self, size: int, repeats: int) -> None:
        self.size = size
        self.repeats = repeats

    def rate(self, action: Callable[[], object]) -> tuple[float, float]:
        """Return (best, median) MB/s over the repeats of `action`."""
        durations = []
        for _ in range(self.repeats):
            start = time.perf_counter()
            action()
            durations.append(time.perf_counter() - start)
        return self.size / min(durations) / 1e6, self.size / statistics.median(durations) / 1e6


def main() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from crypto.streaming import (
        SEGMENT_SIZE,
        TAG_SIZE,
        decrypt_object,
        encrypt_object,
        verify_object,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64, help="plaintext size in MiB")
    parser.add_argument("--chunk-kib", type=int, default=1024, help="input chunk size in KiB")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    runner = Runner(args.mib * MIB, args.repeats)
    chunk_size = args.chunk_kib * 1024
    plaintext = os.urandom(runner.size)
    plaintext_chunks = cut(plaintext, chunk_size)
    key = os.urandom(32)
    aad = b"document 42 version 1"
    raw = AESGCM(key)
    nonce = os.urandom(12)

    def raw_rates(buffer_size: int) -> tuple[float, float]:
        buffers = cut(plaintext, buffer_size)
        sealed = [raw.encrypt(nonce, buffer, None) for buffer in buffers]
        encrypt = runner.rate(lambda: drain(raw.encrypt(nonce, b, None) for b in buffers))
        decrypt = runner.rate(lambda: drain(raw.decrypt(nonce, b, None) for b in sealed))
        return encrypt[0], decrypt[0]

    raw_encrypt, raw_decrypt = raw_rates(MIB)
    print(
        f"plaintext {args.mib} MiB fed in {args.chunk_kib} KiB chunks, best of {args.repeats}"
        f" (median); python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    print(f"raw AESGCM on 1 MiB buffers: encrypt {raw_encrypt:.0f} MB/s, decrypt {raw_decrypt:.0f}")
    print()
    print(
        "| segment  | encrypt MB/s | decrypt MB/s | verify MB/s | raw AESGCM at segment size"
        " enc / dec | ratio vs raw 1 MiB enc / dec |"
    )
    print("|---|---|---|---|---|---|")
    for segment_size in CANDIDATES:
        stored = b"".join(encrypt_object(key, plaintext_chunks, aad, segment_size=segment_size))
        stored_chunks = cut(stored, chunk_size)
        encrypt = runner.rate(
            lambda s=segment_size: drain(encrypt_object(key, plaintext_chunks, aad, segment_size=s))
        )
        decrypt = runner.rate(lambda c=stored_chunks: drain(decrypt_object(key, c, aad)))
        verify = runner.rate(lambda c=stored_chunks: verify_object(key, c, aad))
        segment_encrypt, segment_decrypt = raw_rates(segment_size - TAG_SIZE)
        chosen = " <- SEGMENT_SIZE" if segment_size == SEGMENT_SIZE else ""
        print(
            f"| {segment_size // 1024:>4} KiB | {encrypt[0]:4.0f} ({encrypt[1]:4.0f})"
            f" | {decrypt[0]:4.0f} ({decrypt[1]:4.0f}) | {verify[0]:4.0f} ({verify[1]:4.0f})"
            f" | {segment_encrypt:4.0f} / {segment_decrypt:4.0f}"
            f" | {encrypt[0] / raw_encrypt:.2f} / {decrypt[0] / raw_decrypt:.2f}{chosen} |"
        )


if __name__ == "__main__":
    main()
