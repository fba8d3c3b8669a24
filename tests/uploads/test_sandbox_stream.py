"""The clean file reaches the parent as the sandboxed child writes it: every byte, in
order, and never a result from a child that died half-way."""

from __future__ import annotations

import io
import os
import signal
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


def test_the_streamed_bytes_are_exactly_the_clean_file(tmp_path: Path) -> None:
    source = _big_pdf(tmp_path / "in.pdf")
    workdir = tmp_path / "work"
    workdir.mkdir()
    with Sanitizing([source], workdir, SanitizeLimits()) as sanitizing:
        chunks = list(sanitizing.chunks())
        result = sanitizing.result
    streamed = b"".join(chunks)
    assert len(chunks) > 1, "a file of several MB arrives in pieces, while it is written"
    assert result.size == len(streamed) > 5 * MIB
    assert streamed == result.path.read_bytes()
    assert streamed.startswith(b"%PDF-") and streamed.rstrip().endswith(b"%%EOF")
    assert sanitizing.input_bytes == source.stat().st_size


def test_a_child_killed_mid_stream_gives_no_result(tmp_path: Path) -> None:
    # 118 MB: the child needs a good tenth of a second to write it, so it is still writing
    # when the parent has its first piece (checked below, not assumed).
    source = _big_pdf(tmp_path / "in.pdf", pages=20, side=1400)
    workdir = tmp_path / "work"
    workdir.mkdir()
    with Sanitizing([source], workdir, SanitizeLimits()) as sanitizing:
        stream = sanitizing.chunks()
        assert next(stream)
        child = sanitizing._run._process.pid
        os.kill(child, signal.SIGSTOP)
        assert (workdir / "clean").stat().st_size < source.stat().st_size // 2
        # The child dies half-way, as a crashing parser would.
        os.kill(child, signal.SIGKILL)
        with pytest.raises(TooComplex):
            for _ in stream:
                pass
        with pytest.raises(RuntimeError):
            _ = sanitizing.result
