"""Run the application under waitress (the same server and settings the Docker image uses).

Why waitress: its asynchronous I/O loop reads every request (headers and whole body) before
a thread sees it, so a slow client holds a socket and a buffer, never one of the threads
that answer everyone else (bench/README.md, "slow clients"). Bodies past 512 KiB are
buffered in an anonymous temporary file (unlinked at creation, gone with the process).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from waitress import serve

from web.app import create_app

ACCESS = logging.getLogger("locker.access")

# A client idle this long (seconds, no byte in either direction) is dropped: a slow upload
# that stalls ends, an active one does not.
CHANNEL_TIMEOUT = 30
# Open connections the loop keeps (slow ones included) before it stops accepting; each
# costs a descriptor and a buffer, not a thread.
CONNECTION_LIMIT = 1000
THREADS_PER_WORKER = 4

StartResponse = Callable[..., Any]


def escaped(value: str, *, backslash: bool = True) -> str:
    """A value fit for one log line: control characters (CR, LF, ESC...) written as escapes,
    and backslashes doubled (unless told not to) so an escape cannot be faked either."""
    return "".join(
        ch
        if ch.isprintable() and (ch != "\\" or not backslash)
        else ch.encode("unicode_escape").decode("ascii")
        for ch in value
    )


class AccessLog:
    """One line per request: method, path, status, size, seconds (no address, no query)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> _Logged:
        status = ["-"]

        def recording(code: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, *exc)

        started = time.monotonic()
        body = self.app(environ, recording)
        line = (
            f"{escaped(environ.get('REQUEST_METHOD', ''))} {escaped(environ.get('PATH_INFO', ''))}"
        )
        return _Logged(
            body,
            lambda size: ACCESS.info(
                '"%s" %s %d %.3fs', line, status[0], size, time.monotonic() - started
            ),
        )


class _Logged:
    """The response's body, passed through; the line is logged when the server closes it."""

    def __init__(self, body: Iterable[bytes], done: Callable[[int], None]) -> None:
        self.body, self.done, self.size = body, done, 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.size += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.done(self.size)


class _OneLine(logging.Formatter):
    """Every logger's message (the server's own included) escaped: one record, one line."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        # Backslashes stay as they are: the access log already doubled its own.
        record.message = escaped(record.message, backslash=False)
        return super().formatMessage(record)


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def run(*, host: str, port: int, workers: int) -> None:
    """Serve until interrupted: one process, `workers` x 4 threads behind one buffering loop."""
    _log_to_stderr()
    app = create_app()
    serve(
        AccessLog(app),
        host=host,
        port=port,
        threads=max(1, workers) * THREADS_PER_WORKER,
        channel_timeout=CHANNEL_TIMEOUT,
        connection_limit=CONNECTION_LIMIT,
        # Headers stay small; a body larger than the app accepts is refused before buffering.
        max_request_header_size=64 * 1024,
        max_request_body_size=int(app.config["MAX_CONTENT_LENGTH"]),
        # poll(): no 1024-descriptor ceiling on select() with many connections open.
        asyncore_use_poll=True,
        ident="locker",
    )
