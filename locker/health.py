"""Readiness: whether the database, the object store and the key provider answer.

Each check runs in a thread of its own and is waited for a bounded time, so a dependency
that hangs (a server that accepts the connection and never answers) makes the service
"not ready" within that bound instead of hanging the probe. A check still running from an
earlier probe is not started again (it counts as failing): hung checks never pile up.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping

from sqlalchemy import Engine, text

from crypto.keyring import Keyring
from crypto.keys import KEY_SIZE
from locker.storage import ObjectStore

log = logging.getLogger(__name__)

DATABASE, OBJECT_STORE, KEY_PROVIDER = "database", "object_store", "key_provider"
# Orchestrators' probes time out after a few seconds: all checks together stay under 2.
CHECK_SECONDS = 2.0
_PROBE_ASSOCIATED_DATA = b"locker-readiness-probe"

Check = Callable[[], None]


def database_answers(engine: Engine) -> Check:
    """The database check: one connection from the pool, one `SELECT 1`."""

    def check() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return check


def key_provider_answers(keyring: Keyring) -> Check:
    """The key provider check: a throwaway key wrapped under the current master key (in
    a hardware module, a round trip to the token). Not unwrapped: every unwrap is logged,
    and a probe every few seconds would drown the log."""

    def check() -> None:
        keyring.wrap(secrets.token_bytes(KEY_SIZE), _PROBE_ASSOCIATED_DATA)

    return check


def readiness_checks(engine: Engine, store: ObjectStore, keyring: Keyring) -> dict[str, Check]:
    """The three checks of `/readyz`, by the name the answer gives a failing one."""
    return {
        DATABASE: database_answers(engine),
        OBJECT_STORE: store.ping,
        KEY_PROVIDER: key_provider_answers(keyring),
    }


class Readiness:
    """Run named checks at once, each bounded by `timeout` seconds; say which fail."""

    def __init__(self, timeout: float = CHECK_SECONDS) -> None:
        self._timeout = timeout
        self._lock = threading.Lock()
        self._running: dict[str, threading.Thread] = {}

    def failing(self, checks: Mapping[str, Check]) -> list[str]:
        """The names of the checks that raised, timed out, or are still hung from before
        (in the checks' order); empty when everything answered."""
        passed: set[str] = set()
        started: dict[str, threading.Thread] = {}
        with self._lock:
            for name, check in checks.items():
                earlier = self._running.get(name)
                if earlier is not None and earlier.is_alive():
                    log.warning("readiness: %s still has not answered an earlier check", name)
                    continue
                thread = threading.Thread(
                    target=self._run, args=(name, check, passed), name=f"ready-{name}", daemon=True
                )
                self._running[name] = started[name] = thread
                thread.start()
        deadline = time.monotonic() + self._timeout
        for name, thread in started.items():
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("readiness: %s did not answer within %.1f s", name, self._timeout)
        with self._lock:
            return [name for name in checks if name not in passed]

    def _run(self, name: str, check: Check, passed: set[str]) -> None:
        try:
            check()
        except Exception as exc:
            # The exception's type only: its message may carry a host, a path or a user.
            log.warning("readiness: %s does not answer (%s)", name, type(exc).__name__)
            return
        with self._lock:
            passed.add(name)
