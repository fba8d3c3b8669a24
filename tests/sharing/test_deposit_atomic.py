"""A deposit is all-or-nothing: the paper, the depositor's grant, the notice and the audit
records are committed together; when any part fails, no row and no object is left."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from locker.actors import Actor
from locker.models import AuditRecord, Document
from sharing.models import Grant, SharingNotice
from sharing.professionals import deposit_document
from tests.sharing.conftest import PNG, Clock, build_world


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
            s,
            found.session_factory,
            found.store,
            found.keyring,
            clock,
            actor=actor,
            person_id=person_id,
            source=io.BytesIO(PNG),
            filename="attestation.png",
            title="Attestation",
            category="housing",
            max_bytes=10_000_000,
        )
        return view.id


def test_a_failing_grant_leaves_no_row_and_no_object(sharing_app: Flask, clock: Clock) -> None:
    world = build_world(sharing_app, clock)
    pro = world.users["intervenor_grant"]
    actor = Actor(kind="professional", id=pro.id, organization_id=world.org.id, role="professional")
    # It works, in one go: the paper, its grant and the notice are there together.
    did = _deposit(sharing_app, clock, actor, world.alice.id)
    found = sharing_app.extensions["locker"]
    with found.session_factory() as s:
        assert s.get(Document, did) is not None
        grant = s.scalars(select(Grant).where(Grant.document_id == did)).one()
        assert grant.origin == "deposit"
        assert s.scalars(select(SharingNotice).where(SharingNotice.document_id == did)).one()
        s.execute(text("DROP TABLE grants"))
        s.commit()
    before = _state(sharing_app)
    with pytest.raises(DBAPIError):
        _deposit(sharing_app, clock, actor, world.alice.id)
    # The same rows, the same records and the same objects as before: nothing half-done.
    assert _state(sharing_app) == before
