"""Generate tests/crypto/vectors/streaming.json ONCE, with Google's tink as the reference.

Run: .venv/bin/python tests/crypto/generate_crypto_vectors.py [--force]

Deliberately independent of `crypto/`: every ciphertext here comes out of tink. Tink picks
its own random salt and nonce prefix, so each vector records the ones tink chose (read back
from the header it wrote); the test feeds them to crypto.streaming and expects the same bytes.
The file is committed; regenerating it gives different (equally valid) vectors.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from crypto_tink_reference import tink_decrypt_stream, tink_encrypt_stream

VECTORS = Path(__file__).parent / "vectors" / "streaming.json"
HEADER_SIZE = 40
TAG_SIZE = 16
# Large ciphertexts are recorded by SHA-256 to keep the file small; a match of the digest
# is a byte-for-byte match.
INLINE_LIMIT = 2048

KEY = hashlib.sha256(b"locker streaming test vector key").digest()
OTHER_KEY = hashlib.sha256(b"locker streaming test vector other key").digest()
AAD = b"document 3f2a9c1e-0000-4000-8000-000000000001 version 1"


def pattern(size: int) -> bytes:
    """The plaintext of every vector: byte i is (7 * i + 3) mod 256."""
    return bytes((7 * i + 3) % 256 for i in range(size))


def interesting_sizes(segment_size: int) -> list[tuple[str, int]]:
    first = segment_size - HEADER_SIZE - TAG_SIZE
    full = segment_size - TAG_SIZE
    return [
        ("empty", 0),
        ("one byte", 1),
        ("first segment exactly full", first),
        ("first segment full plus one byte", first + 1),
        ("three segments, last one exactly full", first + 2 * full),
        ("several segments, short last one", first + 3 * full + 5),
    ]


def vector(
    description: str, key: bytes, segment_size: int, size: int, aad: bytes, frame: bytes
) -> dict[str, Any]:
    plaintext = pattern(size)
    # A framed object is the frame followed by raw Tink ciphertext whose associated data
    # is frame ‖ associated data; tink produces the raw part.
    ciphertext = frame + tink_encrypt_stream(key, segment_size, plaintext, frame + aad)
    raw = ciphertext[len(frame) :]
    assert tink_decrypt_stream(key, segment_size, raw, frame + aad) == plaintext
    entry: dict[str, Any] = {
        "description": description,
        "form": "framed" if frame else "raw",
        "key": key.hex(),
        "segment_size": segment_size,
        "associated_data": aad.hex(),
        "plaintext_size": size,
        "salt": raw[1 : 1 + 32].hex(),
        "nonce_prefix": raw[33:HEADER_SIZE].hex(),
        "ciphertext_size": len(ciphertext),
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
    }
    if len(ciphertext) <= INLINE_LIMIT:
        entry["ciphertext"] = ciphertext.hex()
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="overwrite the committed file")
    args = parser.parse_args()
    if VECTORS.exists() and not args.force:
        raise SystemExit(f"{VECTORS} exists; vectors are generated once (use --force)")

    vectors = []
    for segment_size in (64, 256, 256 * 1024):
        for description, size in interesting_sizes(segment_size):
            vectors.append(vector(description, KEY, segment_size, size, AAD, b""))
    vectors.append(vector("empty associated data", KEY, 256, 300, b"", b""))
    vectors.append(vector("Tink's minimum segment size", OTHER_KEY, 57, 100, AAD, b""))
    for segment_size, size in ((256, 0), (256, 700), (256 * 1024, 1), (256 * 1024, 600_000)):
        frame = b"LKS1" + segment_size.to_bytes(4, "big")
        vectors.append(vector("framed object", KEY, segment_size, size, AAD, frame))

    document = {
        "source": (
            "Generated once by tests/crypto/generate_crypto_vectors.py with Google's tink "
            "Python package (the reference implementation): tink streaming AEAD "
            "AesGcmHkdfStreaming, HKDF-SHA256, 32-byte derived key, RAW keyset holding the "
            "given key. Tink chooses salt and nonce prefix at random; they are read back "
            "from the header tink wrote. Framed vectors: b'LKS1' || segment size (4 bytes, "
            "big-endian) || tink ciphertext made with associated data = those 8 bytes || "
            "associated_data."
        ),
        "tink_version": _tink_version(),
        "plaintext": "plaintext_size bytes, byte i = (7 * i + 3) mod 256",
        "vectors": vectors,
    }
    VECTORS.parent.mkdir(exist_ok=True)
    VECTORS.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {len(vectors)} vectors to {VECTORS}")


def _tink_version() -> str:
    from importlib.metadata import version

    return version("tink")


if __name__ == "__main__":
    main()
