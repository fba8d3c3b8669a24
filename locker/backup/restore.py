"""Restoring a backup into a fresh database and bucket, every file checked first.

Nothing is written before the whole backup checks out and the targets are found empty
(or holding only this backup's own objects, which a restore interrupted before leaves:
run again, it carries on). The objects go first, the database last in one transaction,
so a database that holds rows always has its objects.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy.orm import Session

from locker.backup.database import (
    database_is_empty,
    dialect_of,
    read_facts,
    restore_database,
)
from locker.backup.manifest import (
    WITNESS_NAME,
    Contents,
    Manifest,
    file_sha256,
    hash_chunks,
    object_path,
    read_file,
    read_manifest,
    verify_backup,
)
from locker.backup.parallel import in_parallel
from locker.db import make_engine
from locker.errors import BackupInvalid, TargetRefused
from locker.reconcile import reconcile_storage
from locker.schema import known_revisions
from locker.storage import ObjectStore


@dataclass(frozen=True)
class RestoreTarget:
    """Where a backup goes: a database, a store, and the audit witness folder."""

    database_url: str
    store: ObjectStore
    witness_dir: Path


@dataclass(frozen=True)
class RestoreOptions:
    """`force`: replace what the targets hold; `witness`: put the backup's checkpoints in
    the witness folder; `check_only`: verify the backup and write nothing."""

    force: bool = False
    witness: bool = False
    check_only: bool = False
    expect_digest: str | None = None
    pg_bin: Path | None = None
    jobs: int = 8


@dataclass(frozen=True)
class RestoreReport:
    """What the restore did and found afterwards."""

    digest: str
    manifest: Manifest
    objects_written: int = 0
    objects_already_there: int = 0
    # Objects of the bucket this backup does not hold, left as they were (with `force`).
    foreign_objects: int = 0
    witness_files_written: int = 0
    # The largest checkpoint on the witness that signs more records than were restored.
    witness_ahead_of_log: int | None = None
    missing_documents: tuple[str, ...] = ()
    seconds: float = 0.0


def check_backup(folder: Path, expect_digest: str | None = None) -> tuple[Manifest, str, Contents]:
    """The manifest, its digest and the listed files, every one checked; BackupInvalid if
    anything is missing, extra, altered, or from a newer version."""
    manifest, digest = read_manifest(folder, expect_digest)
    contents = verify_backup(folder, manifest)
    unknown = set(manifest.migration_revision.split(",")) - known_revisions()
    if unknown:
        raise BackupInvalid(
            f"the backup's schema revision {manifest.migration_revision} is newer than this "
            "version knows: restore it with the version that made it"
        )
    return manifest, digest, contents


def restore_backup(folder: Path, target: RestoreTarget, options: RestoreOptions) -> RestoreReport:
    """Check the backup whole, check the targets, then write objects, database, witness."""
    started = time.monotonic()
    manifest, digest, contents = check_backup(folder, options.expect_digest)
    if options.check_only:
        return RestoreReport(digest, manifest, seconds=time.monotonic() - started)
    _check_database(manifest, target.database_url, options.force)
    there, foreign = _check_bucket(contents, target.store, options.force)
    if options.witness:
        _check_witness(folder, contents, target.witness_dir)
    wanted = sorted(key for key in contents.objects if key not in there)
    put = partial(_put_object, target.store, folder, contents.objects)
    written = sum(1 for _ in in_parallel(put, wanted, options.jobs))
    restore_database(
        target.database_url,
        folder / manifest.database_file,
        manifest.dialect,
        force=options.force,
        pg_bin=options.pg_bin,
    )
    witnessed = _write_witness(folder, contents, target.witness_dir) if options.witness else 0
    missing = _check_restored(manifest, target)
    return RestoreReport(
        digest,
        manifest,
        objects_written=written,
        objects_already_there=len(there),
        foreign_objects=len(foreign),
        witness_files_written=witnessed,
        witness_ahead_of_log=_witness_ahead(target.witness_dir, manifest.audit_tree_size),
        missing_documents=missing,
        seconds=time.monotonic() - started,
    )


def _check_database(manifest: Manifest, database_url: str, force: bool) -> None:
    if manifest.dialect != dialect_of(database_url):
        raise TargetRefused(f"this backup is of a {manifest.dialect} database, the target is not")
    if not force and not database_is_empty(database_url):
        raise TargetRefused(
            "the target database already has tables: restore into a fresh, empty database "
            "(or give --force to replace what it holds)"
        )


def _check_bucket(contents: Contents, store: ObjectStore, force: bool) -> tuple[set[str], set[str]]:
    """(keys already there with this backup's bytes, keys this backup does not hold)."""
    stored = set(store.list_keys())
    foreign = stored - contents.objects.keys()
    same = set()
    for key in stored & contents.objects.keys():
        digest = hashlib.sha256()
        for _ in hash_chunks(store.get(key), digest):
            pass
        if digest.hexdigest() == contents.objects[key]:
            same.add(key)
        elif not force:
            foreign.add(key)
    if foreign and not force:
        raise TargetRefused(
            f"the target store holds {len(foreign)} object(s) that are not this backup's: "
            "restore into a fresh, empty bucket or folder (or give --force)"
        )
    return same, foreign


def _check_witness(folder: Path, contents: Contents, witness_dir: Path) -> None:
    if not contents.witness:
        raise TargetRefused("this backup holds no copy of the witness (made without --witness)")
    for name in contents.witness:
        there = witness_dir / name
        # A witness only grows: a different checkpoint of the same size is never replaced.
        if there.exists() and file_sha256(there) != file_sha256(folder / "witness" / name):
            raise TargetRefused(
                f"the witness folder holds a different {name}: a forked history, or another "
                "service's witness; restore into the right (or an empty) witness folder"
            )


def _put_object(store: ObjectStore, folder: Path, sums: dict[str, str], key: str) -> None:
    digest = hashlib.sha256()
    store.put(key, hash_chunks(read_file(folder / object_path(key)), digest))
    if digest.hexdigest() != sums[key]:  # the file changed since it was checked
        store.delete(key)
        raise BackupInvalid(f"{object_path(key)} changed during the restore")


def _write_witness(folder: Path, contents: Contents, witness_dir: Path) -> int:
    witness_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = 0
    for name in sorted(contents.witness):
        there = witness_dir / name
        if there.exists():
            continue  # checked equal before anything was written
        with there.open("xb") as handle:
            handle.write((folder / "witness" / name).read_bytes())
        written += 1
    return written


def _check_restored(manifest: Manifest, target: RestoreTarget) -> tuple[str, ...]:
    """The restored database says what the manifest said; the documents without objects."""
    engine = make_engine(target.database_url)
    try:
        with engine.connect() as conn:
            facts = read_facts(conn)
        with Session(engine) as session:
            missing = reconcile_storage(session, target.store).missing
    finally:
        engine.dispose()
    if (facts.migration_revision, facts.audit_tree_size) != (
        manifest.migration_revision,
        manifest.audit_tree_size,
    ):
        raise BackupInvalid("the restored database differs from what the manifest describes")
    return tuple(missing)


def _witness_ahead(witness_dir: Path, tree_size: int) -> int | None:
    sizes = [
        int(found.group(1))
        for path in witness_dir.glob("checkpoint-*.txt")
        if (found := WITNESS_NAME.fullmatch(path.name)) is not None
    ]
    ahead = [size for size in sizes if size > tree_size]
    return max(ahead) if ahead else None
