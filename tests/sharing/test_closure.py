"""A person closes their account: every object gone from the store at once, their key
destroyed, every professional's way in gone, the audit log still verifying."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.errors import CryptoError, KeyNotFound
from locker.accounts import person_key, person_key_aad
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
    # Her key cannot be had again: the stored copy is gone, and the copy a backup taken
    # before holds is sealed under her erasure key, destroyed with the account.
    with pytest.raises(CryptoError):
        found.keyring.unwrap(b"", person_key_aad(world.alice.id))
    with pytest.raises(KeyNotFound):
        person_key(found.keyring, Person(id=world.alice.id, wrapped_person_key=wrapped))
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


def _rows(session: Session, model: type[Any], **where: str) -> list[dict[str, Any]]:
    query = select(model).filter_by(**where)
    columns = model.__table__.columns
    return [{c.key: getattr(row, c.key) for c in columns} for row in session.scalars(query)]


def test_a_backup_from_before_the_closure_restores_nothing_readable(
    app: Flask, clock: Clock
) -> None:
    """The drill: her rows and objects saved before she closes her account, put back
    after it (a restored database and bucket), opened with the service's keys of today."""
    world = build_world(app, clock)
    found = app.extensions["locker"]
    with found.session_factory() as session:
        person = _rows(session, Person, id=world.alice.id)[0]
        papers = _rows(session, Document, person_id=world.alice.id)
    objects = {
        key: b"".join(found.store.get(key))
        for paper in papers
        for key in (paper["object_key"], paper["thumbnail_key"], paper["preview_key"])
        if key
    }
    client = app.test_client()
    token = token_for(client, world.alice.username)
    content = f"/api/v1/documents/{world.doc}/content"
    before = client.get(content, headers=bearer(token))
    assert before.status_code == 200  # the drill's control: this backup was readable
    closed = client.post(
        "/api/v1/me/close", json={"password": "correct horse battery"}, headers=bearer(token)
    )
    assert closed.status_code == 202

    with found.session_factory() as session:
        row = session.get(Person, world.alice.id)
        for column, value in person.items():
            setattr(row, column, value)
        session.add_all(Document(**paper) for paper in papers)
        session.commit()
    for key, blob in objects.items():
        found.store.put(key, [blob])
    # Everything is back as it was, her password too; nothing of hers decrypts.
    restored = token_for(client, world.alice.username)
    after = client.get(content, headers=bearer(restored))
    assert after.status_code == 502 and after.data != before.data
    listed = client.get(f"/api/v1/persons/{world.alice.id}/documents", headers=bearer(restored))
    assert listed.status_code != 200 and b"Carte" not in listed.data
    # Bob's key, sealed the same way, still opens his: only hers was destroyed.
    bob = token_for(client, world.bob.username)
    theirs = client.get(f"/api/v1/documents/{world.bob_doc}/content", headers=bearer(bob))
    assert theirs.status_code == 200
