"""Setting up a locker: data dir, master key, schema, bucket. Every step is idempotent."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import OperationalError

from locker.db import make_engine
from locker.errors import StorageUnavailable, Unreachable
from locker.key_provider import provision_key_provider
from locker.parts import open_object_store
from locker.schema import upgrade_schema
from locker.settings import Settings


@dataclass(frozen=True)
class InitReport:
    """What `initialize` found or created."""

    data_dir: str
    key_created: bool
    database: str
    storage: str


T = TypeVar("T")
RETRY_PAUSE = 1.0


def _when_answering(step: Callable[[], T], deadline: float, describe: Callable[[str], str]) -> T:
    """Run `step`, again while its server does not answer and `deadline` (monotonic) is not
    past; then raise Unreachable with `describe(cause)`, the cause in one line. Any other
    error (a failed migration, a refused bucket) is raised as it is."""
    while True:
        try:
            return step()
        except (OperationalError, StorageUnavailable) as exc:
            if time.monotonic() + RETRY_PAUSE > deadline:
                cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
                raise Unreachable(describe(cause[0] if cause else type(exc).__name__)) from exc
        time.sleep(RETRY_PAUSE)


def initialize(settings: Settings, wait_seconds: float = 0.0) -> InitReport:
    """Create what is missing and migrate the schema to the newest revision, waiting up to
    `wait_seconds` for the database and the object store to answer (a container's start)."""
    deadline = time.monotonic() + wait_seconds
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(settings.data_dir, 0o700)
    if settings.pkcs11 is None:
        settings.master_key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_created = provision_key_provider(settings)
    engine = make_engine(settings.database_url)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        _when_answering(
            lambda: upgrade_schema(engine),
            deadline,
            lambda cause: f"LOCKER_DATABASE_URL: the database at {shown} does not answer ({cause})",
        )
    finally:
        engine.dispose()
    store = open_object_store(settings)
    _when_answering(
        store.ensure_ready,
        deadline,
        lambda cause: (
            f"LOCKER_STORAGE_URL: the store at {settings.storage_url} is not ready ({cause})"
        ),
    )
    return InitReport(
        data_dir=str(settings.data_dir),
        key_created=key_created,
        database=shown,
        storage=settings.storage_url,
    )
