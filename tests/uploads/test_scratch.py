"""No plaintext of an upload outlives a process killed in the middle of it (issue 11, 13)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from locker.settings import Settings
from web.app import create_app

MARKER = b"LOCKER-PLAINTEXT-MARKER-" * 4096  # ~100 kB that only this upload holds

# A child process holds an upload the way the service does while it receives and
# sanitises it: the request parser's received file, and the upload's working folder with
# the sanitiser's input in it. Then it is killed.
CHILD = r"""
import sys, tempfile, threading
from locker.documents import ReceivedFile
from locker.scratch import scratch_dir

marker = sys.stdin.buffer.read()
received = ReceivedFile()
received.write(marker)
workdir = tempfile.mkdtemp(prefix="locker-upload-", dir=scratch_dir())
with open(f"{workdir}/input-0", "wb") as spooled:
    spooled.write(marker)
print("received", flush=True)
threading.Event().wait()
"""


def _env(settings: Settings, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "PATH", "HOME"))}
    env.update(
        TMPDIR=str(tmp),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        LOCKER_DATA_DIR=str(settings.data_dir),
        LOCKER_DATABASE_URL=settings.database_url,
        LOCKER_STORAGE_URL=settings.storage_url,
        LOCKER_SECRET_KEY=settings.secret_key,
        LOCKER_MASTER_KEY_FILE=str(settings.master_key_file),
        LOCKER_COOKIE_SECURE="false",
    )
    if settings.s3_endpoint_url:
        env["LOCKER_S3_ENDPOINT_URL"] = settings.s3_endpoint_url
    if settings.s3_region:
        env["LOCKER_S3_REGION"] = settings.s3_region
    return env


def _holding_marker(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and MARKER[:4096] in path.read_bytes():
            found.append(path)
    return found


def test_an_upload_killed_half_way_leaves_no_plaintext_after_the_next_start(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        env=_env(settings, tmp),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(MARKER)
        child.stdin.close()
        line = child.stdout.readline()
        assert line == b"received\n", child.stderr.read() if child.stderr else b""
    finally:
        # The kernel kills it: no handler, no finally, no cleanup of any kind.
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    left = _holding_marker(tmp)
    assert left, "the half-received upload was on disk (the test would prove nothing)"
    # The next start of the service (any process of it) removes what the dead one left.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    app = create_app(settings, config={"TESTING": True})
    app.extensions["locker"].engine.dispose()
    assert _holding_marker(tmp) == []
