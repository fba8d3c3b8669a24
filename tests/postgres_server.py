"""A PostgreSQL server for the tests: the machine's own, or a throwaway cluster.

The suite first asks `LOCKER_TEST_PG_URL` (the machine's server); when nothing answers
there, it starts a cluster of its own from Debian's `postgresql` package in a temporary
folder, on a free port, with durability off (it lives for one run), and removes it after.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.s3_server import free_port

INSTALL_HINT = "apt-get install postgresql"
START_TIMEOUT = 60


def answers(url: str) -> str | None:
    """None when a server answers at `url`, else why not."""
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()
    return None


def _binaries() -> Path | None:
    """The newest Debian PostgreSQL's bin folder (initdb, postgres), if installed."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    return Path(found[-1]).parent if found else None


def _as_owner(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: there, it runs as the package's `postgres` user.
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a fresh cluster and yield its admin URL; raise RuntimeError saying what is
    missing when it cannot start."""
    binaries = _binaries()
    if binaries is None:
        raise RuntimeError(f"PostgreSQL is not installed ({INSTALL_HINT})")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError(f"no postgres user ({INSTALL_HINT})") from None
    top = Path(tempfile.mkdtemp(prefix="locker-pg-"))
    data, sockets = top / "data", top / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        os.chmod(top, 0o755)
        for path in (top, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = free_port()
    server: subprocess.Popen[bytes] | None = None
    log = top / "server.log"
    try:
        subprocess.run(
            _as_owner([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        with log.open("wb") as output:
            server = subprocess.Popen(
                _as_owner(
                    [
                        str(binaries / "postgres"),
                        "-D",
                        str(data),
                        "-p",
                        str(port),
                        "-k",
                        str(sockets),
                        "-c",
                        "listen_addresses=127.0.0.1",
                        # One run's data: nothing to keep across a crash.
                        "-c",
                        "fsync=off",
                        "-c",
                        "synchronous_commit=off",
                        "-c",
                        "full_page_writes=off",
                    ]
                ),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + START_TIMEOUT
        while (why := answers(url)) is not None:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {why}; {log.read_text()[-500:]}")
            time.sleep(0.2)
        yield url
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"initdb failed: {exc.stderr.decode(errors='replace')[-500:]}") from exc
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(top, ignore_errors=True)
