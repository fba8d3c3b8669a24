"""The sandboxed child: limits itself first, then sniffs, parses and rewrites hostile bytes.

Forked ahead of its upload from a fork server that loaded the parsers
(`locker.sanitize.forkserver`). Nothing here touches the database, the keys or the object store.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import resource
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import magic

from locker.errors import LockerError
from locker.sanitize import images, pdfs
from locker.sanitize.confine import confine
from locker.sanitize.errors import DamagedFile, PhotosOnly, TooManyFiles, UnsupportedType
from locker.sanitize.job import Job

SNIFF_BYTES = 8192
# What the clean file is written through: a few dozen writes for a 20 MB PDF.
WRITE_BUFFER = 1024 * 1024
ACCEPTED = frozenset({"application/pdf", *images.PILLOW_FORMATS})


class Answers:
    """The child's end of the answer pipe: one JSON line an answer."""

    def __init__(self, fd: int) -> None:
        self._file = os.fdopen(fd, "wb")

    def fileno(self) -> int:
        return self._file.fileno()

    def send(self, answer: dict[str, Any]) -> None:
        self._file.write(json.dumps(answer).encode() + b"\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """This program's peak resident memory (getrusage's would count the service's too: a
    process keeps the peak of the one it was started from)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def limit_self(memory_bytes: int, cpu_seconds: int) -> int:
    """Cap this process's address space and CPU time before any hostile byte is read."""
    ceiling = _address_space() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    # A crash must never write the plaintext it held to a core file.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return ceiling


def sniff(path: str | Path) -> str:
    """The MIME type libmagic reads from the file's first bytes."""
    with open(path, "rb") as handle:
        return str(magic.from_buffer(handle.read(SNIFF_BYTES), mime=True))


def _write_previews(job: Job, previews: images.Previews) -> None:
    Path(job.thumbnail).write_bytes(previews.thumbnail)
    Path(job.preview).write_bytes(previews.preview)


def sanitize(job: Job, out: BinaryIO, clean_done: Callable[[dict[str, Any]], None]) -> None:
    """Write the clean file to `out`, call `clean_done` with its description as soon as it
    is complete, then write its thumbnail and preview (or raise a refusal, before or after)."""
    if not 1 <= len(job.inputs) <= job.max_files:
        raise TooManyFiles("files", maximum=job.max_files)
    types = []
    for path in job.inputs:
        content_type = sniff(path)
        if content_type not in ACCEPTED:
            raise UnsupportedType(content_type, sniffed=content_type)
        types.append(content_type)
    if len(job.inputs) == 1 and types[0] == "application/pdf":
        pages = pdfs.sanitize_pdf(Path(job.inputs[0]), out)
        # The parent stores the PDF while its first page is drawn.
        clean_done({"content_type": "application/pdf", "pages": pages})
        _write_previews(job, pdfs.pdf_previews(Path(job.output)))
        return
    if "application/pdf" in types:
        raise PhotosOnly("a pdf among photos")
    # The preview and thumbnail are drawn on the second core, from the pixels already
    # decoded, while the main image is encoded.
    with ThreadPoolExecutor(1, thread_name_prefix="previews") as pool:
        if len(job.inputs) == 1:
            image = images.clean_image(
                Path(job.inputs[0]).read_bytes(), types[0], job.max_pixels, previews=pool
            )
            out.write(image.encoded())
            clean_done(
                {"content_type": "image/png" if image.keep_png else "image/jpeg", "pages": 1}
            )
            assert image.previews is not None
            _write_previews(job, image.previews.result())
            return
        pages_out = []
        first_page: Future[images.Previews] | None = None
        for path, content_type in zip(job.inputs, types, strict=True):
            image = images.clean_image(
                Path(path).read_bytes(),
                content_type,
                job.max_pixels,
                previews=pool if first_page is None else None,
            )
            if first_page is None:
                first_page = image.previews
            width, height = image.size
            pages_out.append((image.as_jpeg(), width, height, "L" if image.grey else "RGB"))
            del image
        assert first_page is not None  # there is at least one input
        _write_previews(job, first_page.result())
    out.write(pdfs.pdf_from_jpegs(pages_out))
    clean_done({"content_type": "application/pdf", "pages": len(pages_out)})


def draw_preview(job: Job) -> None:
    """Write the preview of a file cleaned at an earlier upload (a preview-only job)."""
    source = Path(job.inputs[0])
    content_type = sniff(source)
    if content_type == "application/pdf":
        previews = pdfs.pdf_previews(source, job.page)
    elif content_type not in images.PILLOW_FORMATS:
        raise UnsupportedType(content_type, sniffed=content_type)
    elif job.page != 0:
        raise DamagedFile("an image has one page")
    else:
        previews = images.image_previews(source.read_bytes(), content_type, job.max_pixels)
    Path(job.preview).write_bytes(previews.preview)


def run(job: Job, conn: Answers) -> None:
    """Run one job (the child's, from `serve`): answers on `conn`, each a dict with
    "code" on refusal.

    The first answer comes once the clean file is written to `job.output` (with its size),
    the second once its thumbnail and preview are (`"thumbnail": True, "preview": True`);
    a refusal ends the answers, whichever it replaces. A preview-only job has one answer,
    `"preview": True` once the preview is written.
    """
    ceiling = resource.getrlimit(resource.RLIMIT_AS)[0]  # set by `serve`, before the job

    def send(answer: dict[str, Any]) -> None:
        answer["peak_rss_bytes"] = peak_rss()
        answer["address_space_limit"] = ceiling
        conn.send(answer)

    answer: dict[str, Any]
    try:
        if job.preview_only:
            draw_preview(job)
            answer = {"ok": True, "preview": True}
        else:
            with open(job.output, "wb", buffering=WRITE_BUFFER) as out:

                def clean_done(described: dict[str, Any]) -> None:
                    out.flush()  # whole on disk before the parent is told its size
                    send({"ok": True, "size": out.tell(), **described})

                sanitize(job, out, clean_done)
            answer = {"ok": True, "thumbnail": True, "preview": True}
    except LockerError as exc:
        answer = {"ok": False, "code": exc.code}
    except MemoryError:
        answer = {"ok": False, "code": "too_complex"}
    except Exception:  # any parser failure on hostile bytes is a damaged file, never a crash
        answer = {"ok": False, "code": "damaged_file"}
    send(answer)
    conn.close()


Runner = Callable[[Job, Answers], None]


def runner_named(name: str | None) -> Runner:
    """`run`, or for tests the "module:function" that runs in its place."""
    if name is None:
        return run
    module, _, function = name.partition(":")
    runner: Runner = getattr(importlib.import_module(module), function)
    return runner


def serve(jobs: int, answers: Answers, runner: Runner = run) -> None:
    """Wait for one job on `jobs`, give up everything, then `run` it.

    The child is started before its upload arrives (the sandbox keeps one waiting); one
    whose job never comes (its parent went away) just ends.
    """
    with os.fdopen(jobs, "rb") as pipe:
        line = pipe.readline()
    if not line:
        return
    job = Job.from_json(line)
    limit_self(job.memory_bytes, job.cpu_seconds)
    workdir = Path(job.output).parent
    names = confine({answers.fileno()}, workdir, job.inputs, job.run_as)
    if names is not None:  # its folder is now its working directory: named from there
        job = dataclasses.replace(
            job,
            inputs=names,
            output=Path(job.output).name,
            thumbnail=Path(job.thumbnail).name,
            preview=Path(job.preview).name,
        )
    runner(job, answers)
