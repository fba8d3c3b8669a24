"""Setting up a locker: data dir, master key, schema, bucket. Every step is idempotent."""

from __future__ import annotations

import os
from dataclasses import dataclass

from crypto.keyring import create_keyfile
from locker.db import make_engine
from locker.schema import upgrade_schema
from locker.settings import Settings
from locker.storage import open_store


@dataclass(frozen=True)
class InitReport:
    """What `initialize` found or created."""

    data_dir: str
    key_created: bool
    database: str
    storage: str


def initialize(settings: Settings) -> InitReport:
    """Create what is missing and migrate the schema to the newest revision."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(settings.data_dir, 0o700)
    settings.master_key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_created = create_keyfile(settings.master_key_file)
    engine = make_engine(settings.database_url)
    try:
        upgrade_schema(engine)
    finally:
        engine.dispose()
    store = open_store(
        settings.storage_url,
        s3_endpoint_url=settings.s3_endpoint_url,
        s3_region=settings.s3_region,
        s3_path_style=settings.s3_path_style,
    )
    store.ensure_ready()
    return InitReport(
        data_dir=str(settings.data_dir),
        key_created=key_created,
        database=engine.url.render_as_string(hide_password=True),
        storage=settings.storage_url,
    )
