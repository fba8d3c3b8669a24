"""A person closes their account: every object gone from the store at once, their key
destroyed, every professional's way in gone, the audit log still verifying."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from crypto.errors import CryptoError
from locker.accounts import person_key_aad
from locker.documents import document_keys
from locker.models import AuditRecord, AuthSession, Document, Person
from sharing.models import AccompanimentMember, Grant, Mandate
from tests.conftest import bearer, token_for
from tests.factories import Clock, build_world
from tests.locker.test_audit_verify import verify
from tests.web.test_pages import csrf, sign_in


def _count(app: Flask, model: type, **where: str) -> int:
    with app.extensions["locker"].session_factory() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(session.scalar(query) or 0)


def test_closing_deletes_everything_and_keeps_the_log_whole(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    found = app.extensions["locker"]
    with found.session_factory() as session:
        mine = session.scalars(select(Document).where(Document.person_id == world.alice.id)).all()
        her_objects = {key for d in mine for key in document_keys(d)}
        wrapped = session.get(Person, world.alice.id).wrapped_person_key
    theirs = set(found.store.list_keys()) - her_objects  # bob's papers stay
    assert her_objects and theirs
    client = app.test_client()
    token = token_for(client, world.alice.username)
    pro = token_for(client, world.users["referent_grant"].email)  # type: ignore[union-attr]
    helper = token_for(client, world.users["helper_view"].email)  # type: ignore[union-attr]
    assert client.get(f"/api/v1/documents/{world.doc}", headers=bearer(pro)).status_code == 200

    wrong = client.post("/api/v1/me/close", json={"password": "nope"}, headers=bearer(token))
    assert wrong.status_code == 403 and _count(app, Document, person_id=world.alice.id) == 2
    closed = client.post(
        "/api/v1/me/close", json={"password": "correct horse battery"}, headers=bearer(token)
    )
    assert closed.status_code == 202

    # The store (a real bucket on the S3 stack) holds nothing of hers, and all of bob's.
    assert set(found.store.list_keys()) == theirs
    # Her token is dead; her papers answer 404 to everyone; no list, grant or mandate left.
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    for who in (pro, helper):
        assert client.get(f"/api/v1/documents/{world.doc}", headers=bearer(who)).status_code == 404
        listed = client.get(f"/api/v1/persons/{world.alice.id}/documents", headers=bearer(who))
        assert listed.status_code == 404
    for model in (AccompanimentMember, Grant, Mandate, Document):
        assert _count(app, model, person_id=world.alice.id) == 0, model
    live = (
        select(func.count())
        .select_from(AuthSession)
        .where(AuthSession.user_id == world.alice.id, AuthSession.revoked_at.is_(None))
    )
    with found.session_factory() as session:
        assert session.scalar(live) == 0
        row = session.get(Person, world.alice.id)
        assert row.closed_at is not None and row.wrapped_person_key == b""
        assert row.display_name == "" and world.alice.username not in row.username
    # Her key cannot be had again: the stored copy is gone, and the old one unwraps only
    # with her id (a pre-closure database backup: see docs/closure.md for what it holds).
    with pytest.raises(CryptoError):
        found.keyring.unwrap(b"", person_key_aad(world.alice.id))
    assert found.keyring.unwrap(wrapped, person_key_aad(world.alice.id))
    # She cannot sign in; her username is free again. One record, and the log verifies.
    assert (
        client.post(
            "/api/v1/auth/token",
            json={"username": world.alice.username, "password": "correct horse battery"},
        ).status_code
        == 401
    )
    assert _count(app, AuditRecord, action="account:close") == 1
    report = verify(app)
    assert report.ok, report


def test_the_settings_page_offers_the_export_then_closes(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    person = app.test_client()
    assert sign_in(person, world.alice.username).status_code == 302
    page = person.get("/settings/close").get_data(as_text=True)
    assert 'href="/settings/export"' in page and 'id="close-confirm"' in page
    token = csrf(person, "/settings/close")
    wrong = person.post("/settings/close", data={"password": "nope", "csrf_token": token})
    assert wrong.status_code == 403 and 'href="#password"' in wrong.get_data(as_text=True)
    done = person.post(
        "/settings/close", data={"password": "correct horse battery", "csrf_token": token}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/sign-in")
    assert "Votre compte est fermé" in person.get("/sign-in").get_data(as_text=True)
    assert person.get("/papers").status_code == 302  # signed out
    assert _count(app, Document, person_id=world.alice.id) == 0
