"""Hostile code inside the sanitiser child finds no secret and no way out (issue 11, 4).

`hostile` stands for a parser exploit: it runs in a child forked, confined and handed its
job exactly as an upload's (worker.serve), in place of the parsing, and reports what it
could reach.
"""

from __future__ import annotations

import os
import socket
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from locker.sanitize import SanitizeLimits
from locker.sanitize.sandbox import _Child
from locker.sanitize.worker import Job

SECRETS = ("master.keyring.json", "locker.sqlite3", "secret_key")


def _attempt(action: Any) -> str:
    try:
        action()
    except OSError as exc:
        return f"refused:{exc.errno}"
    return "done"


def hostile(job: Job, answers: Connection) -> None:
    """What an attacker running code in the child would try first."""
    found: dict[str, Any] = {}
    found["environ"] = dict(os.environ)
    found["proc_environ"] = Path("/proc/self/environ").read_bytes().split(b"\0")
    found["fds"] = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
    found["fd_targets"] = {
        fd: os.readlink(f"/proc/self/fd/{fd}")
        for fd in found["fds"]
        if os.path.exists(f"/proc/self/fd/{fd}")
    }
    status = dict(
        line.split(":\t", 1) for line in Path("/proc/self/status").read_text().splitlines()
    )
    found["no_new_privs"] = status["NoNewPrivs"].strip()
    found["seccomp"] = status["Seccomp"].strip()
    found["uid"] = os.getuid()
    found["tcp"] = _attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    found["udp"] = _attempt(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
    found["unix"] = _attempt(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    found["socketpair"] = _attempt(socket.socketpair)
    found["exec"] = _attempt(lambda: os.execv("/bin/sh", ["/bin/sh", "-c", "true"]))
    # The service's secrets on disk, where an attacker who knows the layout looks.
    data_dir = Path(job.output).parent.parent / "var"
    for index, secret in enumerate(SECRETS):
        found[f"secret_{index}"] = _attempt(lambda path=data_dir / secret: path.read_bytes())
    found["data_dir"] = _attempt(lambda: os.listdir(data_dir))
    found["input"] = _attempt(lambda: Path(job.inputs[0]).read_bytes())
    found["parent_environ"] = _attempt(lambda: Path(f"/proc/{os.getppid()}/environ").read_bytes())
    found["own_folder"] = _attempt(lambda: Path(job.thumbnail).write_bytes(b"ok"))
    answers.send(found)
    answers.close()


def test_hostile_code_in_the_child_finds_no_secret_and_no_network(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("LOCKER_CANARY_SECRET", "s3cr3t-canary")  # the service's own env
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    for secret in SECRETS:
        (data_dir / secret).write_text(f"not the real {secret}")
    workdir = tmp_path / "upload"
    workdir.mkdir()
    (workdir / "input-0").write_bytes(b"%PDF-1.4 the upload itself")
    limits = SanitizeLimits()
    job = Job(
        inputs=(str(workdir / "input-0"),),
        output=str(workdir / "clean"),
        thumbnail=str(workdir / "thumbnail"),
        max_pixels=limits.max_pixels,
        memory_bytes=limits.memory_bytes,
        cpu_seconds=limits.cpu_seconds,
        max_files=limits.max_files,
    )
    child = _Child(runner=hostile)
    try:
        assert child.give(job)
        assert child.answers.poll(30)
        found = child.answers.recv()
    finally:
        child.discard()
    print("measured inside the child:", found)  # for the closing note
    assert found["environ"] == {}
    # The exec-time environment: none of the service's variables (database, S3, keys,
    # PATH, HOME...). glibc splits GLIBC_TUNABLES in place when it reads them; a variable
    # a C library set after start-up (terminal sizes under pytest) is not one of ours.
    names = {entry.split(b"=", 1)[0].decode() for entry in found["proc_environ"] if entry}
    assert not (names & set(os.environ)) - {"GLIBC_TUNABLES"}, names
    assert b"s3cr3t-canary" not in b"".join(found["proc_environ"])
    # stdin/stdout/stderr on /dev/null, and the answer pipe: nothing else.
    assert len(found["fds"]) <= 5, found["fd_targets"]
    others = {fd: t for fd, t in found["fd_targets"].items() if fd > 2}
    assert all(t.startswith("pipe:") or t.startswith("socket:") for t in others.values()), others
    assert all(found["fd_targets"][fd] == "/dev/null" for fd in (0, 1, 2))
    assert found["no_new_privs"] == "1"
    assert found["seccomp"] == "2"  # a filter is loaded
    for attempt in ("tcp", "udp", "unix", "socketpair", "exec", "parent_environ"):
        assert found[attempt].startswith("refused:"), (attempt, found[attempt])
    for index in range(len(SECRETS)):  # the key file, the database, the secret key
        assert found[f"secret_{index}"].startswith("refused:"), (index, found)
    assert found["data_dir"].startswith("refused:")
    assert found["input"] == "done"  # what it was given to parse it can read
    assert found["own_folder"] == "done"  # its own upload's folder is still its to write
