"""Other OS processes of the same service, for the tests of several app processes at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

from locker.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 60


def settings_env(settings: Settings) -> dict[str, str]:
    """The LOCKER_* environment that makes another process open the same service."""
    env = {
        "LOCKER_DATA_DIR": str(settings.data_dir),
        "LOCKER_DATABASE_URL": settings.database_url,
        "LOCKER_STORAGE_URL": settings.storage_url,
        "LOCKER_MASTER_KEY_FILE": str(settings.master_key_file),
        "LOCKER_SECRET_KEY": settings.secret_key,
        "LOCKER_AUDIT_WITNESS_DIR": str(settings.audit_witness_dir),
        "LOCKER_AUDIT_ORIGIN": settings.audit_origin,
        "LOCKER_COOKIE_SECURE": "true" if settings.cookie_secure else "false",
        "LOCKER_THROTTLE_STORAGE_URL": settings.throttle_storage_url,
        "LOCKER_PROXY_HOPS": str(settings.proxy_hops),
    }
    if settings.s3_endpoint_url:
        env["LOCKER_S3_ENDPOINT_URL"] = settings.s3_endpoint_url
        env["LOCKER_S3_REGION"] = settings.s3_region or "us-east-1"
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(env: Mapping[str, str], log: Path) -> Iterator[str]:
    port = _free_port()
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--port", str(port)],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_listening(base: str, log: Path) -> None:
    port = int(base.rsplit(":", 1)[1])
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(log.read_text(errors="replace")) from None
            time.sleep(0.1)


@contextmanager
def app_processes(settings: Settings, folder: Path, count: int = 2) -> Iterator[list[str]]:
    """`count` processes of `locker serve` on these settings, each on its own port; yields
    their base URLs once all of them listen."""
    env = settings_env(settings)
    with ExitStack() as stack:
        logs = [folder / f"serve-{i}.log" for i in range(count)]
        bases = [stack.enter_context(_serving(env, log)) for log in logs]
        for base, log in zip(bases, logs, strict=True):
            _wait_until_listening(base, log)
        yield bases
