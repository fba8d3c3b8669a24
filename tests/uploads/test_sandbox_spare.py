"""The sanitiser child kept waiting for the next upload: started ahead, used for one upload
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


def _waiting_child() -> sandbox.Child:
    """The spare child, once the refill after the last upload has started it."""
    deadline = time.monotonic() + 30
    while (child := sandbox.spare.waiting()) is None:
        assert time.monotonic() < deadline, "no spare child was started"
        time.sleep(0.01)
    return child


def _gone(pid: int) -> None:
    """Wait until process `pid` has ended (reaped, or a zombie until its fork server's
    next request reaps it)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):  # gone before, or while, it was read
            return
        if "State:\tZ" in status:
            return
        assert time.monotonic() < deadline, f"child {pid} is still running"
        time.sleep(0.01)


def _sanitize(tmp_path: Path, name: str) -> tuple[int, str]:
    workdir = tmp_path / name
    workdir.mkdir()
    with Sanitizing([PDF], workdir, SanitizeLimits()) as sanitizing:
        clean = sanitizing.finish()
        sanitizing.thumbnail()
        return sanitizing.pid, clean.content_type


@pytest.fixture(autouse=True)
def _a_spare_is_waiting(tmp_path: Path) -> None:
    _sanitize(tmp_path, "first")  # an upload leaves a spare behind it
    _waiting_child()


def test_the_next_upload_takes_the_child_that_was_waiting(tmp_path: Path) -> None:
    spare = _waiting_child()
    pid, content_type = _sanitize(tmp_path, "next")
    assert pid == spare.pid
    assert content_type == "application/pdf"
    # One upload, then the child is gone; the spare after it is another process.
    _gone(pid)
    assert _waiting_child().pid != pid


def test_a_spare_that_died_while_waiting_is_replaced(tmp_path: Path) -> None:
    spare = _waiting_child()
    os.kill(spare.pid, signal.SIGKILL)
    _gone(spare.pid)
    pid, content_type = _sanitize(tmp_path, "after-kill")
    assert content_type == "application/pdf"
    assert pid != spare.pid


def test_a_spare_whose_job_never_comes_ends_by_itself() -> None:
    child = sandbox.Child()
    child.jobs.close()  # what a parent that goes away does to it
    _gone(child.pid)
    assert not child.alive()
    child.discard()


def test_a_spare_of_another_process_is_never_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a fork (a server's workers), the parent's spare is not this process's child.
    spare = _waiting_child()
    monkeypatch.setattr(spare, "owner", os.getpid() + 1)
    pid, _ = _sanitize(tmp_path, "forked-server")
    assert pid != spare.pid
    spare.discard()


def _fork_servers() -> list[int]:
    """The pids of this process's sanitiser fork servers."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
            status = (entry / "status").read_text()
        except (OSError, ValueError):
            continue
        if b"locker.sanitize.forkserver" in command and f"PPid:\t{os.getpid()}\n" in status:
            found.append(int(entry.name))
    return found


def test_a_fork_server_that_died_is_started_again(tmp_path: Path) -> None:
    (server,) = _fork_servers()
    os.kill(server, signal.SIGKILL)
    _gone(server)
    # The spare it forked outlives it and takes the next upload; the one after needs a
    # child from a server: a new one is started.
    for name in ("after-server-kill", "and-again"):
        assert _sanitize(tmp_path, name)[1] == "application/pdf"
    assert server not in _fork_servers() != []
