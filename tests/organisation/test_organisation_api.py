"""Organisation administration over the API: the admin's own organisation only, accounts
only; invitations used once within 7 days; deactivation at once; the person decides."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from locker.models import AuditRecord, Organization, Professional
from sharing.models import AccompanimentMember, Grant, ProfessionalInvitation
from sharing.organizations import set_audits_service
from tests.conftest import PASSWORD, Actors, bearer, token_for
from tests.factories import (
    Clock,
    add_grant,
    add_member,
    new_organization,
    new_professional,
    upload,
)


def _invite(client: FlaskClient, admin: str, org_id: str, email: str, role: str = "professional"):
    return client.post(
        f"/api/v1/organizations/{org_id}/professionals",
        json={"email": email, "name": "Mme Petit", "role": role},
        headers=bearer(admin),
    )


def _link_token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def test_admin_lists_invites_sets_role_and_the_invited_signs_in(
    app: Flask, client: FlaskClient, world: Actors, db_session
) -> None:
    admin = token_for(client, "admin@lilas.example")
    listed = client.get(
        f"/api/v1/organizations/{world.org.id}/professionals", headers=bearer(admin)
    )
    assert listed.status_code == 200
    assert {p["email"] for p in listed.get_json()} == {
        "martin@lilas.example",
        "admin@lilas.example",
    }
    made = _invite(client, admin, world.org.id, "petit@lilas.example")
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["status"] == "invited" and body["role"] == "professional"
    token = _link_token(body["invitation_url"])
    assert len(token) == 43  # 256 bits, base64url
    # Only the SHA-256 of the secret is kept.
    row = db_session.scalar(
        select(ProfessionalInvitation).where(ProfessionalInvitation.professional_id == body["id"])
    )
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # The invited account opens with no password before the link is used.
    refused = client.post(
        "/api/v1/auth/token", json={"email": "petit@lilas.example", "password": PASSWORD}
    )
    assert refused.status_code == 401
    role = client.patch(
        f"/api/v1/professionals/{body['id']}", json={"role": "org_admin"}, headers=bearer(admin)
    )
    assert role.status_code == 200 and role.get_json()["role"] == "org_admin"
    accepted = client.post(
        "/api/v1/invitations/accept", json={"token": token, "password": "my own password"}
    )
    assert accepted.status_code == 200
    assert accepted.get_json() == {"id": body["id"], "email": "petit@lilas.example"}
    assert token_for(client, "petit@lilas.example", "my own password")
    again = client.get(f"/api/v1/organizations/{world.org.id}/professionals", headers=bearer(admin))
    mine = next(p for p in again.get_json() if p["id"] == body["id"])
    assert mine["status"] == "active" and mine["role"] == "org_admin"
    # Everything is on the audit log: ids only.
    actions = set(db_session.scalars(select(AuditRecord.action)))
    assert {"professional:invite", "professional:role", "invitation:accept"} <= actions


def test_an_invitation_works_once_and_for_seven_days(
    app: Flask, client: FlaskClient, world: Actors, clock: Clock
) -> None:
    admin = token_for(client, "admin@lilas.example")
    first = _link_token(
        _invite(client, admin, world.org.id, "a@lilas.example").get_json()["invitation_url"]
    )
    ok = client.post(
        "/api/v1/invitations/accept", json={"token": first, "password": "password one"}
    )
    assert ok.status_code == 200
    replayed = client.post(
        "/api/v1/invitations/accept", json={"token": first, "password": "password two"}
    )
    assert replayed.status_code == 422 and replayed.get_json()["error"] == "bad_invitation"
    assert token_for(client, "a@lilas.example", "password one")
    late = _link_token(
        _invite(client, admin, world.org.id, "b@lilas.example").get_json()["invitation_url"]
    )
    clock.advance(days=7, seconds=1)
    expired = client.post(
        "/api/v1/invitations/accept", json={"token": late, "password": "too late now"}
    )
    assert expired.status_code == 422
    # A new link for the one who has not answered; the old one stays dead.
    admin = token_for(client, "admin@lilas.example")
    invited_id = next(
        p["id"]
        for p in client.get(
            f"/api/v1/organizations/{world.org.id}/professionals", headers=bearer(admin)
        ).get_json()
        if p["email"] == "b@lilas.example"
    )
    fresh = client.post(f"/api/v1/professionals/{invited_id}/invitation", headers=bearer(admin))
    assert fresh.status_code == 201
    assert (
        client.post(
            "/api/v1/invitations/accept", json={"token": late, "password": "too late now"}
        ).status_code
        == 422
    )
    renewed = _link_token(fresh.get_json()["invitation_url"])
    assert (
        client.post(
            "/api/v1/invitations/accept", json={"token": renewed, "password": "in time now"}
        ).status_code
        == 200
    )


def test_a_deactivated_professional_cannot_use_an_old_invitation(
    client: FlaskClient, world: Actors
) -> None:
    admin = token_for(client, "admin@lilas.example")
    body = _invite(client, admin, world.org.id, "gone@lilas.example").get_json()
    gone = client.post(f"/api/v1/professionals/{body['id']}/deactivate", headers=bearer(admin))
    assert gone.status_code == 204
    used = client.post(
        "/api/v1/invitations/accept",
        json={"token": _link_token(body["invitation_url"]), "password": "whatever long"},
    )
    assert used.status_code == 422


def test_an_admin_of_another_organisation_finds_nothing(
    app: Flask, client: FlaskClient, world: Actors, db_session
) -> None:
    found = app.extensions["locker"]
    with found.session_factory() as s:
        new_professional(s, found.clock, s.merge(world.other_org), "other-admin", "org_admin")
        s.commit()
    other = token_for(client, "other-admin@example.org")
    martin = world.pro.id
    attempts = [
        client.get(f"/api/v1/organizations/{world.org.id}/professionals", headers=bearer(other)),
        _invite(client, other, world.org.id, "intruder@lilas.example"),
        client.patch(
            f"/api/v1/professionals/{martin}", json={"role": "org_admin"}, headers=bearer(other)
        ),
        client.post(f"/api/v1/professionals/{martin}/deactivate", headers=bearer(other)),
        client.post(f"/api/v1/professionals/{martin}/invitation", headers=bearer(other)),
    ]
    assert [a.status_code for a in attempts] == [404] * 5
    # The same answer as an id that does not exist.
    missing = client.post(
        "/api/v1/professionals/00000000-0000-4000-8000-000000000000/deactivate",
        headers=bearer(other),
    )
    assert missing.status_code == 404 and missing.get_json() == attempts[3].get_json()
    db_session.expire_all()
    row = db_session.get(Professional, martin)
    assert row.disabled_at is None and row.role == "professional"
    assert token_for(client, "martin@lilas.example")
    denied = db_session.scalars(
        select(AuditRecord.reason).where(AuditRecord.outcome == "denied")
    ).all()
    assert denied.count("other_organization") >= 4


def test_a_non_admin_is_refused(client: FlaskClient, world: Actors) -> None:
    for who in ("martin@lilas.example", "alice"):
        token = token_for(client, who)
        attempts = [
            client.get(
                f"/api/v1/organizations/{world.org.id}/professionals", headers=bearer(token)
            ),
            _invite(client, token, world.org.id, "x@lilas.example"),
            client.patch(
                f"/api/v1/professionals/{world.admin.id}",
                json={"role": "professional"},
                headers=bearer(token),
            ),
            client.post(
                f"/api/v1/professionals/{world.admin.id}/deactivate", headers=bearer(token)
            ),
        ]
        assert [a.status_code for a in attempts] == [403] * 4, who


def test_the_last_admin_neither_steps_down_nor_switches_off(
    client: FlaskClient, world: Actors
) -> None:
    admin = token_for(client, "admin@lilas.example")
    me = world.admin.id
    demote = client.patch(
        f"/api/v1/professionals/{me}", json={"role": "professional"}, headers=bearer(admin)
    )
    assert demote.status_code == 409 and demote.get_json()["error"] == "last_org_admin"
    off = client.post(f"/api/v1/professionals/{me}/deactivate", headers=bearer(admin))
    assert off.status_code == 409
    # With a second admin, stepping down is fine.
    promoted = client.patch(
        f"/api/v1/professionals/{world.pro.id}", json={"role": "org_admin"}, headers=bearer(admin)
    )
    assert promoted.status_code == 200
    assert (
        client.patch(
            f"/api/v1/professionals/{me}", json={"role": "professional"}, headers=bearer(admin)
        ).status_code
        == 200
    )


def test_helper_is_a_role_of_digital_inclusion_organisations_only(
    app: Flask, client: FlaskClient, world: Actors
) -> None:
    admin = token_for(client, "admin@lilas.example")
    refused = client.patch(
        f"/api/v1/professionals/{world.pro.id}", json={"role": "helper"}, headers=bearer(admin)
    )
    assert refused.status_code == 422 and refused.get_json()["error"] == "not_digital_inclusion"
    found = app.extensions["locker"]
    with found.session_factory() as s:
        hub = new_organization(s, found.clock, "Espace numérique", digital_inclusion=True)
        new_professional(s, found.clock, hub, "hub-admin", "org_admin")
        hub_id = s.merge(hub).id
        s.commit()
    hub_admin = token_for(client, "hub-admin@example.org")
    made = _invite(client, hub_admin, hub_id, "mediatrice@hub.example", role="helper")
    assert made.status_code == 201 and made.get_json()["role"] == "helper"


def test_auditor_is_a_role_of_the_auditing_organisation_only(
    app: Flask, client: FlaskClient, world: Actors
) -> None:
    # An admin cannot hand their own staff every person's log metadata.
    admin = token_for(client, "admin@lilas.example")
    refused = client.patch(
        f"/api/v1/professionals/{world.pro.id}", json={"role": "auditor"}, headers=bearer(admin)
    )
    assert refused.status_code == 422 and refused.get_json()["error"] == "not_audit_body"
    invited = _invite(client, admin, world.org.id, "audit@lilas.example", role="auditor")
    assert invited.status_code == 422 and invited.get_json()["error"] == "not_audit_body"
    found = app.extensions["locker"]
    with found.session_factory() as s:
        # An auditor made in an ordinary organisation (an old account, a direct write).
        new_professional(s, found.clock, s.merge(world.org), "old-auditor", "auditor")
        body = new_organization(s, found.clock, "Délégué à la protection", audits_service=True)
        new_professional(s, found.clock, body, "dpo-admin", "org_admin")
        body_id = s.merge(body).id
        s.commit()
    old = token_for(client, "old-auditor@example.org")
    assert client.get("/api/v1/audit/export", headers=bearer(old)).status_code == 403
    body_admin = token_for(client, "dpo-admin@example.org")
    made = _invite(client, body_admin, body_id, "dpo@body.example", role="auditor")
    assert made.status_code == 201 and made.get_json()["role"] == "auditor"
    with found.session_factory() as s:
        new_professional(s, found.clock, s.get(Organization, body_id), "dpo2", "auditor")
        s.commit()
    auditor = token_for(client, "dpo2@example.org")
    assert client.get("/api/v1/audit/export", headers=bearer(auditor)).status_code == 200
    # The operator switches it off: the auditor's reach ends at once.
    with found.session_factory() as s:
        set_audits_service(s, found.clock, organization_id=body_id, on=False)
        s.commit()
    assert client.get("/api/v1/audit/export", headers=bearer(auditor)).status_code == 403


def test_deactivation_ends_tokens_and_browser_sessions_at_once(
    client: FlaskClient, world: Actors, app: Flask
) -> None:
    martin = token_for(client, "martin@lilas.example")
    browser = app.test_client()
    from tests.web.test_pages import sign_in

    assert sign_in(browser, "martin@lilas.example").status_code == 302
    assert browser.get("/pro/persons").status_code == 200
    admin = token_for(client, "admin@lilas.example")
    assert (
        client.post(
            f"/api/v1/professionals/{world.pro.id}/deactivate", headers=bearer(admin)
        ).status_code
        == 204
    )
    assert client.get("/api/v1/me", headers=bearer(martin)).status_code == 401
    gone = browser.get("/pro/persons")
    assert gone.status_code == 302 and "/sign-in" in gone.headers["Location"]
    again = client.post(
        "/api/v1/auth/token", json={"email": "martin@lilas.example", "password": PASSWORD}
    )
    assert again.status_code == 401
    listed = client.get(
        f"/api/v1/organizations/{world.org.id}/professionals", headers=bearer(admin)
    )
    assert next(p for p in listed.get_json() if p["id"] == world.pro.id)["status"] == "deactivated"


def _accompanied(app: Flask, world: Actors) -> tuple[str, str]:
    """Martin on Alice's list with one paper shared; a colleague of his organisation."""
    found = app.extensions["locker"]
    with found.session_factory() as s:
        alice, martin = s.merge(world.alice), s.merge(world.pro)
        doc = upload(found, s, found.clock, alice, "Titre de séjour")
        add_grant(s, found.clock, add_member(s, found.clock, alice, martin), doc)
        colleague = new_professional(s, found.clock, s.merge(world.org), "colleague")
        s.commit()
        return doc, colleague.id


def test_a_handover_gives_the_colleague_nothing_until_the_person_says_yes(
    app: Flask, client: FlaskClient, world: Actors, db_session
) -> None:
    doc, colleague_id = _accompanied(app, world)
    admin = token_for(client, "admin@lilas.example")
    colleague = token_for(client, "colleague@example.org")
    off = client.post(
        f"/api/v1/professionals/{world.pro.id}/deactivate?successor_id={colleague_id}",
        headers=bearer(admin),
    )
    assert off.status_code == 204, off.get_json()
    assert client.get(f"/api/v1/documents/{doc}", headers=bearer(colleague)).status_code == 404
    assert (
        client.get("/api/v1/professionals/me/persons", headers=bearer(colleague)).get_json() == []
    )
    alice = token_for(client, "alice")
    notices = client.get(f"/api/v1/persons/{world.alice.id}/departures", headers=bearer(alice))
    [notice] = notices.get_json()
    assert notice["display_name"] == "Mme Martin" and notice["successor_id"] == colleague_id
    # Nobody else may decide for Alice: not the colleague, not the admin, not Bob.
    for other in (colleague, admin, token_for(client, "bob")):
        tried = client.post(
            f"/api/v1/persons/{world.alice.id}/departures/{notice['id']}/hand-over",
            headers=bearer(other),
        )
        assert tried.status_code == 404
    assert client.get(f"/api/v1/documents/{doc}", headers=bearer(colleague)).status_code == 404
    yes = client.post(
        f"/api/v1/persons/{world.alice.id}/departures/{notice['id']}/hand-over",
        headers=bearer(alice),
    )
    assert yes.status_code == 200
    assert client.get(f"/api/v1/documents/{doc}", headers=bearer(colleague)).status_code == 200
    # Martin's entry and shares ended; the notice is gone.
    db_session.expire_all()
    entries = db_session.scalars(
        select(AccompanimentMember).where(AccompanimentMember.professional_id == world.pro.id)
    ).all()
    assert all(e.ended_at is not None for e in entries)
    grants = db_session.scalars(select(Grant).where(Grant.member_id == entries[0].id)).all()
    assert all(g.revoked_at is not None for g in grants)
    assert (
        client.get(f"/api/v1/persons/{world.alice.id}/departures", headers=bearer(alice)).get_json()
        == []
    )


def test_the_person_may_end_everything_instead(
    app: Flask, client: FlaskClient, world: Actors, db_session
) -> None:
    doc, colleague_id = _accompanied(app, world)
    admin = token_for(client, "admin@lilas.example")
    client.post(
        f"/api/v1/professionals/{world.pro.id}/deactivate?successor_id={colleague_id}",
        headers=bearer(admin),
    )
    alice = token_for(client, "alice")
    [notice] = client.get(
        f"/api/v1/persons/{world.alice.id}/departures", headers=bearer(alice)
    ).get_json()
    ended = client.post(
        f"/api/v1/persons/{world.alice.id}/departures/{notice['id']}/end", headers=bearer(alice)
    )
    assert ended.status_code == 204
    # Decided once: neither answer works a second time.
    twice = client.post(
        f"/api/v1/persons/{world.alice.id}/departures/{notice['id']}/hand-over",
        headers=bearer(alice),
    )
    assert twice.status_code == 404
    colleague = token_for(client, "colleague@example.org")
    assert client.get(f"/api/v1/documents/{doc}", headers=bearer(colleague)).status_code == 404
    members = client.get(f"/api/v1/persons/{world.alice.id}/members", headers=bearer(alice))
    assert members.get_json() == []


def test_a_successor_from_another_organisation_is_refused(
    client: FlaskClient, world: Actors
) -> None:
    admin = token_for(client, "admin@lilas.example")
    wrong = client.post(
        f"/api/v1/professionals/{world.pro.id}/deactivate?successor_id={world.other_pro.id}",
        headers=bearer(admin),
    )
    assert wrong.status_code == 422 and wrong.get_json()["error"] == "no_successor"
    assert token_for(client, "martin@lilas.example")  # nothing happened


def test_the_admin_reaches_no_title_thumbnail_or_content(
    app: Flask, client: FlaskClient, world: Actors
) -> None:
    doc, _ = _accompanied(app, world)
    admin = token_for(client, "admin@lilas.example")
    for path in (
        f"/api/v1/documents/{doc}",
        f"/api/v1/documents/{doc}/thumbnail",
        f"/api/v1/documents/{doc}/preview",
        f"/api/v1/documents/{doc}/content",
        f"/api/v1/persons/{world.alice.id}/documents",
        f"/api/v1/persons/{world.alice.id}/departures",
    ):
        assert client.get(path, headers=bearer(admin)).status_code == 404, path
    listed = client.get(
        f"/api/v1/organizations/{world.org.id}/professionals", headers=bearer(admin)
    )
    assert b"Titre de s" not in listed.data and world.alice.id.encode() not in listed.data
    # Deactivating Martin tells the admin nothing of his persons either.
    off = client.post(f"/api/v1/professionals/{world.pro.id}/deactivate", headers=bearer(admin))
    assert off.status_code == 204 and off.data == b""
