"""Sharing through the API: lists, grants, revocation at once, deposits, mandates, recovery."""

from __future__ import annotations

import io
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from locker.models import AuditRecord
from sharing.organizations import set_digital_inclusion
from tests.conftest import PASSWORD, bearer, token_for
from tests.factories import PNG, Clock, World, build_world


def _tokens(client: FlaskClient, world: World, *names: str) -> dict[str, str]:
    out = {}
    for name in names:
        user = world.users[name]
        ident = getattr(user, "email", None) or user.username
        out[name] = token_for(client, ident)
    return out


@pytest.mark.no_csrf
def test_add_by_code_grant_then_revoke_takes_effect_on_open_token(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    t = _tokens(client, world, "owner", "other_org_pro")
    pid = world.alice.id
    code = client.get("/api/v1/me", headers=bearer(t["other_org_pro"])).get_json()["share_code"]
    assert code and len(code) == 8
    # Mass-assigned fields are ignored: it lands on alice's list, not bob's, not as referent.
    added = client.post(
        f"/api/v1/persons/{pid}/members",
        headers=bearer(t["owner"]),
        json={
            "professional_code": code.lower(),
            "mission": "CIP, Mission locale",
            "person_id": world.bob.id,
            "owner": world.bob.id,
            "role": "org_admin",
            "referent": True,
            "status": "requested",
        },
    )
    assert added.status_code == 201, added.get_json()
    member = added.get_json()
    assert member["status"] == "active" and member["referent"] is False
    again = client.post(
        f"/api/v1/persons/{pid}/members",
        headers=bearer(t["owner"]),
        json={"professional_code": code},
    )
    assert again.status_code == 409
    doc = f"/api/v1/documents/{world.doc}"
    assert client.get(doc, headers=bearer(t["other_org_pro"])).status_code == 404
    grant = client.post(
        f"{doc}/grants",
        headers=bearer(t["owner"]),
        json={"member_id": member["id"], "owner": world.bob.id},
    )
    assert grant.status_code == 201
    assert client.get(doc, headers=bearer(t["other_org_pro"])).get_json()["title"]
    content = client.get(f"{doc}/content", headers=bearer(t["other_org_pro"]))
    assert content.status_code == 200 and content.data
    # A grantee cannot re-share, neither the document nor its category.
    reshare = client.post(
        f"{doc}/grants", headers=bearer(t["other_org_pro"]), json={"member_id": member["id"]}
    )
    assert reshare.status_code == 404
    assert (
        client.post(
            f"/api/v1/persons/{pid}/grants",
            headers=bearer(t["other_org_pro"]),
            json={"member_id": member["id"], "category": "identity"},
        ).status_code
        == 404
    )
    # Revocation: the same open token is refused on the very next request.
    gid = grant.get_json()["id"]
    assert client.delete(f"/api/v1/grants/{gid}", headers=bearer(t["owner"])).status_code == 204
    assert client.get(doc, headers=bearer(t["other_org_pro"])).status_code == 404
    assert client.get(f"{doc}/content", headers=bearer(t["other_org_pro"])).status_code == 404


@pytest.mark.no_csrf
def test_category_grant_covers_later_papers_and_expires(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    t = _tokens(client, world, "owner", "intervenor_revoked")
    pid, mid = world.alice.id, world.members["intervenor_revoked"].id
    expires = (clock() + __import__("datetime").timedelta(hours=1)).isoformat()
    made = client.post(
        f"/api/v1/persons/{pid}/grants",
        headers=bearer(t["owner"]),
        json={"member_id": mid, "category": "health", "expires_at": expires},
    )
    assert made.status_code == 201 and made.get_json()["category"] == "health"
    later = client.post(
        f"/api/v1/persons/{pid}/documents",
        headers=bearer(t["owner"]),
        data={"file": (io.BytesIO(PNG), "x.png"), "category": "health", "title": "Ordonnance"},
    )
    assert later.status_code == 201
    path = f"/api/v1/documents/{later.get_json()['id']}"
    assert client.get(path, headers=bearer(t["intervenor_revoked"])).status_code == 200
    assert (
        client.get(
            f"/api/v1/documents/{world.doc_plain}", headers=bearer(t["intervenor_revoked"])
        ).status_code
        == 404
    )
    clock.advance(hours=1, seconds=1)
    assert client.get(path, headers=bearer(t["intervenor_revoked"])).status_code == 404


@pytest.mark.no_csrf
def test_removing_a_member_ends_grants_and_mandates(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    t = _tokens(client, world, "owner", "intervenor_grant", "helper_view")
    doc = f"/api/v1/documents/{world.doc}"
    assert client.get(doc, headers=bearer(t["intervenor_grant"])).status_code == 200
    assert (
        client.get(
            f"/api/v1/documents/{world.doc_plain}", headers=bearer(t["helper_view"])
        ).status_code
        == 200
    )
    for name in ("intervenor_grant", "helper_view"):
        mid = world.members[name].id
        gone = client.delete(
            f"/api/v1/persons/{world.alice.id}/members/{mid}", headers=bearer(t["owner"])
        )
        assert gone.status_code == 204
    assert client.get(doc, headers=bearer(t["intervenor_grant"])).status_code == 404
    assert (
        client.get(
            f"/api/v1/documents/{world.doc_plain}", headers=bearer(t["helper_view"])
        ).status_code
        == 404
    )


@pytest.mark.no_csrf
def test_guessed_ids_answer_like_missing_ones(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    t = _tokens(client, world, "other_person", "owner")
    bob = bearer(t["other_person"])
    missing = str(uuid.uuid4())
    pid = world.alice.id
    grant_id = client.get(
        f"/api/v1/documents/{world.doc}/grants", headers=bearer(t["owner"])
    ).get_json()[0]["id"]
    member_id = world.members["intervenor_grant"].id
    pairs = [
        (f"/api/v1/documents/{world.doc}/grants", f"/api/v1/documents/{missing}/grants", "get"),
        (f"/api/v1/grants/{grant_id}", f"/api/v1/grants/{missing}", "delete"),
        (
            f"/api/v1/persons/{pid}/members/{member_id}",
            f"/api/v1/persons/{world.bob.id}/members/{member_id}",
            "delete",
        ),
        (f"/api/v1/persons/{pid}/members", f"/api/v1/persons/{missing}/members", "get"),
        (f"/api/v1/documents/{world.doc}", f"/api/v1/documents/{missing}", "get"),
    ]
    for theirs, nothing, method in pairs:
        a = getattr(client, method)(theirs, headers=bob)
        b = getattr(client, method)(nothing, headers=bob)
        assert a.status_code == b.status_code == 404, (theirs, a.status_code, b.status_code)
        assert a.get_json() == b.get_json()
    # Still there for the owner: nothing was changed by the guesses.
    assert (
        client.get(f"/api/v1/documents/{world.doc}/grants", headers=bearer(t["owner"])).get_json()[
            0
        ]["id"]
        == grant_id
    )


@pytest.mark.no_csrf
def test_deposit_belongs_to_the_person_who_is_told_and_can_revoke(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    t = _tokens(client, world, "owner", "intervenor_revoked")
    pid = world.alice.id
    made = client.post(
        f"/api/v1/persons/{pid}/deposits",
        headers=bearer(t["intervenor_revoked"]),
        data={
            "file": (io.BytesIO(PNG), "attestation.png"),
            "title": "Attestation",
            "category": "housing",
            "person_id": world.bob.id,
        },
    )
    assert made.status_code == 201, made.get_json()
    did = made.get_json()["id"]
    assert made.get_json()["person_id"] == pid
    listed = client.get(f"/api/v1/persons/{pid}/documents", headers=bearer(t["owner"])).get_json()
    assert did in {d["id"] for d in listed}
    notices = client.get(f"/api/v1/persons/{pid}/notices", headers=bearer(t["owner"])).get_json()
    assert notices["deposits"][0]["document_id"] == did
    dep = bearer(t["intervenor_revoked"])
    assert client.get(f"/api/v1/documents/{did}", headers=dep).status_code == 200
    grants = client.get(f"/api/v1/documents/{did}/grants", headers=bearer(t["owner"])).get_json()
    assert [g["origin"] for g in grants] == ["deposit"]
    assert (
        client.delete(f"/api/v1/grants/{grants[0]['id']}", headers=bearer(t["owner"])).status_code
        == 204
    )
    assert client.get(f"/api/v1/documents/{did}", headers=dep).status_code == 404
    # The depositor cannot delete what is now the person's.
    assert client.delete(f"/api/v1/documents/{did}", headers=dep).status_code == 404


@pytest.mark.no_csrf
def test_mandate_needs_the_persons_password_and_records_both_identities(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    t = _tokens(client, world, "owner", "intervenor_revoked")
    pid, mid = world.alice.id, world.members["intervenor_revoked"].id
    url = f"/api/v1/persons/{pid}/mandates"
    body = {"member_id": mid, "scopes": ["upload"], "duration": "1d"}
    # Her organisation does not do digital inclusion (yet): no mandate, a clear refusal.
    not_helper = client.post(url, headers=bearer(t["owner"]), json={**body, "password": PASSWORD})
    assert not_helper.status_code == 422
    assert not_helper.get_json()["error"] == "not_digital_inclusion"
    found = app.extensions["locker"]
    with found.session_factory() as session:
        set_digital_inclusion(session, clock, organization_id=world.org.id, on=True)
        session.commit()
    wrong = client.post(url, headers=bearer(t["owner"]), json={**body, "password": "nope-nope"})
    assert wrong.status_code == 403
    bad = client.post(
        url, headers=bearer(t["owner"]), json={**body, "scopes": ["delete"], "password": PASSWORD}
    )
    assert bad.status_code == 400 and bad.get_json()["error"] == "invalid_input"
    made = client.post(url, headers=bearer(t["owner"]), json={**body, "password": PASSWORD})
    assert made.status_code == 201 and made.get_json()["scopes"] == ["upload"]
    helper = bearer(t["intervenor_revoked"])
    up = client.post(
        f"/api/v1/persons/{pid}/documents",
        headers=helper,
        data={"file": (io.BytesIO(PNG), "x.png"), "category": "work"},
    )
    assert up.status_code == 201
    # A helper with `upload` only cannot share, nor give themselves more.
    assert (
        client.post(
            f"/api/v1/documents/{world.doc_plain}/grants", headers=helper, json={"member_id": mid}
        ).status_code
        == 404
    )
    assert client.post(url, headers=helper, json={**body, "password": PASSWORD}).status_code == 404
    with found.session_factory() as session:
        row = session.scalars(
            select(AuditRecord).where(AuditRecord.document_id == up.get_json()["id"])
        ).one()
        helper_id = world.users["intervenor_revoked"].id
        assert (row.actor_id, row.on_behalf_of, row.person_id) == (helper_id, pid, pid)
        given = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action.in_(["mandate:create", "mandate:receive"]))
            .where(AuditRecord.outcome == "allowed")
            .order_by(AuditRecord.seq)
        ).all()
        assert [(r.action, r.actor_id, r.on_behalf_of, r.reason) for r in given] == [
            ("mandate:create", pid, None, "own_screen"),
            ("mandate:receive", helper_id, pid, "own_screen"),
        ]
        refused = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "mandate:confirm")
        ).one()
        assert (refused.outcome, refused.person_id) == ("denied", pid)
        # The operator switches the organisation off: the live mandate counts for nothing.
        set_digital_inclusion(session, clock, organization_id=world.org.id, on=False)
        session.commit()
    off = client.post(
        f"/api/v1/persons/{pid}/documents",
        headers=helper,
        data={"file": (io.BytesIO(PNG), "x.png"), "category": "work"},
    )
    assert off.status_code == 404
    with found.session_factory() as session:
        set_digital_inclusion(session, clock, organization_id=world.org.id, on=True)
        session.commit()
    clock.advance(days=1, seconds=1)
    helper = bearer(token_for(client, "intervenor_revoked@example.org"))  # old one timed out
    assert (
        client.post(
            f"/api/v1/persons/{pid}/documents",
            headers=helper,
            data={"file": (io.BytesIO(PNG), "x.png")},
        ).status_code
        == 404
    )


@pytest.mark.no_csrf
def test_recovery_code_resets_password_ends_sessions_and_tells_who(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    t = _tokens(client, world, "owner", "referent_grant", "intervenor_grant")
    pid = world.alice.id
    url = f"/api/v1/persons/{pid}/recovery-codes"
    assert client.post(url, headers=bearer(t["intervenor_grant"])).status_code == 404
    issued = client.post(url, headers=bearer(t["referent_grant"]))
    assert issued.status_code == 201
    code = issued.get_json()["code"]
    redeem = {"username": "alice", "code": code, "new_password": "a brand new secret"}
    wrong = client.post("/api/v1/recovery", json={**redeem, "code": "AAAA-BBBB-CCCC"})
    assert wrong.status_code == 422
    assert client.post("/api/v1/recovery", json=redeem).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(t["owner"])).status_code == 401
    assert client.post("/api/v1/recovery", json=redeem).status_code == 422  # single use
    fresh = token_for(client, "alice", "a brand new secret")
    notices = client.get(f"/api/v1/persons/{pid}/notices", headers=bearer(fresh)).get_json()
    reset = notices["password_resets"][0]
    assert reset["by"] == "referent_grant" and reset["organization"] == "CHRS Les Lilas"
    # Expired after 15 minutes.
    late = client.post(url, headers=bearer(t["referent_grant"])).get_json()["code"]
    clock.advance(minutes=15, seconds=1)
    expired = client.post("/api/v1/recovery", json={**redeem, "code": late})
    assert expired.status_code == 422


@pytest.mark.no_csrf
def test_recovery_card_codes_are_single_use_and_attempts_are_limited(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    owner = token_for(client, "alice")
    card = client.post(f"/api/v1/persons/{world.alice.id}/recovery-card", headers=bearer(owner))
    codes = card.get_json()["codes"]
    assert len(codes) == 8 and len(set(codes)) == 8
    redeem = {"username": "alice", "new_password": "another new secret"}
    assert client.post("/api/v1/recovery", json={**redeem, "code": codes[0]}).status_code == 204
    assert client.post("/api/v1/recovery", json={**redeem, "code": codes[0]}).status_code == 422
    for _ in range(4):
        client.post("/api/v1/recovery", json={**redeem, "code": "WRONG"})
    blocked = client.post("/api/v1/recovery", json={**redeem, "code": codes[1]})
    assert blocked.status_code == 429
    # Wrong codes from one address never block the person from another one.
    elsewhere = {"REMOTE_ADDR": "192.0.2.77"}
    again = client.post(
        "/api/v1/recovery", json={**redeem, "code": codes[1]}, environ_base=elsewhere
    )
    assert again.status_code == 204
