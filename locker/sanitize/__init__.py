"""The upload sanitiser: hostile bytes in, clean re-encoded files, previews and thumbnails out.

Sniffing, parsing and rewriting happen in a sandboxed child (`sandbox`, `worker`); this
module is the parent's side: it hands the files over and turns answers into results or
typed refusals (`errors`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from locker.errors import LockerError
from locker.metrics import observe_sanitiser
from locker.sanitize.confine import sandbox_ids
from locker.sanitize.errors import CODES, DamagedFile, TooManyFiles
from locker.sanitize.job import Job
from locker.sanitize.sandbox import SandboxRun
from locker.settings import MIB


@dataclass(frozen=True)
class SanitizeLimits:
    """What one upload may cost the worker, and who it runs as (when the service is root)."""

    max_pixels: int = 50_000_000
    memory_bytes: int = 768 * MIB
    cpu_seconds: int = 20
    wall_seconds: float = 60.0
    max_files: int = 20
    run_as: tuple[int, int] | None = field(default_factory=sandbox_ids)


@dataclass(frozen=True)
class SanitizedFile:
    """The clean file on local disk, where its thumbnail and preview are written (once
    `Sanitizing.thumbnail()` or `preview()` has returned), and what the worker measured."""

    path: Path
    thumbnail_path: Path
    preview_path: Path
    content_type: str
    pages: int
    size: int
    peak_rss_bytes: int
    address_space_limit: int


def _job(
    inputs: Sequence[Path],
    workdir: Path,
    limits: SanitizeLimits,
    *,
    preview_only: bool = False,
    page: int = 0,
) -> Job:
    """The child's job: `inputs` cleaned into `workdir` within `limits`."""
    return Job(
        inputs=tuple(str(p) for p in inputs),
        output=str(workdir / "clean"),
        thumbnail=str(workdir / "thumbnail"),
        preview=str(workdir / "preview"),
        max_pixels=limits.max_pixels,
        memory_bytes=limits.memory_bytes,
        cpu_seconds=limits.cpu_seconds,
        max_files=limits.max_files,
        run_as=limits.run_as,
        preview_only=preview_only,
        page=page,
    )


def _refuse_unless_ok(answer: dict[str, Any]) -> None:
    if not answer.get("ok"):
        error = CODES.get(str(answer.get("code")), DamagedFile)
        raise error(
            "refused by the sanitiser",
            peak_rss_bytes=answer.get("peak_rss_bytes"),
            address_space_limit=answer.get("address_space_limit"),
        )


class Sanitizing:
    """A sanitiser child at work on one upload (use as a context manager).

    Started at once, so the caller can do other work meanwhile; `finish()` waits for the
    clean file, `thumbnail()` and `preview()` for its thumbnail and preview, which the
    child writes together after the clean file (a PDF's first page is drawn from it), so
    that the clean file can be stored meanwhile. Each raises the worker's typed refusal.
    """

    def __init__(self, inputs: Sequence[Path], workdir: Path, limits: SanitizeLimits) -> None:
        if not 1 <= len(inputs) <= limits.max_files:
            raise TooManyFiles("files", maximum=limits.max_files)
        self._output, self._thumbnail = workdir / "clean", workdir / "thumbnail"
        self._preview = workdir / "preview"
        self._started = time.perf_counter()
        self._run = SandboxRun(_job(inputs, workdir, limits), limits.wall_seconds)
        self.pid = self._run.pid  # the child's
        # The thumbnail's and the preview's put threads both wait for the one answer
        # that says both are written; the first to come reads it, the other its verdict.
        self._pictures_lock = threading.Lock()
        self._pictures_ready = False
        self._pictures_refused: LockerError | None = None

    def __enter__(self) -> Sanitizing:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._run.close()

    def finish(self) -> SanitizedFile:
        """Wait for the clean file: what the child wrote, or the refusal it reported."""
        # A well-behaved child has flushed the file before answering; it is reaped when
        # this context ends. (Whoever reads the file twice checks both passes agree:
        # crypto's EncryptedObject does.)
        answer = self._run.answer()
        observe_sanitiser(time.perf_counter() - self._started, clean=bool(answer.get("ok")))
        size = self._output.stat().st_size if self._output.is_file() else 0
        _refuse_unless_ok(answer)
        # A child that died mid-write never answers; this guards against a short file (or
        # none: its size is then 0).
        if answer.get("size") != size or size == 0 or answer.get("thumbnail"):
            raise DamagedFile("worker sent a partial result")
        return SanitizedFile(
            path=self._output,
            thumbnail_path=self._thumbnail,
            preview_path=self._preview,
            content_type=str(answer["content_type"]),
            pages=int(answer["pages"]),
            size=size,
            peak_rss_bytes=int(answer["peak_rss_bytes"]),
            address_space_limit=int(answer["address_space_limit"]),
        )

    def thumbnail(self) -> Path:
        """Wait for the thumbnail (after `finish()`): its path, or the refusal reported."""
        self._pictures()
        return self._thumbnail

    def preview(self) -> Path:
        """Wait for the preview (after `finish()`): its path, or the refusal reported."""
        self._pictures()
        return self._preview

    def _pictures(self) -> None:
        with self._pictures_lock:
            if self._pictures_refused is not None:
                raise self._pictures_refused
            if not self._pictures_ready:
                try:
                    self._check_pictures(self._run.answer())
                except LockerError as refusal:
                    self._pictures_refused = refusal
                    raise
                self._pictures_ready = True

    def _check_pictures(self, answer: dict[str, Any]) -> None:
        _refuse_unless_ok(answer)
        for name, path in (("thumbnail", self._thumbnail), ("preview", self._preview)):
            if not (answer.get(name) and path.is_file()):
                raise DamagedFile(f"worker wrote no {name}")
            if path.stat().st_size == 0:
                raise DamagedFile(f"worker wrote an empty {name}")


def sanitize_files(inputs: Sequence[Path], workdir: Path, limits: SanitizeLimits) -> SanitizedFile:
    """Clean `inputs` (one file, or several photos that become one PDF) in the sandbox,
    thumbnail and preview included.

    Raises the typed refusal the worker reported; never returns a half-written result.
    """
    with Sanitizing(inputs, workdir, limits) as sanitizing:
        clean = sanitizing.finish()
        sanitizing.preview()
        return clean


def draw_preview(clean: Path, workdir: Path, limits: SanitizeLimits, page: int = 0) -> bytes:
    """The preview of a file cleaned at an earlier upload (`clean`, in `workdir`), of its
    first page or of `page`, drawn in the sandbox as an upload's is: even a clean file is
    parsed by the confined child only.

    Raises the typed refusal the worker reported.
    """
    preview = workdir / "preview"
    job = _job([clean], workdir, limits, preview_only=True, page=page)  # the preview only
    with SandboxRun(job, limits.wall_seconds) as run:
        answer = run.answer()
    _refuse_unless_ok(answer)
    if not (answer.get("preview") and preview.is_file() and preview.stat().st_size > 0):
        raise DamagedFile("worker wrote no preview")
    return preview.read_bytes()
