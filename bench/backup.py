"""Backup and restore time on PostgreSQL + S3 (see bench/README.md "## backup").

    .venv/bin/python bench/backup.py --endpoint URL [--papers 200] [--jobs 1,8]

Fills a fresh database and bucket with --papers scans uploaded through the real pipeline
(three objects each: file, thumbnail, preview), then, for each --jobs value, times
`create_backup` into a new folder and `restore_backup` into a new, empty database and
bucket, and checks the restore found every document's objects. PostgreSQL: the admin URL
in LOCKER_TEST_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres);
S3 credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

# bench/ holds a crypto.py of its own: take this folder off the import path.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from crypto.keyring import create_keyfile  # noqa: E402
from locker import accounts  # noqa: E402
from locker.actors import utc_now  # noqa: E402
from locker.backup import (  # noqa: E402
    RestoreOptions,
    RestoreTarget,
    create_backup,
    restore_backup,
)
from locker.db import make_engine  # noqa: E402
from locker.parts import open_object_store  # noqa: E402
from locker.schema import upgrade_schema  # noqa: E402
from locker.settings import load_settings  # noqa: E402
from locker.storage import ObjectStore  # noqa: E402
from tests.factories import upload  # noqa: E402
from tests.s3_server import S3Server, make_bucket, remove_bucket  # noqa: E402
from web.app import create_app  # noqa: E402

PG_ADMIN = os.environ.get(
    "LOCKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def database(migrated: bool) -> Iterator[str]:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"locker_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    if migrated:
        engine = make_engine(url)
        upgrade_schema(engine)
        engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def bucket(server: S3Server) -> Iterator[str]:
    name = make_bucket(server)
    try:
        yield name
    finally:
        remove_bucket(server, name)


def settings_env(server: S3Server, url: str, bucket_name: str, data_dir: Path) -> dict[str, str]:
    return {
        "LOCKER_DATA_DIR": str(data_dir),
        "LOCKER_DATABASE_URL": url,
        "LOCKER_SECRET_KEY": secrets.token_urlsafe(40),
        "LOCKER_STORAGE_URL": f"s3://{bucket_name}",
        "LOCKER_S3_ENDPOINT_URL": server.endpoint_url,
        "LOCKER_S3_REGION": server.region,
    }


def fill(env: dict[str, str], papers: int) -> None:
    settings = load_settings(env, create=True)
    create_keyfile(settings.master_key_file)
    app = create_app(settings, config={"TESTING": True})
    found = app.extensions["locker"]
    found.store.ensure_ready()
    with found.session_factory() as session:
        person = accounts.create_person(
            session,
            found.keyring,
            utc_now,
            username="bench",
            display_name="B",
            password="a long enough password",
        )
        session.commit()
        for number in range(papers):
            upload(found, session, utc_now, person, f"Papier {number}", "other")
    found.engine.dispose()


def run(server: S3Server, papers: int, jobs_list: list[int]) -> None:
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(database(migrated=True))
        source_env = settings_env(server, url, stack.enter_context(bucket(server)), workdir)
        started = time.monotonic()
        fill(source_env, papers)
        print(f"filled {papers} papers in {time.monotonic() - started:.1f} s")
        source = load_settings(source_env)
        store = open_object_store(source)
        print("| jobs | objects | MB | backup s | restore s |")
        print("|---|---|---|---|---|")
        for jobs in jobs_list:
            folder = workdir / f"backup-{jobs}"
            made = create_backup(url, store, folder, utc_now, jobs=jobs)
            with database(migrated=False) as fresh, bucket(server) as empty:
                env = settings_env(server, fresh, empty, workdir / f"target-{jobs}")
                target_store: ObjectStore = open_object_store(load_settings(env, create=True))
                target = RestoreTarget(fresh, target_store, workdir / f"witness-{jobs}")
                restored = restore_backup(folder, target, RestoreOptions(jobs=jobs))
                assert restored.missing_documents == ()
            manifest = made.manifest
            print(
                f"| {jobs} | {manifest.object_count} | {manifest.object_bytes / 1e6:.1f} "
                f"| {made.seconds:.2f} | {restored.seconds:.2f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="S3 endpoint URL")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--papers", type=int, default=200)
    parser.add_argument("--jobs", default="1,8", help="comma-separated thread counts")
    args = parser.parse_args()
    server = S3Server(
        kind="external",
        upstream_url=args.endpoint,
        access_key=os.environ["AWS_ACCESS_KEY_ID"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region=args.region,
    )
    run(server, args.papers, [int(jobs) for jobs in args.jobs.split(",")])


if __name__ == "__main__":
    main()
