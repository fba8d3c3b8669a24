"""The clean file the sandboxed child writes is what the parent gets, whole: never a result
from a child that died half-way through writing it."""

from __future__ import annotations

import io
import os
import signal
import time
from pathlib import Path

import pikepdf
import pytest

from locker.sanitize import SanitizeLimits, Sanitizing
from locker.sanitize.errors import TooComplex
from tests.pdfs import add_noise_page

MIB = 1024 * 1024


def _big_pdf(path: Path, pages: int = 4, side: int = 700) -> Path:
    """A PDF of a few MB: pages of incompressible raw images (qpdf copies them as they are)."""
    pdf = pikepdf.new()
    for _ in range(pages):
        add_noise_page(pdf, side)
    out = io.BytesIO()
    pdf.save(out)
    path.write_bytes(out.getvalue())
    return path


def test_the_result_is_exactly_the_clean_file(tmp_path: Path) -> None:
    source = _big_pdf(tmp_path / "in.pdf")
    workdir = tmp_path / "work"
    workdir.mkdir()
    with Sanitizing([source], workdir, SanitizeLimits()) as sanitizing:
        result = sanitizing.finish()
        # Complete as soon as it is announced, while the thumbnail may still be drawn.
        written = result.path.read_bytes()
        thumbnail = sanitizing.thumbnail()
    assert result.size == len(written) > 5 * MIB
    assert written.startswith(b"%PDF-") and written.rstrip().endswith(b"%%EOF")
    # Rewritten, not copied: qpdf gave it a fresh /ID and its own layout.
    assert written != source.read_bytes()
    assert thumbnail == result.thumbnail_path
    assert thumbnail.read_bytes().startswith(b"\xff\xd8")
    assert sanitizing.preview() == result.preview_path
    assert result.preview_path.read_bytes().startswith(b"\xff\xd8")


def test_a_child_that_dies_after_the_clean_file_gives_no_thumbnail(tmp_path: Path) -> None:
    # The first page is a large image, so drawing it takes the child a while after its
    # first answer; a child that answered for the thumbnail before being killed proves
    # nothing, and is tried again (the test fails if it is never caught in between).
    source = _big_pdf(tmp_path / "in.pdf", pages=2, side=1400)
    for attempt in range(5):
        workdir = tmp_path / f"work-{attempt}"
        workdir.mkdir()
        with Sanitizing([source], workdir, SanitizeLimits()) as sanitizing:
            sanitizing.finish()
            # Its answer pipe closes when it is gone: the next read sees that, or the
            # thumbnail's answer it gave first.
            os.kill(sanitizing.pid, signal.SIGKILL)
            try:
                thumbnail = sanitizing.thumbnail()
            except TooComplex:
                return  # no answer, no thumbnail: whatever the child left is not taken
            # It had answered first: then its thumbnail is whole, but this is not the
            # case under test.
            assert thumbnail.read_bytes().startswith(b"\xff\xd8")
    pytest.fail("the child always answered for its thumbnail before it could be killed")


def test_a_child_killed_mid_write_gives_no_result(tmp_path: Path) -> None:
    # 118 MB: the child needs a good tenth of a second to write it, so it can be caught
    # half-way (checked below, not assumed).
    source = _big_pdf(tmp_path / "in.pdf", pages=20, side=1400)
    workdir = tmp_path / "work"
    workdir.mkdir()
    clean = workdir / "clean"
    with Sanitizing([source], workdir, SanitizeLimits()) as sanitizing:
        deadline = time.monotonic() + 30
        while not (clean.exists() and clean.stat().st_size > 0):
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(0.001)
        child = sanitizing.pid
        os.kill(child, signal.SIGSTOP)
        assert 0 < clean.stat().st_size < source.stat().st_size // 2
        # The child dies half-way, as a crashing parser would.
        os.kill(child, signal.SIGKILL)
        with pytest.raises(TooComplex):
            sanitizing.finish()
