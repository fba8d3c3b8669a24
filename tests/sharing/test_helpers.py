"""Helpers: only a digital-inclusion organisation's professionals; mandates confirmed at the
helper's desk with the person's own credentials (refused, recorded, limited when wrong)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from locker.models import AuditRecord
from sharing.models import Mandate
from sharing.organizations import set_digital_inclusion
from tests.conftest import PASSWORD, Actors, bearer, token_for
from tests.factories import Clock, add_member, build_world
from tests.test_cli import run
from tests.web.test_pages import csrf, sign_in


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"LOCKER_DATA_DIR": str(tmp_path / "var")}


def _desk(client, token: str, pid: str, **body: object):  # type: ignore[no-untyped-def]
    payload = {"scopes": ["view"], "duration": "1m", "username": "alice", "password": PASSWORD}
    return client.post(
        f"/api/v1/persons/{pid}/desk-mandates", headers=bearer(token), json={**payload, **body}
    )


@pytest.mark.no_csrf
def test_desk_mandate_needs_the_persons_own_credentials(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    helper = token_for(client, "helper_upload@example.org")
    pid, helper_id = world.alice.id, world.users["helper_upload"].id
    doc = f"/api/v1/documents/{world.doc_plain}"
    assert client.get(doc, headers=bearer(helper)).status_code == 404
    # Wrong password, or another person's good credentials: refused and recorded.
    assert _desk(client, helper, pid, password="not-her-password").status_code == 403
    assert _desk(client, helper, pid, username="bob").status_code == 403
    assert _desk(client, helper, pid, username="").status_code == 403
    # Bad scopes or duration are refused before any password is checked.
    # Outside the schema's scopes and durations: 400, naming the field.
    for wrong, field in (({"scopes": ["delete"]}, "scopes"), ({"duration": "10y"}, "duration")):
        refused = _desk(client, helper, pid, **wrong)
        assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_input"
        assert refused.get_json()["field"] == field
        assert field not in refused.get_json()["message"]  # said in the person's words
    made = _desk(client, helper, pid)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["scopes"] == ["view"]
    assert client.get(doc, headers=bearer(helper)).status_code == 200
    # The person sees it among their helpers and can revoke it at once.
    owner = token_for(client, "alice")
    listed = client.get(f"/api/v1/persons/{pid}/mandates", headers=bearer(owner)).get_json()
    assert made.get_json()["id"] in {m["id"] for m in listed}
    gone = client.delete(f"/api/v1/mandates/{made.get_json()['id']}", headers=bearer(owner))
    assert gone.status_code == 204
    assert client.get(doc, headers=bearer(helper)).status_code == 404
    with app.extensions["locker"].session_factory() as session:
        refused = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "mandate:confirm")
        ).all()
        assert [(r.outcome, r.actor_id, r.person_id) for r in refused] == [
            ("denied", helper_id, pid)
        ] * 3
        given = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action.in_(["mandate:create", "mandate:receive"]))
            .order_by(AuditRecord.seq)
        ).all()
        assert [(r.action, r.actor_id, r.on_behalf_of, r.reason) for r in given] == [
            ("mandate:create", pid, None, "helper_screen"),
            ("mandate:receive", helper_id, pid, "helper_screen"),
        ]


@pytest.mark.no_csrf
def test_desk_mandate_is_throttled_and_only_for_helpers_on_the_list(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    pid = world.alice.id
    # Not on her list, not of a digital-inclusion organisation, an admin, a person: 404.
    for name in ("other_org_pro", "helper_no_inclusion", "referent_grant", "org_admin"):
        ident = f"{name}@example.org"
        assert _desk(client, token_for(client, ident), pid).status_code == 404, name
    assert _desk(client, token_for(client, "alice"), pid).status_code == 404
    helper = token_for(client, "helper_share@example.org")
    assert _desk(client, helper, world.bob.id, username="bob").status_code == 404
    # Guessing her password from the desk: five tries, then even the right one waits.
    for _ in range(5):
        assert _desk(client, helper, pid, password="guess-guess").status_code == 403
    limited = _desk(client, helper, pid)
    assert limited.status_code == 429 and limited.get_json()["error"] == "too_many_attempts"
    # Her own screen is limited too (the count is per person).
    owner = token_for(client, "alice")
    body = {
        "member_id": world.members["helper_view"].id,
        "scopes": ["view"],
        "duration": "1d",
        "password": PASSWORD,
    }
    own = client.post(f"/api/v1/persons/{pid}/mandates", headers=bearer(owner), json=body)
    assert own.status_code == 429
    clock.advance(minutes=16)
    helper = token_for(client, "helper_share@example.org")
    assert _desk(client, helper, pid).status_code == 201
    with app.extensions["locker"].session_factory() as session:
        assert session.scalars(select(Mandate).where(Mandate.person_id == pid)).all()


@pytest.mark.no_csrf
def test_no_mandate_for_a_professional_outside_digital_inclusion(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    pid = world.alice.id
    owner = token_for(client, "alice")
    body = {
        "member_id": world.members["intervenor_grant"].id,
        "scopes": ["view", "share"],
        "duration": "1y",
        "password": PASSWORD,
    }
    refused = client.post(f"/api/v1/persons/{pid}/mandates", headers=bearer(owner), json=body)
    assert refused.status_code == 422
    assert refused.get_json()["error"] == "not_digital_inclusion"
    assert "inclusion" in refused.get_json()["message"]
    # A mandate given before the organisation stopped counts for nothing, even for
    # recovery codes (it is not the referent).
    helper = token_for(client, "helper_no_inclusion@example.org")
    doc = f"/api/v1/documents/{world.doc_plain}"
    assert client.get(doc, headers=bearer(helper)).status_code == 404
    code = client.post(f"/api/v1/persons/{pid}/recovery-codes", headers=bearer(helper))
    assert code.status_code == 404
    with app.extensions["locker"].session_factory() as session:
        set_digital_inclusion(session, clock, organization_id=world.org.id, on=True)
        session.commit()
    assert client.get(doc, headers=bearer(helper)).status_code == 200


def test_set_org_inclusion_from_the_command_line(env: dict[str, str]) -> None:
    assert run(env, "init").returncode == 0
    org_id = json.loads(run(env, "create-org", "Espace numérique").stdout)["id"]
    on = run(env, "set-org-inclusion", org_id, "--on")
    assert on.returncode == 0, on.stderr
    assert json.loads(on.stdout) == {"id": org_id, "digital_inclusion": True}
    off = run(env, "set-org-inclusion", org_id, "--off")
    assert json.loads(off.stdout)["digital_inclusion"] is False
    missing = run(env, "set-org-inclusion", "0" * 36, "--on")
    assert missing.returncode != 0 and "not_found" in missing.stderr
    assert run(env, "set-org-inclusion", org_id).returncode != 0  # --on or --off is required


def test_set_org_auditing_from_the_command_line(env: dict[str, str]) -> None:
    assert run(env, "init").returncode == 0
    org_id = json.loads(run(env, "create-org", "Délégué à la protection").stdout)["id"]
    on = run(env, "set-org-auditing", org_id, "--on")
    assert on.returncode == 0, on.stderr
    assert json.loads(on.stdout) == {"id": org_id, "audits_service": True}
    assert (
        json.loads(run(env, "set-org-auditing", org_id, "--off").stdout)["audits_service"] is False
    )
    missing = run(env, "set-org-auditing", "0" * 36, "--on")
    assert missing.returncode != 0 and "not_found" in missing.stderr


def test_desk_mandate_page_without_javascript(app: Flask, world: Actors) -> None:
    found = app.extensions["locker"]
    clock = Clock()
    with found.session_factory() as session:
        set_digital_inclusion(session, clock, organization_id=world.org.id, on=True)
        add_member(session, clock, session.merge(world.alice), session.merge(world.pro))
        session.commit()
    pro = app.test_client()
    sign_in(pro, "martin@lilas.example")
    desk = pro.get(f"/pro/persons/{world.alice.id}").data
    assert b"/pro/persons/" + world.alice.id.encode() + b"/mandate" in desk
    url = f"/pro/persons/{world.alice.id}/mandate"
    page = pro.get(url)
    assert page.status_code == 200 and b"Alice" in page.data
    assert re.search(rb'name="password" type="password"', page.data)
    form = {"scopes": ["upload", "view"], "duration": "6m", "username": "alice"}
    wrong = pro.post(url, data={**form, "password": "nope-nope", "csrf_token": csrf(pro, url)})
    assert wrong.status_code == 403 and b"mot de passe" in wrong.data
    assert pro.post(url, data={**form, "password": PASSWORD}).status_code == 400  # no CSRF
    done = pro.post(url, data={**form, "password": PASSWORD, "csrf_token": csrf(pro, url)})
    assert done.status_code == 302
    with found.session_factory() as session:
        mandate = session.scalars(select(Mandate)).one()
        assert mandate.scopes == "upload view"
        assert (mandate.expires_at - mandate.created_at).days == 182
    # A professional of another organisation, not on her list, gets nothing.
    other = app.test_client()
    sign_in(other, "durand@ml.example")
    assert other.get(url).status_code == 404
