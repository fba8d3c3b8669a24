"""Where uploads wait, in plaintext, while they are received and sanitised.

The sanitiser reads and writes real files (its child process opens them by name), so an
upload exists in plaintext on the local disk for the seconds it takes. A process killed
in the middle (out of memory, a deploy, a crash) cannot clean up after itself; so each
process keeps its scratch files in a folder of its own, named after it, and every
process that starts removes the folders of processes that no longer run. Nothing of an
upload outlives the next start of the service.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

ROOT_NAME = "locker-scratch"


def _start_ticks(pid: int) -> str:
    """The process's start time (Linux clock ticks), so a reused pid is not mistaken for it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "0"
    # Field 22; the command name (field 2) may hold spaces, so count from its end.
    return stat.rsplit(")", 1)[1].split()[19]


def _root() -> Path:
    root = Path(tempfile.gettempdir()) / ROOT_NAME
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def scratch_dir() -> Path:
    """This process's private folder for upload scratch files (created on first use)."""
    pid = os.getpid()
    folder = _root() / f"{pid}-{_start_ticks(pid)}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _alive(name: str) -> bool:
    pid_text, _, ticks = name.partition("-")
    if not pid_text.isdigit():
        return True  # not one of ours: left alone
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return _start_ticks(pid) == ticks


def sweep_orphans() -> int:
    """Remove the scratch folders of processes that have ended; return how many."""
    removed = 0
    for folder in _root().iterdir():
        if folder.is_dir() and not _alive(folder.name):
            with contextlib.suppress(OSError):
                shutil.rmtree(folder)
                removed += 1
    return removed
