"""Reading a person's titles is an access the person sees, recorded before it is shown.

Issue 11, point 6: lists and descriptions by anyone but the person are on the log, and
when the log cannot be written they answer 503, showing nothing.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from locker.models import AuditRecord
from tests.conftest import bearer, token_for
from tests.factories import Clock, World, build_world


def _token(client: FlaskClient, world: World, name: str) -> str:
    user = world.users[name]
    return token_for(client, getattr(user, "email", None) or user.username)


def _reads(app: Flask, actor_id: str) -> list[tuple[str, str | None, str | None]]:
    with app.extensions["locker"].session_factory() as session:
        rows = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.actor_id == actor_id, AuditRecord.outcome == "allowed")
            .where(AuditRecord.action.in_(["document:describe", "person:list_documents"]))
            .order_by(AuditRecord.seq)
        )
        return [(r.action, r.document_id, r.on_behalf_of) for r in rows]


READS = {
    "intervenor_grant": ["/api/v1/documents/{doc}", "/api/v1/professionals/me/persons"],
    "helper_view": [
        "/api/v1/documents/{doc}",
        "/api/v1/persons/{person}/documents",
        "/api/v1/persons/{person}/trash",
    ],
}


@pytest.mark.no_csrf
def test_every_title_read_by_a_professional_is_on_the_persons_log(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    for name, paths in READS.items():
        token = _token(client, world, name)
        for path in paths:
            url = path.format(doc=world.doc, person=world.alice.id)
            assert client.get(url, headers=bearer(token)).status_code == 200, (name, url)
        reads = _reads(app, world.users[name].id)
        assert (
            "document:describe",
            world.doc,
            None if name != "helper_view" else world.alice.id,
        ) in reads
        lists = [r for r in reads if r[0] == "person:list_documents"]
        assert len(lists) == len(paths) - 1, reads  # one record per list shown
    # The person reading their own titles is not an access to record.
    owner = _token(client, world, "owner")
    assert client.get(f"/api/v1/documents/{world.doc}", headers=bearer(owner)).status_code == 200
    assert _reads(app, world.alice.id) == []


@pytest.mark.no_csrf
def test_no_title_is_shown_when_the_read_cannot_be_recorded(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    tokens = {name: _token(client, world, name) for name in READS}
    with app.extensions["locker"].engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_records"))
    for name, paths in READS.items():
        for path in paths:
            url = path.format(doc=world.doc, person=world.alice.id)
            response = client.get(url, headers=bearer(tokens[name]))
            assert response.status_code == 503, (name, url, response.status_code)
            assert response.get_json()["error"] == "audit_unavailable"
            assert b"Carte d" not in response.get_data()
