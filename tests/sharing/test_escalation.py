"""Mandates never widen who reads a paper (but "share"), never serve the helper; the trash hides.

Issue 11, points 3 and 10, on both stacks.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from locker.models import AuditRecord
from tests.conftest import bearer, token_for
from tests.factories import Clock, World, build_world


def _token(client: FlaskClient, world: World, name: str) -> str:
    user = world.users[name]
    return token_for(client, getattr(user, "email", None) or user.username)


def _category_grant(client: FlaskClient, owner: str, world: World, member: str, cat: str) -> None:
    shared = client.post(
        f"/api/v1/persons/{world.alice.id}/grants",
        headers=bearer(owner),
        json={"member_id": world.members[member].id, "category": cat},
    )
    assert shared.status_code == 201, shared.get_json()


@pytest.mark.no_csrf
def test_an_organise_helper_cannot_move_a_paper_where_others_read(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    owner, helper = _token(client, world, "owner"), _token(client, world, "helper_organise")
    reader = _token(client, world, "intervenor_grant")
    plain = f"/api/v1/documents/{world.doc_plain}"
    # The person shared the whole "health" category with the intervenor.
    _category_grant(client, owner, world, "intervenor_grant", "health")
    assert client.get(plain, headers=bearer(reader)).status_code == 404
    moved = client.patch(plain, headers=bearer(helper), json={"category": "health"})
    assert moved.status_code == 404
    assert client.get(plain, headers=bearer(reader)).status_code == 404
    assert client.get(plain, headers=bearer(owner)).get_json()["category"] == "taxes"
    with app.extensions["locker"].session_factory() as session:
        refused = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "document:categorise",
                AuditRecord.outcome == "denied",
                AuditRecord.document_id == world.doc_plain,
            )
        ).all()
        assert [r.reason for r in refused] == ["would_widen_readers"]
    # A move that shows the paper to nobody new is still the helper's to make.
    assert (
        client.patch(plain, headers=bearer(helper), json={"category": "housing"}).status_code == 200
    )
    # And the person may move it wherever they like.
    assert (
        client.patch(plain, headers=bearer(owner), json={"category": "health"}).status_code == 200
    )
    assert client.get(plain, headers=bearer(reader)).status_code == 200


@pytest.mark.no_csrf
def test_a_move_never_hands_the_helper_a_read_right(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    owner, helper = _token(client, world, "owner"), _token(client, world, "helper_organise")
    # The person lets the helper see their housing papers, not their taxes.
    _category_grant(client, owner, world, "helper_organise", "housing")
    plain = f"/api/v1/documents/{world.doc_plain}"
    assert client.get(f"{plain}/content", headers=bearer(helper)).status_code == 404
    moved = client.patch(plain, headers=bearer(helper), json={"category": "housing"})
    assert moved.status_code == 404
    assert client.get(f"{plain}/content", headers=bearer(helper)).status_code == 404


@pytest.mark.no_csrf
def test_a_share_helper_shares_for_the_person_never_with_themself(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    helper = _token(client, world, "helper_share")
    own = world.members["helper_share"].id
    plain = f"/api/v1/documents/{world.doc_plain}"
    to_self = client.post(f"{plain}/grants", headers=bearer(helper), json={"member_id": own})
    assert to_self.status_code == 404
    category_to_self = client.post(
        f"/api/v1/persons/{world.alice.id}/grants",
        headers=bearer(helper),
        json={"member_id": own, "category": "taxes"},
    )
    assert category_to_self.status_code == 404
    assert client.get(f"{plain}/content", headers=bearer(helper)).status_code == 404
    assert client.get(plain, headers=bearer(helper)).status_code == 404
    # Sharing with someone else on the list is exactly what the "share" scope is for.
    other = world.members["intervenor_grant"].id
    shared = client.post(f"{plain}/grants", headers=bearer(helper), json={"member_id": other})
    assert shared.status_code == 201
    reader = _token(client, world, "intervenor_grant")
    assert client.get(plain, headers=bearer(reader)).status_code == 200


@pytest.mark.no_csrf
def test_a_trashed_paper_vanishes_for_every_professional_until_restored(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    owner = _token(client, world, "owner")
    readers = {
        name: _token(client, world, name)
        for name in ("referent_grant", "intervenor_grant", "helper_view")
    }
    doc = f"/api/v1/documents/{world.doc}"

    def seen(name: str) -> list[int]:
        token = bearer(readers[name])
        listed = client.get("/api/v1/professionals/me/persons", headers=token).get_json()
        titles = [d["id"] for p in listed for d in p["documents"]]
        if name == "helper_view":
            listing = client.get(f"/api/v1/persons/{world.alice.id}/documents", headers=token)
            titles += [d["id"] for d in listing.get_json()]
        statuses = [client.get(doc + suffix, headers=token).status_code for suffix in PARTS]
        return [int(world.doc in titles), *statuses]

    for name in readers:
        assert seen(name) == [1, 200, 200, 200], name
    assert client.delete(doc, headers=bearer(owner)).status_code in {200, 204}
    for name in readers:
        assert seen(name) == [0, 404, 404, 404], name
    restored = client.post(f"{doc}/restore", headers=bearer(owner))
    assert restored.status_code in {200, 204}
    for name in readers:  # the grants were kept: the paper is back where it was
        assert seen(name) == [1, 200, 200, 200], name


PARTS = ("", "/content", "/thumbnail")
