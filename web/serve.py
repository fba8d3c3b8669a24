"""Run the application under waitress (the same server and settings the Docker image uses).

Why waitress: its asynchronous I/O loop reads every request (headers and whole body) before
a thread sees it, so a slow client holds a socket and a buffer, never one of the threads
that answer everyone else (bench/README.md, "slow clients"). Bodies past 512 KiB are
buffered in an anonymous temporary file (unlinked at creation, gone with the process).
"""

from __future__ import annotations

import logging
import sys

from waitress import serve

from web.app import create_app
from web.observe import json_log_handler

# A client idle this long (seconds, no byte in either direction) is dropped: a slow upload
# that stalls ends, an active one does not.
CHANNEL_TIMEOUT = 30
# Open connections the loop keeps (slow ones included) before it stops accepting; each
# costs a descriptor and a buffer, not a thread.
CONNECTION_LIMIT = 1000
THREADS_PER_WORKER = 4


def _log_to_stderr() -> None:
    # JSON lines (web/observe.py): one object a line, the request's id in each.
    root = logging.getLogger()
    root.addHandler(json_log_handler(sys.stderr))
    root.setLevel(logging.INFO)


def run(*, host: str, port: int, workers: int) -> None:
    """Serve until interrupted: one process, `workers` x 4 threads behind one buffering loop."""
    _log_to_stderr()
    app = create_app()
    serve(
        app,
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
