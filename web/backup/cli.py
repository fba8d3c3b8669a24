"""`locker backup DEST` and `locker restore SRC`: the database and the store's ciphertext,
checked whole before anything is restored (docs/operations.md, "Backup and restore")."""

from __future__ import annotations

from pathlib import Path

import click

from crypto.errors import CryptoError
from locker.actors import utc_now
from locker.backup import RestoreOptions, RestoreTarget, create_backup, restore_backup
from locker.backup.database import database_is_empty
from locker.backup.keys import KeyCheck, check_person_keys
from locker.errors import LockerError
from locker.key_provider import open_keyring
from locker.parts import open_object_store
from locker.settings import Settings
from web.commands import command_session, command_settings, emit, failure

PG_BIN = click.option(
    "--pg-bin",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="folder of pg_dump and pg_restore of the server's major version (default: PATH)",
)
JOBS = click.option(
    "--jobs",
    type=click.IntRange(1, 10),
    default=8,
    show_default=True,
    help="objects copied at once (the S3 client keeps 10 connections)",
)


@click.command()
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--witness",
    is_flag=True,
    help="also copy the audit witness folder's checkpoints (LOCKER_AUDIT_WITNESS_DIR)",
)
@PG_BIN
@JOBS
def backup(destination: Path, witness: bool, pg_bin: Path | None, jobs: int) -> None:
    """Back up the database and every object documents name into DESTINATION (a new
    folder), with a manifest of SHA-256 sums. Needs no key: objects stay encrypted, and
    the key file is backed up apart. Prints {"digest", ...}: note the digest elsewhere."""
    settings = command_settings()
    try:
        report = create_backup(
            settings.database_url,
            open_object_store(settings),
            destination,
            utc_now,
            witness_dir=settings.audit_witness_dir if witness else None,
            pg_bin=pg_bin,
            jobs=jobs,
        )
    except LockerError as exc:
        raise failure(exc) from exc
    manifest = report.manifest
    emit(
        {
            "folder": str(report.folder),
            "digest": report.digest,
            "migration_revision": manifest.migration_revision,
            "objects": manifest.object_count,
            "object_bytes": manifest.object_bytes,
            "database_bytes": manifest.database_bytes,
            "audit_records": manifest.audit_tree_size,
            "witness_files": manifest.witness_files,
            "missing_objects": list(manifest.missing_objects),
            "seconds": round(report.seconds, 2),
        }
    )
    if manifest.missing_objects:
        click.echo(
            f"{len(manifest.missing_objects)} object(s) documents name were not in the store; "
            "the backup is whole otherwise (see `locker storage reconcile`)",
            err=True,
        )
        raise SystemExit(1)


@click.command()
@click.argument("source", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--check-only", is_flag=True, help="verify the backup whole; write nothing")
@click.option(
    "--force",
    is_flag=True,
    help="restore over a database or store that holds data (it is replaced)",
)
@click.option(
    "--witness",
    is_flag=True,
    help="put the backup's checkpoints into LOCKER_AUDIT_WITNESS_DIR (never over others)",
)
@click.option("--expect-digest", default=None, help="the digest `locker backup` printed")
@PG_BIN
@JOBS
def restore(
    source: Path,
    check_only: bool,
    force: bool,
    witness: bool,
    expect_digest: str | None,
    pg_bin: Path | None,
    jobs: int,
) -> None:
    """Restore SOURCE into the database and store of the settings: every file is checked
    against the manifest first, and an empty target is required (--force to replace).
    Run again after an interruption: it carries on. Then every person key is tried with
    the key file put back. Exits 1 if documents lack objects or person keys do not open."""
    settings = command_settings(create=True)
    target = RestoreTarget(
        settings.database_url, open_object_store(settings), settings.audit_witness_dir
    )
    options = RestoreOptions(force, witness, check_only, expect_digest, pg_bin, jobs)
    try:
        if not check_only:
            target.store.ensure_ready()
        report = restore_backup(source, target, options)
    except LockerError as exc:
        raise failure(exc) from exc
    try:
        # With --check-only on a database restored earlier, the keys put back are tried.
        restored = not check_only or not database_is_empty(settings.database_url)
        keys, key_file_failed = _check_keys(settings) if restored else (None, False)
    except LockerError as exc:
        raise failure(exc) from exc
    emit(
        {
            "digest": report.digest,
            "checked_only": check_only,
            "created_at": report.manifest.created_at,
            "migration_revision": report.manifest.migration_revision,
            "audit_records": report.manifest.audit_tree_size,
            "objects_written": report.objects_written,
            "objects_already_there": report.objects_already_there,
            "foreign_objects": report.foreign_objects,
            "witness_files_written": report.witness_files_written,
            "witness_ahead_of_log": report.witness_ahead_of_log,
            "missing_documents": list(report.missing_documents),
            "person_keys_checked": None if keys is None else keys.checked,
            "person_keys_unreadable": [] if keys is None else list(keys.unreadable),
            "seconds": round(report.seconds, 2),
        }
    )
    _explain(report.witness_ahead_of_log, report.manifest.audit_tree_size, report.foreign_objects)
    if report.missing_documents:
        click.echo(f"{len(report.missing_documents)} document(s) have no object", err=True)
    if keys is not None and keys.unreadable:
        click.echo(
            f"{len(keys.unreadable)} of {keys.checked} person key(s) do not open with this "
            "key file: a key backup older than the database, or accounts closed after the "
            "backup (docs/operations.md)",
            err=True,
        )
    if report.missing_documents or key_file_failed or (keys is not None and keys.unreadable):
        raise SystemExit(1)


def _check_keys(settings: Settings) -> tuple[KeyCheck | None, bool]:
    """Every restored person key tried with the key file put back (None without one), and
    whether the key file itself failed to open."""
    if not settings.master_key_file.exists():
        click.echo(
            "No key file at LOCKER_MASTER_KEY_FILE: put the key backup back, then run "
            "`locker restore SRC --check-only`: it tries the restored persons' keys",
            err=True,
        )
        return None, False
    try:
        keyring = open_keyring(settings)
    except CryptoError as exc:  # after a restore: its report is printed all the same
        click.echo(f"LOCKER_MASTER_KEY_FILE cannot be read: {exc}", err=True)
        return None, True
    with command_session(settings) as session:
        return check_person_keys(session, keyring), False


def _explain(ahead: int | None, tree_size: int, foreign: int) -> None:
    if ahead is not None:
        click.echo(
            f"The witness signed {ahead} audit records; the backup holds {tree_size}: the "
            "records after it were lost, and `locker audit verify` will say so. Keep that "
            "witness as the record of it (docs/operations.md).",
            err=True,
        )
    if foreign:
        click.echo(
            f"{foreign} object(s) of the store are not this backup's: `locker storage "
            "reconcile --fix` removes them",
            err=True,
        )


commands = [backup, restore]
