"""Run the application under gunicorn (the same server the Docker image uses)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from web.app import create_app


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_app()


def run(*, host: str, port: int, workers: int) -> None:
    """Serve until interrupted; each worker builds its own app (no shared state)."""
    _Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": 4,
            "worker_class": "gthread",
            "timeout": 120,
            "accesslog": "-",
            # Paths only: query strings are not logged.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss',
        }
    ).run()


def wsgi() -> Flask:
    """Entry point for `gunicorn 'web.serve:wsgi()'`."""
    return create_app()
