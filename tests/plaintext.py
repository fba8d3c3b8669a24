"""Signatures of readable content, long enough never to match random ciphertext by chance.

Three-byte needles such as the JPEG start FF D8 FF turn up in a few megabytes of
ciphertext now and then (about once per 16 MB); every pattern here is six bytes or more.
"""

from __future__ import annotations

import re

MARKER = b"LOCKER-PLAINTEXT-MARKER"
READABLE = re.compile(
    rb"%PDF-\d\.\d"  # PDF header
    rb"|\x89PNG\r\n\x1a\n"  # PNG signature
    rb"|\xff\xd8\xff[\xe0-\xef]..(?:JFIF|Exif)\x00"  # JPEG with its APP0/APP1 segment
    rb"|\xff\xd8\xff\xdb\x00[\x43\x84]"  # JPEG opening straight on a quantisation table
    rb"|Exif\x00\x00(?:II\*\x00|MM\x00\*)"  # an EXIF block anywhere
    rb"|ftyp(?:heic|heix|mif1|msf1)"  # HEIF/HEIC brand
    rb"|RIFF....WEBPVP8"  # WebP
    rb"|" + re.escape(MARKER),
    re.DOTALL,
)


def readable_signatures(blob: bytes) -> list[bytes]:
    """Every readable signature found in the blob (empty for proper ciphertext)."""
    return [match.group(0) for match in READABLE.finditer(blob)]
