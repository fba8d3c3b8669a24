"""Running the worker in a child process with memory and CPU-time limits.

The child is forked from a fork server that preloaded the parsers, so a hostile file
that exhausts memory, spins or crashes a C library takes down only that child.
"""

from __future__ import annotations

import functools
import io
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, ForkServerProcess, set_spawning_popen
from typing import Any

from locker.sanitize import worker
from locker.sanitize.errors import TooComplex

log = logging.getLogger(__name__)
# glibc malloc settings for the fork server, hence for every child it forks (they are read
# once, when a process starts). A fresh child touches every page of memory it allocates
# for the first time, and on a virtual machine each 4 KiB page fault cost ~9 us: a 20 MB
# PDF rewrite took ~4,400 of them, 40 ms of the child's ~50. Transparent huge pages for
# malloc's heap (where the kernel allows them on request) make that a few dozen faults;
# the thresholds keep big blocks on that heap, and keep the memory a child frees for its
# next block instead of handing it back (bench/README.md, "uploads").
MALLOC_TUNABLES = (
    "glibc.malloc.hugetlb=1",
    f"glibc.malloc.mmap_threshold={64 * 1024 * 1024}",
    f"glibc.malloc.trim_threshold={256 * 1024 * 1024}",
)
_forkserver_start = threading.Lock()


def _start_fork_server() -> None:
    """Start the fork server with MALLOC_TUNABLES as its whole environment, once per process.

    The environment is swapped only while the server is being started (once, at the first
    upload; the settings and the S3 clients read theirs at start): the service's own
    process and anything else it runs keep their environment. (A fork server that dies is
    started again by multiprocessing itself, without the tunables: its children are then
    slower, never less limited.)
    """
    with _forkserver_start:
        # The fork server, hence every child, starts with no environment at all but the
        # tunables: the service's own holds the database URL, S3 and secret keys, and a
        # process's exec-time environment stays readable in /proc/self/environ.
        saved = dict(os.environ)
        os.environ.clear()
        os.environ["GLIBC_TUNABLES"] = ":".join(
            filter(None, (saved.get("GLIBC_TUNABLES"), *MALLOC_TUNABLES))
        )
        try:
            forkserver.ensure_running()
        finally:
            os.environ.clear()
            os.environ.update(saved)


class _Popen(popen_forkserver.Popen):
    """The fork server's launcher, minus the parent's `__main__`.

    CPython 3.11's fork server re-runs the parent's main script in every child before
    the target (its preload of `__main__` never happens): under gunicorn, pytest or a
    script that costs a second of imports per upload. The worker's target lives in an
    importable module, so the child needs no `__main__` at all.
    """

    def _launch(self, process_obj: Any) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buffer = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buffer)
            reduction.dump(process_obj, buffer)
        finally:
            set_spawning_popen(None)
        self.sentinel, writer = forkserver.connect_to_new_process(self._fds)  # type: ignore[attr-defined]
        parent_writer = os.dup(writer)
        self.finalizer = util.Finalize(self, util.close_fds, (parent_writer, self.sentinel))  # type: ignore[attr-defined]
        with open(writer, "wb", closefd=True) as handle:
            handle.write(buffer.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _WorkerProcess(ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:
        return _Popen(process_obj)


@functools.cache
def _context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    assert isinstance(context, ForkServerContext)
    context.set_forkserver_preload(["locker.sanitize.worker"])
    _start_fork_server()
    return context


class _Child:
    """A child forked ahead of its job, waiting for it on a pipe: one job, then it exits.

    Every upload still gets a child that has never seen another upload's bytes; only its
    fork and start-up (~3 ms of a 20 MB PDF's upload) happen before the upload arrives,
    once the previous upload's child is done (bench/README.md, "uploads").
    """

    def __init__(self, runner: Callable[[worker.Job, Connection], None] | None = None) -> None:
        context = _context()
        self.owner = os.getpid()
        self.answers, answer_sender = context.Pipe(duplex=False)
        job_receiver, self.jobs = context.Pipe(duplex=False)
        self.process = _WorkerProcess(
            target=worker.serve, args=(job_receiver, answer_sender, runner), daemon=True
        )
        try:
            self.process.start()
        finally:
            answer_sender.close()
            job_receiver.close()

    def give(self, job: worker.Job) -> bool:
        """Hand the child its job; False if it is no longer there to take it."""
        try:
            self.jobs.send(job)
        except OSError:  # it died while it waited (killed, or its memory taken back)
            return False
        finally:
            self.jobs.close()
        return True

    def discard(self) -> None:
        self.jobs.close()
        self.answers.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()


class _Spare:
    """The one child kept waiting for the next upload, made again after each is taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: _Child | None = None

    def take(self) -> _Child | None:
        with self._lock:
            child, self._child = self._child, None
        # A process forked from this one (a server's workers) must not use its parent's.
        if child is None or child.owner != os.getpid():
            return None
        if child.process.is_alive():
            return child
        child.discard()
        return None

    def refill_later(self) -> None:
        threading.Thread(target=self._refill, name="sanitizer-spare", daemon=True).start()

    def _refill(self) -> None:
        try:
            child = _Child()
        except Exception:  # the next upload forks its own child, as without a spare
            log.warning("could not start a spare sanitizer child", exc_info=True)
            return
        with self._lock:
            extra, self._child = self._child, child
        if extra is not None:  # another upload's refill came first: keep one only
            extra.discard()


_spare = _Spare()


class SandboxRun:
    """One started child and its answers: the clean file, then its thumbnail.

    `wall_seconds` bounds the time spent waiting for the child, all answers together. Use
    as a context manager: leaving it kills a child that has not given its last answer.
    """

    def __init__(self, job: worker.Job, wall_seconds: float) -> None:
        child = _spare.take()
        if child is not None and not child.give(job):
            child.discard()  # it died while it waited: a fresh child takes the job
            child = None
        if child is None:
            child = _Child()
            if not child.give(job):
                child.discard()
                raise TooComplex("worker did not start")
        self._deadline = time.monotonic() + wall_seconds
        self._done = False
        self._answers, self._process = child.answers, child.process

    def __enter__(self) -> SandboxRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def answer(self) -> dict[str, Any]:
        """The child's next answer; TooComplex if it died or overran its time."""
        answer: dict[str, Any] | None = None
        try:
            if self._answers.poll(max(self._deadline - time.monotonic(), 0.0)):
                answer = self._answers.recv()
        except (EOFError, OSError):
            answer = None  # the child died (memory or CPU limit, or a crashing parser)
        if answer is None:
            log.warning(
                "sanitizer child gave no answer", extra={"exitcode": self._process.exitcode}
            )
            raise TooComplex("worker limits")
        # A refusal, or the thumbnail's answer, is the child's last word.
        self._done = not answer.get("ok") or bool(answer.get("thumbnail"))
        return answer

    def close(self) -> None:
        """Close the pipe and reap the child; one that is not done is killed."""
        self._answers.close()
        if self._done:
            self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        # The next upload's child is forked now, once this one's work is over: forked
        # while this child worked, it took CPU from it on a machine of two cores.
        _spare.refill_later()
