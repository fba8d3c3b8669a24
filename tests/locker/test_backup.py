"""The backup and restore drill, on both stacks: back up, destroy, restore into a fresh
database and a fresh bucket; every paper opens with the same bytes, and the audit log
verifies. A damaged, incomplete or altered backup, and a target holding data, are refused
before anything is written."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from crypto.keyring import create_keyfile
from locker.actors import Actor
from locker.backup import RestoreOptions, RestoreTarget, restore_backup
from locker.backup.manifest import (
    MANIFEST,
    SUMS,
    file_sha256,
    object_path,
    read_manifest,
    write_manifest,
)
from locker.errors import BackupInvalid, DocumentDamaged, NotFound, TargetRefused
from locker.models import Document
from locker.schema import upgrade_schema
from locker.settings import Settings
from sharing.documents import open_document_for
from tests.backup_targets import (  # noqa: F401  (fixture)
    Target,
    env_of,
    fresh_target,
    read_every_paper,
    upload_sample,
)
from tests.factories import Clock, World, build_world, context
from web.app import create_app
from web.cli import main


def locker(env: dict[str, str], *args: str) -> Result:
    """`locker ARGS` with the settings of `env`, in this process."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def json_of(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert isinstance(body, dict)
    return body


def seeded(app: Flask, clock: Clock) -> World:
    """Two persons with papers of three kinds (a scan, a PDF letter, a photo), shares,
    mandates, and audit records of uploads and of a referent's reading."""
    world = build_world(app, clock)
    upload_sample(app, clock, world.alice.id, "caf_letter.pdf", "Lettre CAF", "income_benefits")
    upload_sample(app, clock, world.bob.id, "id_photo_gps.jpg", "Photo d'identité", "identity")
    found = app.extensions["locker"]
    with found.session_factory() as session:  # a share used: the referent reads
        referent = world.users["referent_grant"]
        ctx = context(found, session, pro_actor(referent.id))
        b"".join(open_document_for(ctx, document_id=world.doc).chunks)
    return world


def pro_actor(professional_id: str) -> Actor:
    return Actor(kind="professional", id=professional_id, role="professional")


def sign_checkpoint(settings: Settings) -> None:
    """`locker audit checkpoint`: the log signed now, and copied to the witness."""
    assert locker(env_of(settings), "audit", "checkpoint").exit_code == 0


def backup_of(settings: Settings, folder: Path) -> dict[str, object]:
    sign_checkpoint(settings)
    return json_of(locker(env_of(settings), "backup", str(folder), "--witness"))


def destroy(app: Flask, settings: Settings) -> None:
    """The disaster: the database and every object gone."""
    found = app.extensions["locker"]
    for key in list(found.store.list_keys()):
        found.store.delete(key)
    found.engine.dispose()
    if settings.embedded:
        Path(str(found.engine.url.database)).unlink()
        return
    database = found.engine.url.database
    admin = create_engine(found.engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
    admin.dispose()


def test_drill_back_up_destroy_restore_every_paper_opens_and_the_log_verifies(
    app: Flask, settings: Settings, clock: Clock, target: Target, tmp_path: Path
) -> None:
    world = seeded(app, clock)
    before = read_every_paper(app)
    assert len(before) == 5
    folder = tmp_path / "backup"
    made = backup_of(settings, folder)
    assert made["objects"] == 15  # file, thumbnail and preview of each paper
    assert made["missing_objects"] == [] and made["witness_files"] == 1
    target.bring_keys(settings)  # the keyring comes back from its own backup
    destroy(app, settings)

    restored = json_of(
        locker(
            target.env, "restore", str(folder), "--witness", "--expect-digest", str(made["digest"])
        )
    )
    assert restored["objects_written"] == 15 and restored["missing_documents"] == []
    assert restored["witness_files_written"] == 1
    assert (restored["person_keys_checked"], restored["person_keys_unreadable"]) == (2, [])
    verified = json_of(locker(target.env, "audit", "verify"))
    assert verified["ok"] and verified["witness_checkpoints_checked"] == 1
    assert verified["tree_size"] == made["audit_records"]

    again = create_app(target.settings, clock=clock)
    try:
        assert read_every_paper(again) == before
        found = again.extensions["locker"]
        with found.session_factory() as session:  # the shares came back as they were
            referent, revoked = (
                world.users[name] for name in ("referent_grant", "intervenor_revoked")
            )
            ctx = context(found, session, pro_actor(referent.id))
            assert b"".join(open_document_for(ctx, document_id=world.doc).chunks)
            with pytest.raises(NotFound):
                open_document_for(ctx.acting(pro_actor(revoked.id)), document_id=world.doc)
    finally:
        again.extensions["locker"].engine.dispose()
    # The openings above are on the restored log, which still verifies...
    assert json_of(locker(target.env, "audit", "verify"))["ok"]
    # ...and is still append-only: its triggers came back with it.
    engine = create_engine(target.settings.database_url)
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET reason = 'x' WHERE seq = 1"))
    engine.dispose()


def flip_object_byte(folder: Path) -> None:
    path = next(p for p in (folder / "objects").rglob("*") if p.is_file())
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def edit_manifest(folder: Path) -> None:
    body = json.loads((folder / MANIFEST).read_text())
    body["object_count"] -= 1
    (folder / MANIFEST).write_text(json.dumps(body))


def truncate_dump(folder: Path) -> None:
    dump = next(folder.glob("database.*"))
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])


def remove_object(folder: Path) -> None:
    next(p for p in (folder / "objects").rglob("*") if p.is_file()).unlink()


def add_object(folder: Path) -> None:
    key = "ab" * 16
    path = folder / object_path(key)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"not ours")


def resealed(folder: Path, **changes: object) -> None:
    """The manifest rewritten with `changes` and a digest that matches them (a forger's)."""
    manifest, _ = read_manifest(folder)
    write_manifest(folder, replace(manifest, **changes))  # type: ignore[arg-type]


def edit_manifest_and_its_digest(folder: Path) -> None:
    manifest, _ = read_manifest(folder)
    resealed(folder, object_count=manifest.object_count - 1)


def list_a_foreign_path(folder: Path) -> None:
    """A hostile SHA256SUMS naming a file outside the backup, the manifest resealed."""
    sums = folder / SUMS
    sums.write_text(sums.read_text() + f"{'0' * 64}  ../../etc/passwd\n")
    resealed(folder, sums_sha256=file_sha256(sums))


def drop_manifest(folder: Path) -> None:
    (folder / MANIFEST).unlink()


TAMPERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "object byte flipped": (flip_object_byte, "altered or damaged"),
    "manifest edited": (edit_manifest, "was altered"),
    "manifest edited, digest recomputed": (edit_manifest_and_its_digest, "the manifest counts"),
    "dump truncated": (truncate_dump, "database."),
    "object removed": (remove_object, "missing from the backup"),
    "object added": (add_object, "not in SHA256SUMS"),
    "foreign path listed": (list_a_foreign_path, "a path a backup never holds"),
    "manifest missing (unfinished)": (drop_manifest, "unfinished"),
}


def restore_target(fresh: Target) -> RestoreTarget:
    settings = fresh.settings
    return RestoreTarget(settings.database_url, fresh.store, settings.audit_witness_dir)


def test_a_damaged_or_incomplete_backup_is_refused_and_the_target_left_untouched(
    app: Flask, settings: Settings, clock: Clock, target: Target, tmp_path: Path
) -> None:
    seeded(app, clock)
    folder = tmp_path / "backup"
    backup_of(settings, folder)
    for name, (tamper, said) in TAMPERS.items():
        copy = tmp_path / name.replace(" ", "-")
        shutil.copytree(folder, copy)
        tamper(copy)
        with pytest.raises(BackupInvalid) as refused:
            restore_backup(copy, restore_target(target), RestoreOptions(witness=True))
        assert said in str(refused.value), (name, str(refused.value))
        assert target.is_untouched(), name
        refusal = locker(target.env, "restore", str(copy))
        assert refusal.exit_code == 1 and "backup_invalid" in refusal.output, name
    wrong = locker(target.env, "restore", str(folder), "--expect-digest", "0" * 64)
    assert wrong.exit_code == 1 and "not the one expected" in wrong.output
    assert target.is_untouched()
    checked = json_of(locker(target.env, "restore", str(folder), "--check-only"))
    assert checked["checked_only"] and checked["objects_written"] == 0
    assert target.is_untouched()
    # The untouched backup still restores.
    report = restore_backup(folder, restore_target(target), RestoreOptions(witness=True))
    assert report.objects_written == 15 and report.missing_documents == ()
    # The persons' keys are tried with the key file put back: another service's fails.
    create_keyfile(target.settings.master_key_file)
    other_keys = locker(target.env, "restore", str(folder), "--check-only")
    assert other_keys.exit_code == 1 and "2 of 2 person key(s) do not open" in other_keys.output
    target.bring_keys(settings)
    right_keys = json_of(locker(target.env, "restore", str(folder), "--check-only"))
    assert (right_keys["person_keys_checked"], right_keys["person_keys_unreadable"]) == (2, [])


def test_a_target_holding_data_is_refused_unless_forced(
    app: Flask, settings: Settings, clock: Clock, target: Target, tmp_path: Path
) -> None:
    seeded(app, clock)
    folder = tmp_path / "backup"
    backup_of(settings, folder)

    foreign = target.store.new_key()
    target.store.put(foreign, [b"another service's object"])
    with pytest.raises(TargetRefused, match="1 object"):
        restore_backup(folder, restore_target(target), RestoreOptions())
    assert list(target.store.list_keys()) == [foreign]
    target.store.delete(foreign)

    engine = create_engine(target.settings.database_url)
    upgrade_schema(engine)  # `locker init` was run on the target: tables, no rows
    engine.dispose()  # the service is stopped before a restore replaces its database
    with pytest.raises(TargetRefused, match="already has tables"):
        restore_backup(folder, restore_target(target), RestoreOptions())
    assert list(target.store.list_keys()) == []
    refusal = locker(target.env, "restore", str(folder))
    assert refusal.exit_code == 1 and "target_refused" in refusal.output

    report = restore_backup(folder, restore_target(target), RestoreOptions(force=True))
    assert report.objects_written == 15 and report.missing_documents == ()
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM documents")) == 5
    engine.dispose()


def test_an_interrupted_restore_carries_on_and_the_witness_tells_what_was_lost(
    app: Flask, settings: Settings, clock: Clock, target: Target, tmp_path: Path
) -> None:
    world = seeded(app, clock)
    folder = tmp_path / "backup"
    made = backup_of(settings, folder)
    # After the backup, the service goes on: more records, signed onto its witness.
    upload_sample(app, clock, world.alice.id, "scan.png", "Après la sauvegarde", "other")
    sign_checkpoint(settings)

    # A first restore stopped after a few objects: those are there, the database is not.
    objects = sorted(p for p in (folder / "objects").rglob("*") if p.is_file())
    for path in objects[:4]:
        target.store.put(path.name, [path.read_bytes()])
    shared_witness = RestoreTarget(
        target.settings.database_url, target.store, settings.audit_witness_dir
    )
    report = restore_backup(folder, shared_witness, RestoreOptions())
    assert (report.objects_already_there, report.objects_written) == (4, 11)
    # Restored beside the live witness, the records since the backup show as lost.
    assert report.witness_ahead_of_log is not None
    assert report.witness_ahead_of_log > int(str(made["audit_records"]))
    target.bring_keys(settings)
    beside_live = {**target.env, "LOCKER_AUDIT_WITNESS_DIR": str(settings.audit_witness_dir)}
    lost = locker(beside_live, "audit", "verify")
    assert lost.exit_code == 1 and "were removed" in lost.output


def test_a_forged_backup_with_matching_sums_still_cannot_pass_off_a_changed_paper(
    app: Flask, settings: Settings, clock: Clock, target: Target, tmp_path: Path
) -> None:
    """Sums only catch damage: a forger who rewrites them is caught by the encryption."""
    world = seeded(app, clock)
    folder = tmp_path / "backup"
    backup_of(settings, folder)
    with app.extensions["locker"].session_factory() as session:
        key = session.scalar(select(Document.object_key).where(Document.id == world.doc))
    forged = folder / object_path(str(key))
    data = bytearray(forged.read_bytes())
    data[-40] ^= 0x01
    forged.write_bytes(bytes(data))
    sums = folder / SUMS
    lines = [
        f"{file_sha256(forged)}  {object_path(str(key))}" if line.endswith(str(key)) else line
        for line in sums.read_text().splitlines()
    ]
    sums.write_text("\n".join(lines) + "\n")
    resealed(folder, sums_sha256=file_sha256(sums))

    report = restore_backup(folder, restore_target(target), RestoreOptions())
    assert report.missing_documents == ()
    target.bring_keys(settings)
    again = create_app(target.settings, clock=clock)
    try:
        found = again.extensions["locker"]
        with found.session_factory() as session:
            ctx = context(found, session, Actor(kind="person", id=world.alice.id))
            with pytest.raises(DocumentDamaged):
                b"".join(open_document_for(ctx, document_id=world.doc).chunks)
            assert b"".join(open_document_for(ctx, document_id=world.doc_plain).chunks)
    finally:
        found.engine.dispose()
