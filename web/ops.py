"""What an operator's machines ask: is the process alive, is it ready, its metrics.

`/healthz` and `/readyz` need no sign-in and open no session (`web.context.is_probe`): a
reverse proxy or an orchestrator asks them every few seconds. `/metrics` tells volumes and
timings, not who did what; but even volumes say when the service is used, so it answers a
scraper showing LOCKER_METRICS_TOKEN or, without one, only a client on this host connected
directly.
"""

from __future__ import annotations

import hmac
import logging
from ipaddress import ip_address

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from locker import metrics
from locker.checkpoints import checkpoint_lag
from locker.health import Readiness, readiness_checks
from web.auth import bearer_token
from web.context import OPS_BLUEPRINT, services

log = logging.getLogger(__name__)
ops = Blueprint(OPS_BLUEPRINT, __name__)

_READINESS = "locker.readiness"


def init_app(app: Flask) -> None:
    """Register the routes and the readiness runner of this application."""
    app.extensions[_READINESS] = Readiness()
    app.register_blueprint(ops)


@ops.get("/healthz")
def healthz() -> Response:
    """200 while the process can answer: nothing else is asked."""
    return jsonify({"alive": True})


@ops.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when the database, the object store and the key provider answer, else 503
    naming those that do not (each check bounded in time: locker/health.py)."""
    found = services()
    runner: Readiness = current_app.extensions[_READINESS]
    failing = runner.failing(readiness_checks(found.engine, found.store, found.keyring))
    return jsonify({"ready": not failing, "failing": failing}), 503 if failing else 200


def _may_read_metrics() -> bool:
    token = services().settings.metrics_token
    if token:
        shown = bearer_token() or ""
        return hmac.compare_digest(shown.encode(), token.encode())
    # No token: this host only, and not through a proxy on this host (it would forward
    # the whole world's requests from the loopback address).
    if request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"):
        return False
    peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
    address = peer or request.remote_addr or ""
    try:
        return ip_address(address).is_loopback
    except ValueError:
        return False


@ops.get("/metrics")
def prometheus_metrics() -> Response:
    """The Prometheus text exposition, to whoever may read it (403 for anyone else)."""
    if not _may_read_metrics():
        response = jsonify({"error": "forbidden"})
        response.status_code = 403
        return response
    body, content_type = metrics.exposition(_audit_lag())
    return Response(body, content_type=content_type)


def _audit_lag() -> list[metrics.Metric]:
    """The checkpoint gauges, read now; none while the database does not answer (the
    other metrics still do, and /readyz says what is wrong)."""
    found = services()
    try:
        with found.session_factory() as session:
            lag = checkpoint_lag(session, found.clock)
    except SQLAlchemyError as exc:
        log.warning("metrics: the audit log could not be read (%s)", type(exc).__name__)
        return []
    read_now = [
        metrics.gauge(
            "locker_audit_unsigned_records",
            "Audit records no signed checkpoint covers yet.",
            lag.unsigned_records,
        )
    ]
    if lag.age_seconds is not None:
        read_now.append(
            metrics.gauge(
                "locker_audit_checkpoint_age_seconds",
                "Seconds since the newest signed checkpoint of the audit log.",
                lag.age_seconds,
            )
        )
    return read_now
