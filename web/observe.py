"""Each request observed once: a request id, one JSON log line, one latency observation.

The line and the observation are made when the server closes the answer, so a streamed
download counts its whole time. What they say of the request is its route *template*
(`/api/v1/documents/<document_id>`, never the concrete path with its ids), its method,
its status and its duration: never a query, a name, a title or a token.

Every log record, the server's and the services' included, is one JSON object a line
(`JsonLines`), carrying the id of the request it was written in.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import request

from locker.metrics import HTTP_METHODS, observe_request

ACCESS = logging.getLogger("locker.access")

REQUEST_ID_HEADER = "X-Request-ID"
# A request id from the proxy in front is kept when it is short and plain (a UUID, hex,
# base64url...): anything else could forge log fields or carry data, and is replaced.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
# No route matched (a 404 for an unknown path, or a request refused before routing).
UNMATCHED = "unmatched"
_ROUTE_KEY = "locker.route"
# Fields a log record may add to its line: ids and counts only, never words of a person.
_EXTRA_FIELDS = ("document_id", "person_id", "days_left")

current_request_id: ContextVar[str | None] = ContextVar("locker_request_id", default=None)

StartResponse = Callable[..., Any]


def request_id_from(header: str) -> str:
    """The proxy's request id when it is sane, else a fresh random one."""
    return header if _SANE_REQUEST_ID.fullmatch(header) else secrets.token_hex(16)


def note_route() -> None:
    """Before any other hook: remember the matched route's template for the request line."""
    rule = request.url_rule
    request.environ[_ROUTE_KEY] = rule.rule if rule is not None else UNMATCHED


class RequestObserver:
    """WSGI middleware: gives each request its id (echoed in X-Request-ID), then logs one
    line and observes its latency when the answer is closed."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> _Observed:
        started = time.perf_counter()
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID", ""))
        current_request_id.set(request_id)
        status = [0]

        def recording(code: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            status[0] = int(code.split(" ", 1)[0])
            kept = [(k, v) for k, v in headers if k.lower() != REQUEST_ID_HEADER.lower()]
            return start_response(code, [*kept, (REQUEST_ID_HEADER, request_id)], *exc)

        def done(size: int) -> None:
            method = environ.get("REQUEST_METHOD", "")
            method = method if method in HTTP_METHODS else "other"
            route = environ.get(_ROUTE_KEY, UNMATCHED)
            seconds = time.perf_counter() - started
            observe_request(route, method, status[0], seconds)
            ACCESS.info(
                "request",
                extra={
                    "route": route,
                    "method": method,
                    "status": status[0],
                    "duration_ms": round(seconds * 1000, 1),
                    "bytes": size,
                },
            )
            # The server's thread goes on to other requests: this id is no longer theirs.
            current_request_id.set(None)

        try:
            body = self.app(environ, recording)
        except BaseException:
            current_request_id.set(None)
            raise
        return _Observed(body, done)


class _Observed:
    """The answer's body, passed through; `done` runs when the server closes it."""

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


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the request's id, the access
    fields, and of an exception its type and stack (never its message, which may quote
    a value: a database error quotes the row it refused)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for name in ("route", "method", "status", "duration_ms", "bytes", *_EXTRA_FIELDS):
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["stack"] = traceback.format_tb(record.exc_info[2])
        # ASCII only: every control or line-separating character is escaped, so one record
        # is one line whatever it holds.
        return json.dumps(entry, ensure_ascii=True, default=str)


def json_log_handler(stream: Any) -> logging.Handler:
    """A handler writing JSON lines to `stream` (stderr for `locker serve`)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    return handler
