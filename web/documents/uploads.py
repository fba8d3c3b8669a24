"""What the upload routes (API and pages) share: the options from the settings and the
parsing of the form fields that are not the files themselves.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from locker.errors import InvalidInput
from locker.sanitize import SanitizeLimits
from locker.sanitize.confine import sandbox_ids
from web.context import services

MIB = 1024 * 1024


def upload_options() -> dict[str, Any]:
    """The size, quota and sandbox limits every upload is held to."""
    settings = services().settings
    return {
        "max_bytes": settings.max_upload_bytes,
        "quota_bytes": settings.quota_bytes,
        "limits": SanitizeLimits(
            memory_bytes=settings.sanitize_memory_mb * MIB,
            cpu_seconds=settings.sanitize_cpu_seconds,
            run_as=sandbox_ids(settings.sandbox_user),
        ),
    }


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
