"""Running the worker in a child process with memory and CPU-time limits.

The child is forked from a fork server that preloaded the parsers, so a hostile file
that exhausts memory, spins or crashes a C library takes down only that child.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import multiprocessing
import os
import time
from collections.abc import Iterator
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, ForkServerProcess, set_spawning_popen
from typing import Any, BinaryIO

from locker.sanitize import worker
from locker.sanitize.errors import TooComplex

log = logging.getLogger(__name__)
# The parent reads the clean file in pieces of at most this size.
READ_BYTES = 1024 * 1024


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
    return context


class SandboxRun:
    """One started child: first the clean file's bytes as it writes them, then its answer.

    `wall_seconds` bounds the time spent waiting for the child; time the caller spends
    consuming chunks (encrypting, uploading) is not the child's and is not counted, so a
    slow object store never makes a file "too complex". Use as a context manager: leaving
    it kills a child that has not finished.
    """

    def __init__(self, job: worker.Job, wall_seconds: float) -> None:
        context = _context()
        self._budget = wall_seconds
        self._output = job.output
        self._answered = False
        self._answers, answer_sender = context.Pipe(duplex=False)
        self._data, data_sender = context.Pipe(duplex=False)
        self._process = _WorkerProcess(
            target=worker.run, args=(job, answer_sender, data_sender), daemon=True
        )
        try:
            self._process.start()
        finally:
            answer_sender.close()
            data_sender.close()

    def __enter__(self) -> SandboxRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _wait(self, conn: Connection) -> bool:
        started = time.monotonic()
        ready = conn.poll(max(self._budget, 0.0))
        self._budget -= time.monotonic() - started
        return ready

    def chunks(self) -> Iterator[bytes]:
        """The clean file as the child writes it; ends when the child closes the pipe.

        The child announces how far its output file reaches; the new bytes are read from
        the file. A file shorter than announced ends the stream early, and the size check
        against the child's answer refuses the result.
        """
        sent = 0
        with contextlib.ExitStack() as stack:
            output: BinaryIO | None = None
            while True:
                if not self._wait(self._data):
                    raise TooComplex("worker limits")
                try:
                    reaches = int.from_bytes(self._data.recv_bytes(8), "big")
                except (EOFError, OSError):
                    return
                if output is None:
                    output = stack.enter_context(open(self._output, "rb"))
                while sent < reaches:
                    chunk = output.read(min(reaches - sent, READ_BYTES))
                    if not chunk:
                        return
                    sent += len(chunk)
                    yield chunk

    def answer(self) -> dict[str, Any]:
        """The child's answer once its data is drained; TooComplex if it died or overran."""
        answer: dict[str, Any] | None = None
        try:
            if self._wait(self._answers):
                answer = self._answers.recv()
        except (EOFError, OSError):
            answer = None  # the child died (memory or CPU limit, or a crashing parser)
        if answer is None:
            log.warning(
                "sanitizer child gave no answer", extra={"exitcode": self._process.exitcode}
            )
            raise TooComplex("worker limits")
        self._answered = True
        return answer

    def close(self) -> None:
        """Close the pipes and reap the child; one that has not answered is killed."""
        self._data.close()
        self._answers.close()
        if self._answered:
            self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def run_in_sandbox(job: worker.Job, wall_seconds: float) -> dict[str, Any]:
    """The worker's answer for `job` (its clean file left at `job.output`); TooComplex if
    the child dies or overruns its time."""
    with SandboxRun(job, wall_seconds) as run:
        for _ in run.chunks():
            pass
        return run.answer()
