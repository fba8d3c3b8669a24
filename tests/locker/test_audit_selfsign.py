"""The service signs its own checkpoints to a witness outside the data dir (issue 11, 5).

The attack: someone with write access to the database truncates the records after the
last checkpoint in the database, deletes the database's checkpoints, and rebuilds the
tree tables so that they match. Nobody asked for a checkpoint; the service had signed
one by itself, on a witness the attacker could not reach with the data dir.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from locker.audit_models import AuditCheckpoint
from locker.checkpoints import (
    CHECKPOINT_EVERY_MINUTES,
    CHECKPOINT_EVERY_RECORDS,
    checkpoint_if_due,
    witness_notes,
)
from tests.conftest import Actors, bearer, sample, token_for
from tests.locker.test_audit_verify import rebuild_tree, row, tamper, verify


def _reads(client: FlaskClient, world: Actors, count: int) -> None:
    token = token_for(client, "alice")
    created = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers=bearer(token),
        data={"file": (io.BytesIO(sample("scan.png")), "scan.png")},
        content_type="multipart/form-data",
    )
    assert created.status_code == 201
    content = f"/api/v1/documents/{created.get_json()['id']}/content"
    for _ in range(count):  # each opening is a record
        assert client.get(content, headers=bearer(token)).status_code == 200


def test_the_service_signs_its_own_checkpoints_outside_the_data_dir(
    app: Flask, client: FlaskClient, world: Actors
) -> None:
    settings = app.extensions["locker"].settings
    witness: Path = settings.audit_witness_dir
    assert not witness.resolve().is_relative_to(settings.data_dir.resolve())
    _reads(client, world, 5)
    assert witness_notes(witness) == []  # a few records: not yet due
    _reads(client, world, 2 * CHECKPOINT_EVERY_RECORDS)
    sizes = [int(note.split("\n")[1]) for _, note in witness_notes(witness)]
    assert len(sizes) >= 2 and sizes[0] >= CHECKPOINT_EVERY_RECORDS, sizes
    assert sizes[-1] - sizes[0] >= CHECKPOINT_EVERY_RECORDS, sizes
    assert verify(app).ok


def test_a_quiet_log_is_signed_five_minutes_after_its_last_checkpoint(
    app: Flask, client: FlaskClient, world: Actors
) -> None:
    found = app.extensions["locker"]
    settings = found.settings
    _reads(client, world, 3)  # a few records, under the count

    def due_at(minutes: float) -> AuditCheckpoint | None:
        later = datetime.now(UTC) + timedelta(minutes=minutes)
        return checkpoint_if_due(
            found.session_factory,
            found.keyring.audit_signing_key(),
            lambda: later,
            origin=settings.audit_origin,
            witness_dir=settings.audit_witness_dir,
        )

    assert due_at(1) is None
    made = due_at(CHECKPOINT_EVERY_MINUTES + 1)
    assert made is not None and witness_notes(settings.audit_witness_dir)
    assert due_at(CHECKPOINT_EVERY_MINUTES + 2) is None  # nothing new since: nothing to sign


def test_a_truncation_after_the_last_database_checkpoint_is_caught_by_the_witness(
    app: Flask, client: FlaskClient, world: Actors
) -> None:
    _reads(client, world, CHECKPOINT_EVERY_RECORDS + 10)
    witnessed = max(
        int(note.split("\n")[1])
        for _, note in witness_notes(app.extensions["locker"].settings.audit_witness_dir)
    )
    keep = witnessed - 20  # the attacker keeps what they like, rebuilds the rest
    rows = [row(app, s) for s in range(keep)]
    tamper(
        app,
        (f"DELETE FROM audit_records WHERE seq >= {keep}", {}),
        ("DELETE FROM audit_checkpoints", {}),
        *rebuild_tree(rows),
    )
    report = verify(app)
    assert not report.ok
    assert report.first_bad_record == keep
    assert any("witness" in p and "removed" in p for p in report.problems), report.problems
