"""Running the worker in a child process with memory and CPU-time limits.

Each upload is parsed by a child forked for it from the fork server
(`locker.sanitize.forkserver`), which loaded the parsers once: a hostile file that
exhausts memory, spins or crashes a C library takes down only that child. The job goes in
and the answers come out as JSON lines on two pipes: a child whose parser was exploited
can send the service data, never objects to rebuild (unpickling would run the
attacker's code here).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from locker.sanitize.errors import TooComplex
from locker.sanitize.job import Job

log = logging.getLogger(__name__)
# glibc malloc settings for the fork server, hence every child (read once, when a process
# starts): huge pages and big blocks kept on the heap save a fresh child most of its page
# faults (figures: bench/README.md, "uploads").
MALLOC_TUNABLES = (
    "glibc.malloc.hugetlb=1",
    f"glibc.malloc.mmap_threshold={64 * 1024 * 1024}",
    f"glibc.malloc.trim_threshold={256 * 1024 * 1024}",
)
# An answer is a few fields; anything longer is not one.
_MAX_ANSWER_BYTES = 64 * 1024


class _ForkServer:
    """This process's fork server, started at the first upload (again if it died, and
    anew in a process forked from this one: a server's workers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._socket: socket.socket | None = None
        self._owner = 0

    def ask(self, request: dict[str, Any], fds: tuple[int, ...] = ()) -> dict[str, Any]:
        """Send one request (with descriptors to hand over) and return its answer."""
        with self._lock:
            for attempt in (1, 2):
                control = self._running()
                try:
                    socket.send_fds(control, [json.dumps(request).encode()], list(fds))
                    reply = control.recv(_MAX_ANSWER_BYTES)
                except OSError:
                    reply = b""
                if reply:
                    answer: dict[str, Any] = json.loads(reply)
                    return answer
                self._stop()  # it died: a new one takes the request, once
                if attempt == 2 or "kill" in request:  # a dead server's children are gone
                    break
            raise TooComplex("the sanitiser's fork server is not answering")

    def _running(self) -> socket.socket:
        if self._socket is not None and self._owner == os.getpid():
            return self._socket
        ours, its = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "locker.sanitize.forkserver"],
                stdin=its.fileno(),
                stdout=subprocess.DEVNULL,
                env=_environment(),
            )
        except BaseException:
            ours.close()
            raise
        finally:
            its.close()
        self._socket, self._owner = ours, os.getpid()
        return ours

    def _stop(self, grace_seconds: float = 0) -> None:
        # A closed socket ends the server (and its children waiting for a job with it);
        # one that does not end within the grace is killed.
        if self._socket is not None:
            self._socket.close()
        if self._process is not None:
            try:
                self._process.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._socket = self._process = None

    def close(self) -> None:
        """Stop this process's fork server, letting it end by itself first."""
        with self._lock:
            if self._owner == os.getpid():
                self._stop(grace_seconds=5)


def _environment() -> dict[str, str]:
    # Nothing of the service's own environment (database URL, S3 and secret keys): a
    # process's start-up environment stays readable in /proc/self/environ.
    own = os.environ.get("GLIBC_TUNABLES")
    return {"GLIBC_TUNABLES": ":".join(filter(None, (own, *MALLOC_TUNABLES)))}


_fork_server = _ForkServer()


class Child:
    """A child forked ahead of its job, waiting for it on a pipe: one job, then it exits.

    Every upload still gets a child that has never seen another upload's bytes; only its
    fork happens before the upload arrives, once the previous upload's child is done.
    `runner` ("module:function") replaces `worker.run` in the tests that run hostile code
    in a child confined exactly like this.
    """

    def __init__(self, runner: str | None = None) -> None:
        self.owner = os.getpid()
        job_reader, job_writer = os.pipe()
        answer_reader, answer_writer = os.pipe()
        try:
            self.pid = int(_fork_server.ask({"start": runner}, (job_reader, answer_writer))["pid"])
        except BaseException:
            os.close(job_writer)
            os.close(answer_reader)
            raise
        finally:
            os.close(job_reader)
            os.close(answer_writer)
        self.jobs = os.fdopen(job_writer, "wb")
        self.answers = answer_reader
        self._pending = b""

    def alive(self) -> bool:
        """Whether the child is still there: until its job, it says nothing, so its
        answer pipe is readable only once it has ended."""
        return not select.select([self.answers], [], [], 0)[0]

    def give(self, job: Job) -> bool:
        """Hand the child its job; False if it is no longer there to take it."""
        try:
            self.jobs.write(job.to_json() + b"\n")
            self.jobs.flush()
        except OSError:  # it died while it waited (killed, or its memory taken back)
            return False
        finally:
            # The write it could not flush fails again on close.
            with contextlib.suppress(OSError):
                self.jobs.close()
        return True

    def answer(self, deadline: float) -> dict[str, Any] | None:
        """The child's next answer, or None if it died, overran `deadline` or sent no answer."""
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.answers], [], [], left)[0]:
                return None
            try:
                more = os.read(self.answers, _MAX_ANSWER_BYTES)
            except OSError:
                return None
            if not more or len(self._pending) + len(more) > _MAX_ANSWER_BYTES:
                return None
            self._pending += more
        line, _, self._pending = self._pending.partition(b"\n")
        try:
            answer = json.loads(line)
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None

    def discard(self) -> None:
        """Close both pipes and have the child killed if it is still running."""
        with contextlib.suppress(OSError):
            self.jobs.close()
        if self.answers >= 0:
            os.close(self.answers)
            self.answers = -1
        if self.owner == os.getpid():
            with contextlib.suppress(TooComplex):
                _fork_server.ask({"kill": self.pid})


class _Spare:
    """The one child kept waiting for the next upload, made again after each is taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: Child | None = None

    def waiting(self) -> Child | None:
        """The child waiting for the next upload, if one is (without taking it)."""
        with self._lock:
            return self._child

    def take(self) -> Child | None:
        with self._lock:
            child, self._child = self._child, None
        # A process forked from this one (a server's workers) must not use its parent's.
        if child is None or child.owner != os.getpid():
            return None
        if child.alive():
            return child
        child.discard()
        return None

    def refill_later(self) -> None:
        threading.Thread(target=self._refill, name="sanitizer-spare", daemon=True).start()

    def _refill(self) -> None:
        try:
            child = Child()
        except Exception:  # the next upload starts its own child, as without a spare
            log.warning("could not start a spare sanitizer child", exc_info=True)
            return
        with self._lock:
            extra, self._child = self._child, child
        if extra is not None:  # another upload's refill came first: keep one only
            extra.discard()


spare = _Spare()


@atexit.register
def _shut_down() -> None:
    child = spare.take()
    if child is not None:
        child.discard()
    _fork_server.close()


class SandboxRun:
    """One started child and its answers: the clean file, then its thumbnail.

    `wall_seconds` bounds the time spent waiting for the child, all answers together. Use
    as a context manager: leaving it kills a child that has not ended.
    """

    def __init__(self, job: Job, wall_seconds: float) -> None:
        child = spare.take()
        if child is not None and not child.give(job):
            child.discard()  # it died while it waited: a fresh child takes the job
            child = None
        if child is None:
            child = Child()
            if not child.give(job):
                child.discard()
                raise TooComplex("worker did not start")
        self._deadline = time.monotonic() + wall_seconds
        self._child = child
        self.pid = child.pid

    def __enter__(self) -> SandboxRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def answer(self) -> dict[str, Any]:
        """The child's next answer; TooComplex if it died or overran its time."""
        answer = self._child.answer(self._deadline)
        if answer is None:  # memory or CPU limit, a crashing parser, or out of time
            log.warning("sanitizer child gave no answer")
            raise TooComplex("worker limits")
        return answer

    def close(self) -> None:
        """Close the pipes and have the child killed, if its last answer did not end it."""
        self._child.discard()
        # The next upload's child is forked now, once this one's work is over: forked
        # while this child worked, it took CPU from it on a machine of two cores.
        spare.refill_later()
