"""The real `locker serve` on a free 127.0.0.1 port, for the benchmarks that time it over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCKER = [sys.executable, "-m", "web.cli"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fresh_locker(folder: str) -> dict[str, str]:
    """The environment of a locker just initialised over `folder` (embedded defaults)."""
    env = {**os.environ, "LOCKER_DATA_DIR": f"{folder}/var", "LOCKER_COOKIE_SECURE": "false"}
    subprocess.run([*LOCKER, "init"], env=env, cwd=ROOT, check=True, capture_output=True)
    return env


@contextmanager
def locker_serving(env: dict[str, str]) -> Iterator[int]:
    """`locker serve` over the data dir `env` names, once it accepts connections; yields its
    port and stops it after."""
    port = _free_port()
    server = subprocess.Popen(
        [*LOCKER, "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
