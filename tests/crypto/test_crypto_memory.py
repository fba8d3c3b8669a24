"""Constant memory: a 200 MB object streams through encrypt and decrypt in bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Runs in a fresh interpreter so that the peak RSS (ru_maxrss, a high-water mark for the
# whole process) reflects this workload only, not whatever the test session did before.
MEASURE = r"""
import hashlib, json, os, resource, sys, tempfile

from crypto.streaming import decrypt_object, encrypt_object

TOTAL, CHUNK = 200 * 1024 * 1024, 1024 * 1024
key, aad = os.urandom(32), b"document 1 version 1"
block = os.urandom(CHUNK)


def plaintext(digest):
    # A generator: the 200 MB never exist at once on this side either.
    for index in range(TOTAL // CHUNK):
        chunk = index.to_bytes(8, "big") + block[8:]
        digest.update(chunk)
        yield chunk


def read_chunks(handle):
    while chunk := handle.read(CHUNK):
        yield chunk


# Warm up imports, allocator and hash objects so they count in the baseline.
assert b"".join(decrypt_object(key, encrypt_object(key, [block], aad), aad)) == block
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

written, read = hashlib.sha256(), hashlib.sha256()
read_size = 0
with tempfile.TemporaryFile(dir=sys.argv[1]) as spool:
    for piece in encrypt_object(key, plaintext(written), aad):
        spool.write(piece)
    stored_size = spool.tell()
    spool.seek(0)
    for piece in decrypt_object(key, read_chunks(spool), aad):
        read.update(piece)
        read_size += len(piece)

after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({
    "growth_kib": after - before,  # ru_maxrss is in KiB on Linux
    "stored_size": stored_size,
    "read_size": read_size,
    "same_plaintext": written.digest() == read.digest(),
}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss is KiB on Linux")
def test_200_mb_object_streams_in_bounded_memory(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", MEASURE, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    figures = json.loads(completed.stdout)

    assert figures["same_plaintext"]
    assert figures["read_size"] == 200 * 1024 * 1024
    assert figures["stored_size"] > 200 * 1024 * 1024
    assert figures["growth_kib"] < 64 * 1024, figures
