"""Trash, restore, purge after 30 days, `locker purge`, `locker storage reconcile`, and the
headers and access rules of the thumbnail route."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from locker.models import AuditRecord, Document
from locker.reconcile import reconcile_storage
from locker.settings import Settings
from locker.trash import purge_trash
from sharing.retention import RETENTION
from tests.app_processes import settings_env
from tests.conftest import Actors, bearer
from tests.uploads.helpers import SAMPLES, api_upload, counts, person_token
from web.cli import main


def _upload(app: Flask, world: Actors, token: str, name: str = "scan.png") -> str:
    response = api_upload(
        app.test_client(), token, world.alice.id, [((SAMPLES / name).read_bytes(), name)]
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def _actions(app: Flask, document_id: str) -> list[str]:
    with app.extensions["locker"].session_factory() as session:
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.document_id == document_id)
        ).all()
        return [f"{r.action}:{r.outcome}" for r in sorted(rows, key=lambda r: r.seq)]


def test_trash_restore_and_purge(app: Flask, world: Actors) -> None:
    client = app.test_client()
    alice, bob = person_token(client), person_token(client, "bob")
    doc_id = _upload(app, world, alice)
    assert client.delete(f"/api/v1/documents/{doc_id}", headers=bearer(bob)).status_code == 404
    assert client.delete(f"/api/v1/documents/{doc_id}", headers=bearer(alice)).status_code == 204
    listing = client.get(f"/api/v1/persons/{world.alice.id}/documents", headers=bearer(alice))
    assert listing.get_json() == []
    trash = client.get(f"/api/v1/persons/{world.alice.id}/trash", headers=bearer(alice))
    assert [d["id"] for d in trash.get_json()] == [doc_id]
    assert trash.get_json()[0]["deleted_at"]
    assert (
        client.get(f"/api/v1/persons/{world.alice.id}/trash", headers=bearer(bob)).status_code
        == 404
    )
    # In the trash, nothing is served.
    for suffix in ("", "/content", "/thumbnail", "/preview"):
        got = client.get(f"/api/v1/documents/{doc_id}{suffix}", headers=bearer(alice))
        assert got.status_code == 404
    restore = f"/api/v1/documents/{doc_id}/restore"
    assert client.post(restore, headers=bearer(bob)).status_code == 404
    assert client.post(restore, headers=bearer(alice)).status_code == 204
    assert client.post(restore, headers=bearer(alice)).status_code == 404  # not in the trash
    assert (
        client.get(f"/api/v1/documents/{doc_id}/content", headers=bearer(alice)).status_code == 200
    )

    assert client.delete(f"/api/v1/documents/{doc_id}", headers=bearer(alice)).status_code == 204
    found = app.extensions["locker"]
    with found.session_factory() as session:
        # Day 29: still there, still restorable.
        report = purge_trash(session, found.store, lambda: datetime.now(UTC) + timedelta(days=29))
        assert report.purged == 0
        report = purge_trash(session, found.store, lambda: datetime.now(UTC) + timedelta(days=31))
        assert (report.purged, report.objects_left) == (1, 0)
    assert counts(app) == (0, 0)
    actions = _actions(app, doc_id)
    assert "document:trash:denied" in actions  # bob's attempt
    assert actions.count("document:trash:allowed") == 2
    assert "document:restore:allowed" in actions and "document:purge:allowed" in actions


def test_thumbnail_route_headers_and_access(app: Flask, world: Actors) -> None:
    client = app.test_client()
    alice, bob = person_token(client), person_token(client, "bob")
    doc_id = _upload(app, world, alice, "caf_letter.pdf")
    thumb = client.get(f"/api/v1/documents/{doc_id}/thumbnail", headers=bearer(alice))
    assert thumb.status_code == 200 and thumb.data.startswith(b"\xff\xd8\xff")
    assert thumb.headers["Content-Type"] == "image/jpeg"
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"
    assert thumb.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert thumb.headers["Cache-Control"] == "no-store"
    assert thumb.headers["Content-Disposition"].startswith("inline; filename=")
    assert "filename*=UTF-8''" in thumb.headers["Content-Disposition"]
    assert (
        client.get(f"/api/v1/documents/{doc_id}/thumbnail", headers=bearer(bob)).status_code == 404
    )
    assert client.get(f"/api/v1/documents/{doc_id}/thumbnail").status_code == 401
    actions = _actions(app, doc_id)
    assert "document:thumbnail:allowed" in actions and "document:thumbnail:denied" in actions


def test_a_tampered_thumbnail_is_an_error_not_an_image(app: Flask, world: Actors) -> None:
    client = app.test_client()
    alice = person_token(client)
    doc_id = _upload(app, world, alice)
    found = app.extensions["locker"]
    with found.session_factory() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.thumbnail_key is not None
        # The document's own object put where its thumbnail should be: same key, other AAD.
        found.store.put(doc.thumbnail_key, list(found.store.get(doc.object_key)))
    thumb = client.get(f"/api/v1/documents/{doc_id}/thumbnail", headers=bearer(alice))
    assert thumb.status_code == 502 and thumb.get_json()["error"] == "document_damaged"


def test_reconcile_and_purge_commands(app: Flask, world: Actors, settings: Settings) -> None:
    client = app.test_client()
    alice = person_token(client)
    kept, broken = _upload(app, world, alice), _upload(app, world, alice)
    found = app.extensions["locker"]
    orphan = found.store.new_key()
    found.store.put(orphan, [b"left by a crashed upload"])
    with found.session_factory() as session:
        doc = session.get(Document, broken)
        assert doc is not None
        found.store.delete(doc.object_key)
    runner = CliRunner()
    env = settings_env(settings)
    report = runner.invoke(main, ["storage", "reconcile"], env=env)
    assert report.exit_code == 1, report.output
    body = json.loads(report.output)
    assert body == {"orphans": [orphan], "missing_documents": [broken], "removed": []}
    fixed = runner.invoke(main, ["storage", "reconcile", "--fix", "--grace-seconds", "0"], env=env)
    assert json.loads(fixed.output)["removed"] == [orphan]
    assert not found.store.exists(orphan)
    with found.session_factory() as session:
        assert kept not in reconcile_storage(session, found.store).missing
    purge = runner.invoke(main, ["purge"], env=env)
    assert purge.exit_code == 0
    said = json.loads(purge.output)
    assert said.pop("forgotten") == dict.fromkeys(RETENTION, 0)
    assert said == {"purged": 0, "objects_left": 0, "grants_expired": 0}
    assert "purge" in runner.invoke(main, ["--help"]).output
    assert "reconcile" in runner.invoke(main, ["storage", "--help"]).output


def test_reconcile_never_removes_a_key_a_row_names(app: Flask, world: Actors) -> None:
    found = app.extensions["locker"]
    client = app.test_client()
    alice = person_token(client)
    doc_id = _upload(app, world, alice)
    with found.session_factory() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None
        keys = {doc.object_key, doc.thumbnail_key}
        # Simulate the in-flight window: the row is not visible yet when the store is listed.
        doc.object_key, saved = found.store.new_key(), doc.object_key
        session.commit()
        report = reconcile_storage(session, found.store)
        assert saved in report.orphans
        doc.object_key = saved
        session.commit()
        fixed = reconcile_storage(session, found.store, fix=True)
    assert saved not in fixed.removed
    assert all(found.store.exists(k) for k in keys if k)
