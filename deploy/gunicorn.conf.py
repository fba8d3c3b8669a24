"""gunicorn's settings for one app container of deploy/compose.yaml, behind deploy/nginx.conf.

nginx reads every request whole before it passes it on, and takes every answer as fast as
the app writes it, so a worker's thread is held for the app's own time only, never for a
phone on a slow link (gunicorn must not face clients directly: its threads would wait
for them). Each value can be changed by the environment variable named beside it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

wsgi_app = "web.app:create_app()"
bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]

# Processes x threads: two processes use both cores of a small host; four threads each
# overlap the waits on PostgreSQL and S3.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A worker silent this long is killed and replaced. The longest honest request is an
# upload (its sanitiser stops at LOCKER_SANITIZE_CPU_SECONDS, 20 s) then its S3 writes.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM (a rollout restarting this container), requests in flight get this long.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Longer than nginx's upstream keepalive_timeout (5 s), so nginx closes idle connections
# first and never sends a request on one gunicorn is closing.
keepalive = 10
# Workers are replaced now and then (spread out), so no slow leak grows for ever. A
# worker's memory stays flat over 55,000 list reads and grows ~1 MiB per 150 uploads
# (docs/operations.md), and a new worker costs ~1 s of CPU: every 20,000 requests.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# The heartbeat file on tmpfs: a container's overlay disk can stall it into a false timeout.
_SHM = "/dev/shm"  # noqa: S108 (gunicorn makes its file there with mkstemp)
worker_tmp_dir = _SHM if Path(_SHM).is_dir() else None

# X-Forwarded-Proto is believed from nginx only (its fixed address in deploy/compose.yaml);
# the app does the same for X-Forwarded-For (LOCKER_PROXY_HOPS, LOCKER_TRUSTED_PROXIES).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# No access log here: the app writes one JSON line per request (route template, status,
# duration, request id) and nothing personal; gunicorn's would add addresses and queries.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Several processes share /metrics through prometheus-client's multiprocess mode: its
# folder must be set before any worker imports the client, and emptied at each start (the
# files of an earlier run would be summed in). Workers inherit the master's environment.
_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
if workers > 1 and not os.environ.get(_METRICS_DIR):
    os.environ[_METRICS_DIR] = tempfile.mkdtemp(prefix="locker-metrics-")


def on_starting(server: Any) -> None:
    """Empty the metrics folder before the first worker starts."""
    folder = os.environ.get(_METRICS_DIR)
    if not folder:
        return
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """Drop a finished worker's live gauges (its counters stay summed, as they should)."""
    if os.environ.get(_METRICS_DIR):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
