"""The sanitiser child kept waiting for the next upload: forked ahead, used for one upload
only, and replaced whenever it is gone."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from locker.sanitize import SanitizeLimits, Sanitizing, sandbox
from tests.uploads.helpers import SAMPLES

PDF = SAMPLES / "caf_letter.pdf"


def _waiting_child() -> sandbox._Child:
    """The spare child, once the refill after the last upload has started it."""
    deadline = time.monotonic() + 30
    while (child := sandbox._spare._child) is None:
        assert time.monotonic() < deadline, "no spare child was started"
        time.sleep(0.01)
    return child


def _sanitize(tmp_path: Path, name: str) -> tuple[int, str]:
    workdir = tmp_path / name
    workdir.mkdir()
    with Sanitizing([PDF], workdir, SanitizeLimits()) as sanitizing:
        clean = sanitizing.finish()
        sanitizing.thumbnail()
        pid = sanitizing._run._process.pid
        assert pid is not None
        return pid, clean.content_type


@pytest.fixture(autouse=True)
def _a_spare_is_waiting(tmp_path: Path) -> None:
    _sanitize(tmp_path, "first")  # an upload leaves a spare behind it
    _waiting_child()


def test_the_next_upload_takes_the_child_that_was_waiting(tmp_path: Path) -> None:
    spare = _waiting_child()
    pid, content_type = _sanitize(tmp_path, "next")
    assert pid == spare.process.pid
    assert content_type == "application/pdf"
    # One upload, then the child is gone; the spare after it is another process.
    spare.process.join(timeout=10)
    assert spare.process.exitcode == 0
    assert _waiting_child().process.pid != pid


def test_a_spare_that_died_while_waiting_is_replaced(tmp_path: Path) -> None:
    spare = _waiting_child()
    assert spare.process.pid is not None
    os.kill(spare.process.pid, signal.SIGKILL)
    spare.process.join(timeout=10)
    pid, content_type = _sanitize(tmp_path, "after-kill")
    assert content_type == "application/pdf"
    assert pid != spare.process.pid


def test_a_spare_whose_job_never_comes_ends_by_itself() -> None:
    child = sandbox._Child()
    child.jobs.close()  # what a parent that goes away does to it
    child.process.join(timeout=10)
    assert child.process.exitcode == 0
    child.discard()


def test_a_spare_of_another_process_is_never_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a fork (a server's workers), the parent's spare is not this process's child.
    spare = _waiting_child()
    monkeypatch.setattr(spare, "owner", os.getpid() + 1)
    pid, _ = _sanitize(tmp_path, "forked-server")
    assert pid != spare.process.pid
    spare.discard()
