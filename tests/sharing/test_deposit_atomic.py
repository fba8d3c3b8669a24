"""A deposit is all-or-nothing: the paper, the depositor's grant, the notice and the audit
records are committed together; when any part fails, no row and no object is left."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from locker.actors import Actor
from locker.documents import UploadRequest
from locker.models import AuditRecord, Document
from locker.settings import Settings
from sharing.models import Grant, SharingNotice
from sharing.professionals import deposit_document
from tests.conftest import bearer, sample, token_for
from tests.factories import PNG, Clock, build_world, context
from web.app import create_app


def _state(app: Flask) -> tuple[int, int, int, int]:
    found = app.extensions["locker"]
    with found.session_factory() as s:
        docs = s.scalar(select(func.count()).select_from(Document)) or 0
        notices = s.scalar(select(func.count()).select_from(SharingNotice)) or 0
        records = s.scalar(select(func.count()).select_from(AuditRecord)) or 0
    return docs, notices, records, len(list(found.store.list_keys()))


def _deposit(app: Flask, clock: Clock, actor: Actor, person_id: str) -> str:
    found = app.extensions["locker"]
    with found.session_factory() as s:
        view = deposit_document(
            context(found, s, actor, clock),
            person_id=person_id,
            upload=UploadRequest(
                source=io.BytesIO(PNG),
                filename="attestation.png",
                title="Attestation",
                category="housing",
                max_bytes=10_000_000,
                limits=None,
                quota_bytes=None,
            ),
        )
        return view.id


@pytest.mark.no_csrf
def test_a_failing_grant_leaves_no_row_and_no_object(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    pro = world.users["intervenor_grant"]
    actor = Actor(kind="professional", id=pro.id, organization_id=world.org.id, role="professional")
    # It works, in one go: the paper, its grant and the notice are there together.
    did = _deposit(app, clock, actor, world.alice.id)
    found = app.extensions["locker"]
    with found.session_factory() as s:
        assert s.get(Document, did) is not None
        grant = s.scalars(select(Grant).where(Grant.document_id == did)).one()
        assert grant.origin == "deposit"
        assert s.scalars(select(SharingNotice).where(SharingNotice.document_id == did)).one()
        s.execute(text("DROP TABLE grants"))
        s.commit()
    before = _state(app)
    with pytest.raises(DBAPIError):
        _deposit(app, clock, actor, world.alice.id)
    # The same rows, the same records and the same objects as before: nothing half-done.
    assert _state(app) == before


@pytest.mark.parametrize(
    ("limit", "sample_name", "status", "error"),
    [
        ("quota", "scan.webp", 413, "quota_exceeded"),
        ("memory", "id_photo_gps.jpg", 422, "too_complex"),
        ("size", "id_photo_gps.jpg", 413, "too_large"),
    ],
)
def test_deposits_obey_the_persons_quota_and_the_sandbox_limits(
    settings: Settings, clock: Clock, limit: str, sample_name: str, status: int, error: str
) -> None:
    # A member's deposit fills the person's locker: the same size, quota and sandbox
    # limits as the person's own uploads, the same words when one is reached.
    tight = {
        "quota": {"quota_bytes": 64 * 1024},  # the world's three scans already weigh more
        "memory": {"sanitize_memory_mb": 24},
        "size": {"max_upload_bytes": 200 * 1024},
    }[limit]
    app = create_app(
        replace(settings, **tight),  # type: ignore[arg-type]
        config={"TESTING": True, "WTF_CSRF_ENABLED": False},
        clock=clock,
    )
    app.extensions["locker"].store.ensure_ready()
    world = build_world(app, clock)
    client = app.test_client()
    token = token_for(client, world.users["referent_grant"].email)  # type: ignore[union-attr]
    before = _state(app)
    deposited = client.post(
        f"/api/v1/persons/{world.alice.id}/deposits",
        headers={**bearer(token), "Accept-Language": "fr"},
        data={"file": (io.BytesIO(sample(sample_name)), sample_name), "title": "Attestation"},
        content_type="multipart/form-data",
    )
    assert deposited.status_code == status, deposited.get_json()
    assert deposited.get_json()["error"] == error
    assert deposited.get_json()["message"]  # said in words, not only a code
    assert _state(app)[0] == before[0] and _state(app)[3] == before[3]  # no paper, no object
    app.extensions["locker"].engine.dispose()
