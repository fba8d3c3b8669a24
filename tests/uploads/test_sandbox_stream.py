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
    written = result.path.read_bytes()
    assert result.size == len(written) > 5 * MIB
    assert written.startswith(b"%PDF-") and written.rstrip().endswith(b"%%EOF")
    # Rewritten, not copied: qpdf gave it a fresh /ID and its own layout.
    assert written != source.read_bytes()
    assert result.thumbnail_path.read_bytes().startswith(b"\xff\xd8")


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
        child = sanitizing._run._process.pid
        os.kill(child, signal.SIGSTOP)
        assert 0 < clean.stat().st_size < source.stat().st_size // 2
        # The child dies half-way, as a crashing parser would.
        os.kill(child, signal.SIGKILL)
        with pytest.raises(TooComplex):
            sanitizing.finish()
