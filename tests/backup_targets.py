"""What the backup tests share: a fresh restore target on the stack under test, the
settings' environment for `locker` commands, and every paper read through the one door."""

from __future__ import annotations

import hashlib
import io
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from crypto.keyring import erasure_keys_file
from locker.actors import Actor
from locker.documents import UploadRequest, upload_document
from locker.models import Document, Person
from locker.parts import open_object_store
from locker.settings import Settings, load_settings
from locker.storage import ObjectStore
from sharing.documents import open_document_for
from tests.conftest import sample
from tests.factories import Clock, context
from tests.s3_server import make_bucket, remove_bucket


def env_of(settings: Settings) -> dict[str, str]:
    """The LOCKER_* variables that give back `settings` (for `locker` commands)."""
    env = {
        "LOCKER_DATA_DIR": str(settings.data_dir),
        "LOCKER_DATABASE_URL": settings.database_url,
        "LOCKER_STORAGE_URL": settings.storage_url,
        "LOCKER_SECRET_KEY": settings.secret_key,
        "LOCKER_MASTER_KEY_FILE": str(settings.master_key_file),
        "LOCKER_AUDIT_WITNESS_DIR": str(settings.audit_witness_dir),
        "LOCKER_COOKIE_SECURE": "false",
    }
    if settings.s3_endpoint_url is not None:
        env["LOCKER_S3_ENDPOINT_URL"] = settings.s3_endpoint_url
        env["LOCKER_S3_REGION"] = settings.s3_region or ""
    return env


@dataclass
class Target:
    """A fresh, empty database (not even migrated) and a fresh, empty bucket or folder."""

    settings: Settings
    store: ObjectStore

    @property
    def env(self) -> dict[str, str]:
        return env_of(self.settings)

    def bring_keys(self, source: Settings) -> None:
        """The key file and its erasure keys, from their own backup (here: the source's,
        copied now; SQLite's backup API for the erasure keys, whose log a copy could miss)."""
        key_file = self.settings.master_key_file
        shutil.copy2(source.master_key_file, key_file)
        erasure = erasure_keys_file(source.master_key_file)
        with sqlite3.connect(erasure) as src, sqlite3.connect(erasure_keys_file(key_file)) as dst:
            src.backup(dst)
        src.close()
        dst.close()

    def is_untouched(self) -> bool:
        """Nothing in the database, the store or the witness folder."""
        engine = create_engine(self.settings.database_url)
        try:
            tables = inspect(engine).get_table_names()
        finally:
            engine.dispose()
        witness = self.settings.audit_witness_dir
        written = witness.is_dir() and any(witness.iterdir())
        return not tables and not list(self.store.list_keys()) and not written


@pytest.fixture(name="target")
def fresh_target(
    stack: str, settings: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Target]:
    """Where the drill restores to: created like the fixtures create theirs, but empty
    (no key file either: `bring_keys` puts it there)."""
    data_dir = tmp_path / "target"
    data_dir.mkdir()
    env = {
        "LOCKER_DATA_DIR": str(data_dir),
        "LOCKER_COOKIE_SECURE": "false",
        "LOCKER_AUDIT_WITNESS_DIR": str(tmp_path / "target-witness"),
    }
    database = bucket = None
    if stack == "postgres-s3":
        server = request.getfixturevalue("s3_server")
        admin_url = request.getfixturevalue("pg_admin_url")
        database = f"locker_r_{secrets.token_hex(6)}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        url = make_url(admin_url).set(database=database)
        env["LOCKER_DATABASE_URL"] = url.render_as_string(hide_password=False)
        env["LOCKER_SECRET_KEY"] = settings.secret_key
        bucket = make_bucket(server)
        env["LOCKER_STORAGE_URL"] = f"s3://{bucket}"
        env["LOCKER_S3_ENDPOINT_URL"] = server.endpoint_url
        env["LOCKER_S3_REGION"] = server.region
    restored = load_settings(env, create=True)
    store = open_object_store(restored)
    store.ensure_ready()
    yield Target(restored, store)
    if database is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
    if bucket is not None:
        remove_bucket(server, bucket)


def upload_sample(
    app: Flask, clock: Clock, person_id: str, name: str, title: str, category: str
) -> str:
    """The id of one of the team's sample files, uploaded by the person herself."""
    found = app.extensions["locker"]
    with found.session_factory() as session:
        person = session.get(Person, person_id)
        assert person is not None
        view = upload_document(
            session,
            found.store,
            found.keyring,
            clock,
            actor=Actor(kind="person", id=person_id),
            person=person,
            upload=UploadRequest(
                source=io.BytesIO(sample(name)),
                filename=name,
                title=title,
                category=category,
                max_bytes=10_000_000,
            ),
        )
        session.commit()
    return view.id


def read_every_paper(app: Flask) -> dict[str, tuple[str, str, str]]:
    """Each paper, opened by its owner through the one door: (title, SHA-256 of the
    file, SHA-256 of the thumbnail), by document id."""
    found = app.extensions["locker"]
    papers: dict[str, tuple[str, str, str]] = {}
    with found.session_factory() as session:
        documents = session.scalars(select(Document).where(Document.deleted_at.is_(None)))
        for document_id, person_id in [(doc.id, doc.person_id) for doc in documents]:
            ctx = context(found, session, Actor(kind="person", id=person_id))
            opened = open_document_for(ctx, document_id=document_id)
            content = hashlib.sha256(b"".join(opened.chunks)).hexdigest()
            thumb = open_document_for(ctx, document_id=document_id, part="thumbnail")
            thumbnail = hashlib.sha256(b"".join(thumb.chunks)).hexdigest()
            papers[document_id] = (opened.view.title, content, thumbnail)
    return papers
