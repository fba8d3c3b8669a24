"""Serving a document's plaintext with headers that keep a browser from running it."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Response

from locker.documents import ALLOWED_TYPES, OpenedDocument

# Shown inline only when a browser cannot execute anything in it; PDFs are downloaded.
INLINE_SAFE = {"image/jpeg", "image/png", "image/webp"}
DOCUMENT_CSP = "default-src 'none'; sandbox"


def safe_filename(name: str, content_type: str) -> tuple[str, str]:
    """An ASCII fallback and a UTF-8 name for Content-Disposition, with the sniffed extension.

    Path separators, control characters (CR/LF), bidi overrides and quotes are removed,
    and the length is bounded, so a hostile name can inject no header and no path.
    """
    cleaned = "".join(
        ch for ch in name if unicodedata.category(ch)[0] not in {"C", "Z"} or ch == " "
    )
    cleaned = re.sub(r"[\\/:*?\"<>|;]+", "_", cleaned).strip(" .") or "document"
    stem = cleaned.rsplit(".", 1)[0] if "." in cleaned else cleaned
    stem = stem[:100] or "document"
    extension = ALLOWED_TYPES.get(content_type, "bin")
    utf8_name = f"{stem}.{extension}"
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    ascii_stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", ascii_stem).strip(" ._") or "document"
    return f"{ascii_stem}.{extension}", utf8_name


def content_disposition(name: str, content_type: str, inline: bool) -> str:
    """An RFC 6266 header value with an ASCII `filename` and an RFC 5987 `filename*`."""
    ascii_name, utf8_name = safe_filename(name, content_type)
    kind = "inline" if inline and content_type in INLINE_SAFE else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(utf8_name, safe='')}"


def document_response(opened: OpenedDocument, *, inline: bool = False) -> Response:
    """The authenticated plaintext as a streamed response with the full header set."""
    view = opened.view
    response = Response(opened.chunks, mimetype=view.content_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(view.size)
    response.headers["Content-Disposition"] = content_disposition(
        view.filename, view.content_type, inline
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOCUMENT_CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
