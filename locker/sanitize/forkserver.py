"""The sanitiser's fork server: a clean Python with the parsers loaded, forking one child
per upload (`python -m locker.sanitize.forkserver`, started by `sandbox`).

It starts with no environment but malloc's settings, never holds a secret, and never runs
a thread (a fork copies only the thread that forks). Its standard input is a Unix socket
of messages from the service, each a JSON request with its answer back:

- `{"start": runner}` with two descriptors (the child's job pipe and answer pipe): fork a
  child that runs `worker.serve` on them (`runner`: None, or a test's "module:function");
  answers `{"pid": ...}`.
- `{"kill": pid}`: kill that child if it is still running; answers `{}`. Only a child of
  its own that it has not reaped yet is ever signalled, so a recycled pid never is.

The children are `multiprocessing` processes of the "fork" start method: a fork of this
process, so an upload costs a fork, not the parsers' imports.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import sys

from locker.sanitize import worker

_MAX_REQUEST = 4096


def _child(jobs: int, answers: int, runner: str | None) -> None:
    # The service's socket is this server's, not the child's.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    worker.serve(jobs, worker.Answers(answers), worker.runner_named(runner))


def serve(control: socket.socket) -> None:
    """Answer the service's requests until it closes the socket."""
    fork = multiprocessing.get_context("fork")
    children: dict[int, multiprocessing.process.BaseProcess] = {}
    while True:
        message, fds, _, _ = socket.recv_fds(control, _MAX_REQUEST, 2)
        if not message:
            return
        request = json.loads(message)
        reply: dict[str, int] = {}
        if "start" in request and len(fds) == 2:
            child = fork.Process(target=_child, args=(*fds, request["start"]), daemon=True)
            child.start()
            assert child.pid is not None
            children[child.pid] = child
            reply = {"pid": child.pid}
        elif "kill" in request:
            target = children.get(int(request["kill"]))
            if target is not None and target.is_alive():
                target.kill()
        for fd in fds:
            os.close(fd)
        # Reaps every child that has ended: `is_alive` waits for it without blocking.
        children = {pid: child for pid, child in children.items() if child.is_alive()}
        control.sendall(json.dumps(reply).encode())


if __name__ == "__main__":
    with socket.socket(fileno=sys.stdin.fileno()) as control:
        serve(control)
