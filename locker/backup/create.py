"""Making a backup: the witness's checkpoints, then the database, then its objects.

Needs no key: objects are copied as the store holds them (ciphertext), and the database's
wrapped keys stay wrapped. The key provider is backed up apart (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from locker.actors import Clock
from locker.backup.database import dialect_of, dump_database
from locker.backup.manifest import (
    DATABASE_FILES,
    WITNESS_NAME,
    Manifest,
    file_sha256,
    hash_chunks,
    object_path,
    write_manifest,
    write_sums,
)
from locker.backup.parallel import in_parallel
from locker.errors import ObjectNotFound, TargetRefused
from locker.storage import ObjectStore


@dataclass(frozen=True)
class BackupReport:
    """What a backup holds, and the manifest digest to note down elsewhere."""

    folder: Path
    digest: str
    manifest: Manifest
    seconds: float


def create_backup(
    database_url: str,
    store: ObjectStore,
    folder: Path,
    clock: Clock,
    *,
    witness_dir: Path | None = None,
    pg_bin: Path | None = None,
    jobs: int = 8,
) -> BackupReport:
    """Write a whole backup into `folder` (absent or empty), manifest last.

    The witness is copied first: the service signs a checkpoint in the database before
    copying it to the witness, so every copied checkpoint is covered by the dump taken
    after, and the restored log verifies against them.
    """
    started = time.monotonic()
    if folder.exists() and any(folder.iterdir()):
        raise TargetRefused(f"{folder} is not empty: a backup goes into a new folder")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    sums = _copy_witness(witness_dir, folder) if witness_dir is not None else []
    witness_files = len(sums)
    dump = folder / DATABASE_FILES[dialect_of(database_url)]
    facts = dump_database(database_url, dump, pg_bin)
    database_sha256 = file_sha256(dump)
    sums.append((dump.name, database_sha256))
    missing: list[str] = []
    total = 0
    copies = in_parallel(partial(_copy_object, store, folder), sorted(facts.object_keys), jobs)
    for key, copied in copies:
        if copied is None:
            missing.append(key)
            continue
        sums.append((object_path(key), copied[0]))
        total += copied[1]
    manifest = Manifest(
        created_at=clock().isoformat(),
        dialect=facts.dialect,
        migration_revision=facts.migration_revision,
        database_sha256=database_sha256,
        database_bytes=dump.stat().st_size,
        object_count=len(facts.object_keys) - len(missing),
        object_bytes=total,
        missing_objects=tuple(missing),
        audit_tree_size=facts.audit_tree_size,
        audit_checkpoint_size=facts.audit_checkpoint_size,
        witness_files=witness_files,
        sums_sha256=write_sums(folder, sums),
    )
    digest = write_manifest(folder, manifest)
    return BackupReport(folder, digest, manifest, time.monotonic() - started)


def _copy_witness(witness_dir: Path, folder: Path) -> list[tuple[str, str]]:
    target = folder / "witness"
    target.mkdir(mode=0o700)
    sums = []
    for path in sorted(witness_dir.glob("checkpoint-*.txt")):
        if not WITNESS_NAME.fullmatch(path.name):
            continue
        copied = target / path.name
        copied.write_bytes(path.read_bytes())
        sums.append((f"witness/{path.name}", file_sha256(copied)))
    return sums


def _copy_object(store: ObjectStore, folder: Path, key: str) -> tuple[str, tuple[str, int] | None]:
    """Stream one object to its file: (key, (SHA-256, size)), or (key, None) when the store
    no longer has it. A partial file never stays."""
    target = folder / object_path(key)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = target.with_name(f"{target.name}.partial")
    digest = hashlib.sha256()
    size = 0
    try:
        with staging.open("wb") as handle:
            for chunk in hash_chunks(store.get(key), digest):
                handle.write(chunk)
                size += len(chunk)
        staging.replace(target)
    except ObjectNotFound:
        return key, None
    finally:
        staging.unlink(missing_ok=True)
    return key, (digest.hexdigest(), size)
