"""The service's Prometheus metrics: one place that names them all, and their exposition.

Metrics are process-wide by nature (a counter counts what this process did), so they are
module-level objects on the locker's own registry, as prometheus-client expects; the
services only call the small functions below and never see the library. No label value
is ever taken from a request or a record: each comes from a closed set written here or
in the code (route templates, error codes), so no id, name or title can reach a label.

Several processes: set PROMETHEUS_MULTIPROC_DIR to an empty folder before the service
starts (prometheus-client reads it at import); each process then writes its values
there and any one of them answers a scrape with the sum of all (docs/operations.md).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric as Metric  # web/ops.py reads gauges as these
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

# Bounds in seconds: pages and API answers (most well under a second), the sanitiser (a
# photo in a fraction of a second, a long PDF up to its CPU limit), the audit append (a
# few milliseconds, unless appends queue behind the state row's lock).
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_SANITISE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 60.0)
_APPEND_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# What an upload or an opening came to, besides a typed refusal's code (`LockerError.code`).
STORED, REPLAYED, ALLOWED, DENIED, FAILED = "stored", "replayed", "allowed", "denied", "error"
# An error code is a class attribute, written in the code: this shape is all it may have.
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")

REQUEST_SECONDS = Histogram(
    "locker_http_request_duration_seconds",
    "Time from a request's arrival to its answer's last byte, by route template.",
    ("route", "method", "status"),
    buckets=_REQUEST_BUCKETS,
    registry=REGISTRY,
)
UPLOADS = Counter(
    "locker_uploads",
    "Uploads by outcome: stored, replayed (same upload key), or the refusal's code.",
    ("outcome",),
    registry=REGISTRY,
)
SANITISE_SECONDS = Histogram(
    "locker_sanitiser_duration_seconds",
    "Time the sandboxed sanitiser took over one upload, by outcome (clean or refused).",
    ("outcome",),
    buckets=_SANITISE_BUCKETS,
    registry=REGISTRY,
)
AUDIT_APPEND_SECONDS = Histogram(
    "locker_audit_append_duration_seconds",
    "Time to append one audit record and its tree nodes (lock wait included).",
    buckets=_APPEND_BUCKETS,
    registry=REGISTRY,
)
PLAINTEXT_OPENS = Counter(
    "locker_plaintext_opens",
    "Passes through the one door to plaintext, by part and outcome.",
    ("part", "outcome"),
    registry=REGISTRY,
)


def outcome_of(code: str) -> str:
    """A refusal's code as a label value (anything not shaped like a code is 'error')."""
    return code if _CODE.fullmatch(code) else FAILED


def status_class(status: int) -> str:
    """'2xx', '4xx'...: the status class, never the exact status (a closed set)."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Record one answered request; `route` is a route template or 'unmatched'."""
    REQUEST_SECONDS.labels(
        route=route,
        method=method if method in HTTP_METHODS else "other",
        status=status_class(status),
    ).observe(seconds)


def count_upload(outcome: str) -> None:
    """Count one upload: STORED, REPLAYED, or a refusal's code."""
    UPLOADS.labels(outcome=outcome_of(outcome)).inc()


def count_opening(part: str, outcome: str) -> None:
    """Count one pass through the door to plaintext: ALLOWED, DENIED, or an error's code."""
    PLAINTEXT_OPENS.labels(part=outcome_of(part), outcome=outcome_of(outcome)).inc()


@contextmanager
def timed_audit_append() -> Iterator[None]:
    """Observe the time one audit append took, whether it ended well or raised."""
    started = time.perf_counter()
    try:
        yield
    finally:
        AUDIT_APPEND_SECONDS.observe(time.perf_counter() - started)


def observe_sanitiser(seconds: float, *, clean: bool) -> None:
    """Record one sanitiser run, from the child's start to its clean file or refusal."""
    SANITISE_SECONDS.labels(outcome="clean" if clean else "refused").observe(seconds)


class _Snapshot(Collector):
    """Metrics read at scrape time (the checkpoint's age), handed over as families."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


class _Live(Collector):
    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def gauge(name: str, documentation: str, value: float) -> Metric:
    """One unlabelled gauge read at scrape time."""
    return GaugeMetricFamily(name, documentation, value=value)


def exposition(read_now: Iterable[Metric] = ()) -> tuple[bytes, str]:
    """The Prometheus text exposition (and its content type): this process's metrics, or
    every process's in multiprocess mode, then the `read_now` gauges."""
    registry = CollectorRegistry(auto_describe=False)
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Live())
    registry.register(_Snapshot(read_now))
    return generate_latest(registry), CONTENT_TYPE_LATEST
