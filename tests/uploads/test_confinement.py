"""Hostile code inside the sanitiser child finds no secret and no way out (issue 11, 4).

`hostile` stands for a parser exploit: it runs in a child started, confined and handed its
job exactly as an upload's (worker.serve), in place of the parsing, and reports what it
could reach.
"""

from __future__ import annotations

import os
import pickle
import socket
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from locker.sanitize import SanitizeLimits, confine, sanitize_files
from locker.sanitize.confine import NOBODY, chosen_ids, python_folders, unreachable
from locker.sanitize.job import Job
from locker.sanitize.sandbox import Child
from locker.sanitize.worker import Answers

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SECRETS = ("master.keyring.json", "locker.sqlite3", "secret_key")


def _attempt(action: Any) -> str:
    try:
        action()
    except OSError as exc:
        return f"refused:{exc.errno}"
    return "done"


def hostile(job: Job, answers: Answers) -> None:
    """What an attacker running code in the child would try first."""
    found: dict[str, Any] = {}
    found["environ"] = dict(os.environ)
    try:
        found["proc_environ"] = Path("/proc/self/environ").read_text("latin-1").split("\0")
    except OSError:  # having given up root, it may not even read its own
        found["proc_environ"] = []
    found["fds"] = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
    found["fd_targets"] = {
        str(fd): os.readlink(f"/proc/self/fd/{fd}")
        for fd in found["fds"]
        if os.path.exists(f"/proc/self/fd/{fd}")
    }
    status = dict(
        line.split(":\t", 1) for line in Path("/proc/self/status").read_text().splitlines()
    )
    found["no_new_privs"] = status["NoNewPrivs"].strip()
    found["seccomp"] = status["Seccomp"].strip()
    found["uid"] = os.getuid()
    found["gid"] = os.getgid()
    found["groups"] = os.getgroups()
    found["capabilities"] = int(status["CapEff"].strip(), 16)
    found["signal_parent"] = _attempt(lambda: os.kill(os.getppid(), 0))
    found["signal_all"] = _attempt(lambda: os.kill(-1, 0))
    found["signal_self"] = _attempt(lambda: os.kill(os.getpid(), 0))
    found["tcp"] = _attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    found["udp"] = _attempt(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
    found["unix"] = _attempt(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    found["socketpair"] = _attempt(socket.socketpair)
    found["exec"] = _attempt(lambda: os.execv("/bin/sh", ["/bin/sh", "-c", "true"]))
    # The service's secrets on disk, where an attacker who knows the layout looks.
    own_folder = Path(job.output).parent
    data_dir = Path((own_folder / "secrets-path").read_text())
    # Left in its folder by the service (root, 0600): Landlock allows the folder; only
    # the file's owner stops a child that has given up root.
    found["root_only"] = _attempt(lambda: (own_folder / "root-only").read_bytes())
    for index, secret in enumerate(SECRETS):
        found[f"secret_{index}"] = _attempt(lambda path=data_dir / secret: path.read_bytes())
    found["data_dir"] = _attempt(lambda: os.listdir(data_dir))
    found["input"] = _attempt(lambda: Path(job.inputs[0]).read_bytes())
    found["parent_environ"] = _attempt(lambda: Path(f"/proc/{os.getppid()}/environ").read_bytes())
    found["own_folder"] = _attempt(lambda: Path(job.thumbnail).write_bytes(b"ok"))
    answers.send(found)
    answers.close()


def _job(workdir: Path) -> Job:
    """The job of an upload whose input is `workdir/input-0`, with the default limits."""
    limits = SanitizeLimits()
    return Job(
        inputs=(str(workdir / "input-0"),),
        output=str(workdir / "clean"),
        thumbnail=str(workdir / "thumbnail"),
        preview=str(workdir / "preview"),
        max_pixels=limits.max_pixels,
        memory_bytes=limits.memory_bytes,
        cpu_seconds=limits.cpu_seconds,
        max_files=limits.max_files,
        # As root the child gives up root: as the service's own choice when it can (the
        # upload test below), and here always, for code that imports nothing more.
        run_as=(limits.run_as or NOBODY) if os.geteuid() == 0 else None,
    )


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
    (workdir / "secrets-path").write_text(str(data_dir))
    (workdir / "root-only").write_bytes(b"the service's")
    os.chmod(workdir / "root-only", 0o600)
    job = _job(workdir)
    run_as = job.run_as
    child = Child(runner="tests.uploads.test_confinement:hostile")
    try:
        assert child.give(job)
        found = child.answer(time.monotonic() + 30)
        assert found is not None
    finally:
        child.discard()
    print("measured inside the child:", found)  # for the closing note
    assert found["environ"] == {}
    # The exec-time environment: none of the service's variables (database, S3, keys,
    # PATH, HOME...). glibc splits GLIBC_TUNABLES in place when it reads them; a variable
    # a C library set after start-up (terminal sizes under pytest) is not one of ours.
    names = {entry.split("=", 1)[0] for entry in found["proc_environ"] if entry}
    assert not (names & set(os.environ)) - {"GLIBC_TUNABLES"}, names
    assert "s3cr3t-canary" not in "".join(found["proc_environ"])
    # stdin/stdout/stderr on /dev/null, and the answer pipe: nothing else.
    assert len(found["fds"]) <= 5, found["fd_targets"]
    others = {fd: t for fd, t in found["fd_targets"].items() if int(fd) > 2}
    assert all(t.startswith("pipe:") or t.startswith("socket:") for t in others.values()), others
    assert all(found["fd_targets"][fd] == "/dev/null" for fd in ("0", "1", "2"))
    assert found["no_new_privs"] == "1"
    assert found["seccomp"] == "2"  # a filter is loaded
    for attempt in ("tcp", "udp", "unix", "socketpair", "exec", "parent_environ"):
        assert found[attempt].startswith("refused:"), (attempt, found[attempt])
    for index in range(len(SECRETS)):  # the key file, the database, the secret key
        assert found[f"secret_{index}"].startswith("refused:"), (index, found)
    assert found["data_dir"].startswith("refused:")
    assert found["input"] == "done"  # what it was given to parse it can read
    assert found["own_folder"] == "done"  # its own upload's folder is still its to write
    assert found["signal_parent"].startswith("refused:")
    assert found["signal_all"].startswith("refused:")
    assert found["signal_self"] == "done"
    if run_as is None:  # not root: it keeps the service's own unprivileged user
        assert found["uid"] == os.getuid() != 0
        return
    assert (found["uid"], found["gid"]) == run_as
    assert found["groups"] == []
    assert found["capabilities"] == 0
    assert found["root_only"].startswith("refused:")


class _Touch:
    """Unpickled, it would create `marker`: code of the child's choosing run by the service."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.mkdir, (self.marker,))


def forging(job: Job, answers: Answers) -> None:
    """An exploited parser answering with a pickle, then with an answer that never ends."""
    marker = str(Path(job.output).parent.parent / "unpickled")
    os.write(answers.fileno(), pickle.dumps(_Touch(marker)) + b"\n")
    os.write(answers.fileno(), b"{" * (100 * 1024))


def test_a_forged_answer_is_data_never_code(tmp_path: Path) -> None:
    workdir = tmp_path / "upload"
    workdir.mkdir()
    (workdir / "input-0").write_bytes(b"%PDF-1.4")
    job = _job(workdir)
    os.chmod(tmp_path, 0o777)  # where the service would create the marker, not the child
    child = Child(runner="tests.uploads.test_confinement:forging")
    try:
        assert child.give(job)
        assert child.answer(time.monotonic() + 30) is None  # a pickle is no answer
        assert child.answer(time.monotonic() + 30) is None  # nor 100 KiB without an end
    finally:
        child.discard()
    assert not (tmp_path / "unpickled").exists()


def test_a_real_upload_is_parsed_by_the_sandbox_user(tmp_path: Path) -> None:
    """As root, the service's own uploads are parsed by the unprivileged user: the files
    the child wrote are that user's, in a folder under root-only ones (pytest's)."""
    limits = SanitizeLimits()
    if os.geteuid() != 0:
        assert limits.run_as is None
        return
    if limits.run_as is None:  # only when that user could not read the Python folders
        blocked = unreachable(python_folders(), chosen_ids())
        print("the child keeps uid 0 here; unreadable:", blocked)
        assert blocked
        return
    uid, gid = limits.run_as
    assert uid != 0
    workdir = tmp_path / "upload"
    workdir.mkdir(mode=0o700)
    given_here = workdir / "input-0"
    given_here.write_bytes((SAMPLES / "id_photo_gps.jpg").read_bytes())
    clean = sanitize_files([given_here], workdir, limits)
    assert (clean.path.stat().st_uid, clean.path.stat().st_gid) == (uid, gid)
    assert stat.S_IMODE(clean.path.stat().st_mode) == 0o600
    assert clean.thumbnail_path.stat().st_uid == uid
    assert clean.preview_path.stat().st_uid == uid
    assert given_here.stat().st_uid == uid  # handed over with its folder
    # A file given from elsewhere is copied in, never taken over.
    pdf = tmp_path / "elsewhere.pdf"
    pdf.write_bytes((SAMPLES / "caf_letter.pdf").read_bytes())
    os.chmod(pdf, 0o600)
    again = tmp_path / "again"
    again.mkdir(mode=0o700)
    clean = sanitize_files([pdf], again, limits)
    assert clean.content_type == "application/pdf"
    assert clean.path.stat().st_uid == uid
    assert pdf.stat().st_uid == 0


def test_a_python_the_sandbox_user_cannot_read_keeps_uid_0_and_says_so(
    monkeypatch: Any, caplog: Any
) -> None:
    # Not in pytest's own folders, which nobody but root may pass.
    with tempfile.TemporaryDirectory() as top:
        os.chmod(top, 0o755)
        _check_reachability(Path(top), monkeypatch, caplog)


def _check_reachability(top: Path, monkeypatch: Any, caplog: Any) -> None:
    closed = top / "closed"
    inner = closed / "lib"
    inner.mkdir(parents=True)
    os.chmod(closed, 0o700)
    assert unreachable([str(inner), "/usr/lib"], NOBODY) == [str(inner)]
    os.chmod(closed, 0o711)  # passable, not listable: the inner folder is reachable
    assert unreachable([str(inner)], NOBODY) == []
    assert unreachable([str(closed)], NOBODY) == [str(closed)]  # but not listed itself
    os.chmod(closed, 0o700)
    monkeypatch.setattr(confine, "python_folders", lambda: {str(inner)})
    decided = confine.sandbox_ids.__wrapped__("nobody")
    if os.geteuid() != 0:
        assert decided is None  # not root: nothing to give up
        return
    assert decided is None
    assert str(inner) in caplog.text and "keeps uid 0" in caplog.text
    monkeypatch.setattr(confine, "python_folders", lambda: {"/usr/lib"})
    assert confine.sandbox_ids.__wrapped__("nobody") == NOBODY
