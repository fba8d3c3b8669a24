"""What the upload routes (API and pages) share: the options from the settings and the
parsing of the form fields that are not the files themselves; and the sandbox's limits,
which the preview routes also give (a preview drawn for a paper stored before previews).
"""

from __future__ import annotations

from datetime import date

from flask import request
from werkzeug.datastructures import FileStorage, MultiDict

from locker.documents import UploadRequest
from locker.errors import InvalidInput
from locker.sanitize import SanitizeLimits
from locker.sanitize.confine import sandbox_ids
from locker.settings import MIB
from web.context import services


def upload_request(
    files: list[FileStorage], title: str, category: str, valid_until: str | None = None
) -> UploadRequest:
    """The upload of `files` (one document; several photos make a PDF), held to the size,
    quota and sandbox limits the service's settings give every upload. Its key, if any, is
    the form's `upload_key` field or the API's `Idempotency-Key` header."""
    settings = services().settings
    key = request.form.get("upload_key") or request.headers.get("Idempotency-Key")
    return UploadRequest(
        source=files[0].stream,
        filename=files[0].filename or "",
        title=title,
        category=category,
        more_sources=[f.stream for f in files[1:]],
        valid_until=parse_valid_until(valid_until),
        max_bytes=settings.max_upload_bytes,
        quota_bytes=settings.quota_bytes,
        limits=sanitize_limits(),
        upload_key=key or None,
    )


def sanitize_limits() -> SanitizeLimits:
    """What the sandboxed child may spend on one file, and who it runs as (the settings)."""
    settings = services().settings
    return SanitizeLimits(
        memory_bytes=settings.sanitize_memory_mb * MIB,
        cpu_seconds=settings.sanitize_cpu_seconds,
        run_as=sandbox_ids(settings.sandbox_user),
    )


def uploaded_files(files: MultiDict[str, FileStorage]) -> list[FileStorage]:
    """The non-empty `file` parts, in the order the browser sent them."""
    return [f for f in files.getlist("file") if isinstance(f, FileStorage) and f.filename]


def parse_valid_until(raw: str | None) -> date | None:
    """An ISO date (YYYY-MM-DD, what <input type=date> sends), or None when left empty."""
    if raw is None or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput("valid_until", field="valid_until") from None
