"""Issue 11, points 1, 2 and the recovery oracles of point 8: nobody who issues a code or
creates an account keeps a way into it, and recovery tells nobody which accounts exist."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from locker.models import AuditRecord, Person
from sharing.models import RecoveryCode
from tests.conftest import PASSWORD, bearer, token_for
from tests.factories import (
    Clock,
    World,
    add_mandate,
    build_world,
    new_organization,
    new_professional,
)
from tests.web.test_pages import csrf, sign_in

NEW = "mon-mot-de-passe-a-moi"


def _issue(client: FlaskClient, world: World, issuer: str) -> tuple[int, str | None]:
    token = token_for(client, f"{issuer}@example.org")
    answer = client.post(f"/api/v1/persons/{world.alice.id}/recovery-codes", headers=bearer(token))
    body = answer.get_json() or {}
    return answer.status_code, body.get("code")


def _redeem(client: FlaskClient, username: str, code: str, new: str, address: str = "") -> int:
    body = {"username": username, "code": code, "new_password": new}
    extra = {"environ_base": {"REMOTE_ADDR": address}} if address else {}
    return client.post("/api/v1/recovery", json=body, **extra).status_code


def _give_recovery_mandate(app: Flask, clock: Clock, world: World, helper: str) -> None:
    with app.extensions["locker"].session_factory() as session:
        add_mandate(session, clock, session.merge(world.members[helper]), "recovery")
        session.commit()


def _sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> int:
    """Sign in through the page (CSRF is off in `app`; `app` tests read it)."""
    data = {"identifier": username, "password": password}
    return client.post("/sign-in", data=data).status_code


def _card(client: FlaskClient, world: World, token: str) -> list[str]:
    made = client.post(f"/api/v1/persons/{world.alice.id}/recovery-card", headers=bearer(token))
    assert made.status_code == 201
    return list(made.get_json()["codes"])


@pytest.mark.no_csrf
def test_only_the_referent_or_a_recovery_mandate_issues_codes(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    # A member who is not the referent, and helpers whose mandates name anything else
    # (even all four other scopes): refused, as if the person did not exist.
    for name in ("intervenor_grant", "helper_upload", "helper_organise", "helper_share"):
        assert _issue(client, world, name)[0] == 404, name
    assert _issue(client, world, "helper_view")[0] == 404
    assert _issue(client, world, "referent_grant")[0] == 201
    # The person names account recovery in a mandate (API or page): now that helper may.
    alice = token_for(client, "alice")
    given = client.post(
        f"/api/v1/persons/{world.alice.id}/mandates",
        headers=bearer(alice),
        json={
            "member_id": world.members["helper_view"].id,
            "scopes": ["recovery"],
            "duration": "1d",
            "password": PASSWORD,
        },
    )
    assert given.status_code == 201 and given.get_json()["scopes"] == ["recovery"]
    assert _issue(client, world, "helper_view")[0] == 201
    browser = app.test_client()
    assert _sign_in(browser, "alice") == 302
    helpers = browser.get("/helpers").data.decode()
    assert 'name="scopes" value="recovery"' in helpers
    assert "me donner un code de secours" in helpers
    document = client.get("/api/v1/openapi.json").get_json()
    asked = document["components"]["schemas"]["NewMandate"]["properties"]["scopes"]
    assert "recovery" in asked["items"]["enum"]
    with app.extensions["locker"].session_factory() as session:
        refused = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "recovery:issue", AuditRecord.outcome == "denied"
            )
        ).all()
        assert {r.actor_id for r in refused} >= {world.users["helper_upload"].id}


@pytest.mark.no_csrf
def test_the_takeover_by_an_upload_helper_fails_at_every_step(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    alice = token_for(client, "alice")
    own_card = _card(client, world, alice)
    # 1. A helper with an "upload" mandate for one day cannot issue a code at all.
    status, _ = _issue(client, world, "helper_upload")
    assert status == 404
    # 2. Even a helper the person trusted with "recovery" who then abuses it: the reset
    # works (that is what the right is for), but it cannot lock the person out.
    _give_recovery_mandate(app, clock, world, "helper_upload")
    status, code = _issue(client, world, "helper_upload")
    assert status == 201 and code
    assert _redeem(client, "alice", code, "le-mot-de-passe-du-voleur") == 204
    thief = token_for(client, "alice", "le-mot-de-passe-du-voleur")
    # Printing a new card (which would void the person's own) is refused for 7 days.
    again = client.post(f"/api/v1/persons/{world.alice.id}/recovery-card", headers=bearer(thief))
    assert again.status_code == 403
    assert again.get_json()["error"] == "recovery_card_locked"
    # Dismissing the notice (pages) does nothing: it is still listed.
    browser = app.test_client()
    assert _sign_in(browser, "alice", "le-mot-de-passe-du-voleur") == 302
    notices = client.get(f"/api/v1/persons/{world.alice.id}/notices", headers=bearer(thief))
    reset = notices.get_json()["password_resets"][0]
    assert reset["by"] == "helper_upload" and reset["locked_until"]
    seen = browser.post("/notices/seen", data={"reset_id": reset["id"]})
    assert seen.status_code == 302
    page = browser.get("/papers")
    assert f'id="reset-{reset["id"]}"'.encode() in page.data
    assert "Ce n&#39;était pas moi".encode() in page.data or b"not-me-" in page.data
    notices = client.get(f"/api/v1/persons/{world.alice.id}/notices", headers=bearer(thief))
    assert [r["id"] for r in notices.get_json()["password_resets"]] == [reset["id"]]
    # The person's own card still works: she takes her account back.
    assert _redeem(client, "alice", own_card[0], "ma-phrase-secrete-a-moi") == 204
    assert client.get("/api/v1/me", headers=bearer(thief)).status_code == 401
    mine = token_for(client, "alice", "ma-phrase-secrete-a-moi")
    # Still within the 7 days: the thief's notice is still shown to her at sign-in.
    clock.advance(days=6, hours=23)
    mine = token_for(client, "alice", "ma-phrase-secrete-a-moi")
    notices = client.get(f"/api/v1/persons/{world.alice.id}/notices", headers=bearer(mine))
    assert reset["id"] in [r["id"] for r in notices.get_json()["password_resets"]]
    clock.advance(hours=2)
    # After 7 days, she can make a new card and dismiss the notice.
    assert len(_card(client, world, mine)) == 8


@pytest.mark.no_csrf
def test_the_person_card_still_works_after_a_reset_by_issued_code(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    own_card = _card(client, world, token_for(client, "alice"))
    _, code = _issue(client, world, "referent_grant")
    assert code and _redeem(client, "alice", code, "nouveau-secret-1") == 204
    # Whoever is signed in with the new password cannot replace the card in her hands.
    signed_in = token_for(client, "alice", "nouveau-secret-1")
    url = f"/api/v1/persons/{world.alice.id}/recovery-card"
    assert client.post(url, headers=bearer(signed_in)).status_code == 403
    browser = app.test_client()
    assert _sign_in(browser, "alice", "nouveau-secret-1") == 302
    assert browser.post("/recovery-card").status_code == 403
    assert b'id="card-locked"' in browser.get("/recovery-card").data
    for n, card_code in enumerate(own_card[:3]):
        assert _redeem(client, "alice", card_code, f"nouveau-secret-{n + 2}") == 204


@pytest.mark.no_csrf
def test_not_me_ends_every_session_and_bars_the_issuer(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    _give_recovery_mandate(app, clock, world, "helper_view")
    own_card = _card(client, world, token_for(client, "alice"))
    _, code = _issue(client, world, "helper_view")
    assert code and _redeem(client, "alice", code, "le-mot-de-passe-du-voleur") == 204
    thief_token = token_for(client, "alice", "le-mot-de-passe-du-voleur")
    _, spare_code = _issue(client, world, "helper_view")  # kept for later
    assert spare_code
    thief_browser = app.test_client()
    _sign_in(thief_browser, "alice", "le-mot-de-passe-du-voleur")
    assert _redeem(client, "alice", own_card[0], "ma-phrase-secrete-a-moi") == 204
    # The real person signs in (a browser and the app) and says it was not her.
    app_token = token_for(client, "alice", "ma-phrase-secrete-a-moi")
    browser = app.test_client()
    _sign_in(browser, "alice", "ma-phrase-secrete-a-moi")
    resets = client.get(f"/api/v1/persons/{world.alice.id}/notices", headers=bearer(app_token))
    notice_id = next(r["id"] for r in resets.get_json()["password_resets"] if r["by"])
    page = browser.get("/papers")
    assert f'id="not-me-{notice_id}"'.encode() in page.data
    answer = browser.post(f"/notices/{notice_id}/not-me")
    assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]
    for token in (thief_token, app_token):
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    for other in (thief_browser, browser):
        assert other.get("/papers").status_code == 302
    # That helper may never issue a code for her again, mandate or not, and the code
    # they kept no longer works.
    assert _issue(client, world, "helper_view")[0] == 404
    assert _redeem(client, "alice", spare_code, "encore-le-voleur") == 422
    with app.extensions["locker"].session_factory() as session:
        denied = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "recovery:issue",
                AuditRecord.outcome == "denied",
                AuditRecord.actor_id == world.users["helper_view"].id,
            )
        ).all()
        assert [r.reason for r in denied] == ["recovery_barred"]
    # The referent she chose still can; the API twin of "not me" works the same.
    _, code = _issue(client, world, "referent_grant")
    assert code and _redeem(client, "alice", code, "encore-un-autre-secret") == 204
    token = token_for(client, "alice", "encore-un-autre-secret")
    resets = client.get(f"/api/v1/persons/{world.alice.id}/notices", headers=bearer(token))
    latest = [r for r in resets.get_json()["password_resets"] if r["by"] == "referent_grant"]
    url = f"/api/v1/persons/{world.alice.id}/notices/{latest[0]['id']}/not-me"
    assert client.post(url, headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert _issue(client, world, "referent_grant")[0] == 404


@pytest.mark.no_csrf
def test_issue_and_redeem_records_name_the_issuer(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    _give_recovery_mandate(app, clock, world, "helper_share")
    helper = world.users["helper_share"].id
    _, code = _issue(client, world, "helper_share")
    assert code and _redeem(client, "alice", code, "nouveau-secret-1") == 204
    with app.extensions["locker"].session_factory() as session:
        issued = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "recovery:issue", AuditRecord.outcome == "allowed"
            )
        ).one()
        assert (issued.actor_id, issued.on_behalf_of, issued.person_id) == (
            helper,
            world.alice.id,
            world.alice.id,
        )
        assert issued.reason == "mandate:recovery"
        redeemed = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "recovery:redeem", AuditRecord.outcome == "allowed"
            )
        ).one()
        assert redeemed.person_id == world.alice.id
        assert redeemed.reason == f"issued:{helper}"


def _create_by_api(client: FlaskClient, username: str) -> tuple[str, list[str]]:
    pro = token_for(client, "referent_grant@example.org")
    made = client.post(
        "/api/v1/persons",
        headers=bearer(pro),
        json={"username": username, "display_name": "Fatou", "password": PASSWORD},
    )
    assert made.status_code == 201
    return made.get_json()["id"], made.get_json()["recovery_codes"]


@pytest.mark.no_csrf
def test_password_set_by_a_professional_must_be_changed_api(app: Flask, clock: Clock) -> None:
    build_world(app, clock)
    client = app.test_client()
    pid, creation_card = _create_by_api(client, "fatou")
    token = token_for(client, "fatou")
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.get_json()["must_change_password"] is True
    for method, url in (
        ("GET", f"/api/v1/persons/{pid}/documents"),
        ("GET", f"/api/v1/persons/{pid}/members"),
        ("POST", f"/api/v1/persons/{pid}/recovery-card"),
    ):
        refused = client.open(url, method=method, headers=bearer(token))
        assert refused.status_code == 403
        assert refused.get_json() == {"error": "password_change_required"}
    change = "/api/v1/me/password"
    wrong = {"current_password": "pas-le-bon-mdp", "new_password": NEW}
    assert client.post(change, headers=bearer(token), json=wrong).status_code == 403
    same = {"current_password": PASSWORD, "new_password": PASSWORD}
    assert client.post(change, headers=bearer(token), json=same).status_code == 422
    body = {"current_password": PASSWORD, "new_password": NEW}
    assert client.post(change, headers=bearer(token), json=body).status_code == 204
    # The old password gets 401; the new one works; every route is open again.
    old = client.post("/api/v1/auth/token", json={"username": "fatou", "password": PASSWORD})
    assert old.status_code == 401
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.get_json()["must_change_password"] is False
    assert client.get(f"/api/v1/persons/{pid}/documents", headers=bearer(token)).status_code == 200
    # The card the professional saw no longer works; the person prints her own.
    assert _redeem(client, "fatou", creation_card[0], "le-mdp-du-createur") == 422
    fresh = client.post(f"/api/v1/persons/{pid}/recovery-card", headers=bearer(token))
    assert fresh.status_code == 201
    assert _redeem(client, "fatou", fresh.get_json()["codes"][0], "un-autre-mdp-a-moi") == 204


def test_password_set_by_a_professional_must_be_changed_pages(app: Flask) -> None:
    pro = app.test_client()
    found = app.extensions["locker"]
    with found.session_factory() as session:
        org = new_organization(session, found.clock, "CCAS")
        new_professional(session, found.clock, org, "Mme Créatrice", email="creatrice@ccas.example")
        session.commit()
    sign_in(pro, "creatrice@ccas.example")
    form = {"username": "nadia", "display_name": "Nadia", "password": PASSWORD}
    made = pro.post("/pro", data={**form, "recovery_card": "1", "csrf_token": csrf(pro, "/pro")})
    creation_codes = re.findall(rb"<code>([2-9A-Z-]{14})</code>", made.data)
    assert len(creation_codes) == 8
    person = app.test_client()
    assert sign_in(person, "nadia").status_code == 302
    # Every page leads to the change-password page, which works; signing out works.
    for path in ("/", "/papers", "/helpers", "/recovery-card"):
        answer = person.get(path, follow_redirects=True)
        assert answer.request.path == "/account/password", path
    page = person.get("/account/password")
    assert page.status_code == 200 and b'id="password-change-required"' in page.data
    token = csrf(person, "/account/password")
    wrong = person.post(
        "/account/password",
        data={"current_password": "pas-le-bon", "new_password": NEW, "csrf_token": token},
    )
    assert wrong.status_code == 403
    no_csrf = person.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": NEW}
    )
    assert no_csrf.status_code == 400
    done = person.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW, "csrf_token": token},
    )
    assert done.status_code == 200
    card = re.search(rb'<section class="card" id="recovery-card">(.*?)</section>', done.data, re.S)
    assert card
    fresh = re.findall(rb"<code>([2-9A-Z-]{14})</code>", card.group(1))
    assert len(fresh) == 8 and not set(fresh) & set(creation_codes)
    # Then the information page, accepted once, before the locker opens (R.55-1).
    assert person.get("/papers").headers["Location"] == "/information"
    person.post("/information", data={"csrf_token": csrf(person, "/information")})
    assert person.get("/papers").status_code == 200
    # Shown once: the page does not show them again.
    assert not set(re.findall(rb"<code>([2-9A-Z-]{14})</code>", person.get("/papers").data))
    # The old password no longer signs in; the creation card no longer resets.
    assert sign_in(app.test_client(), "nadia").status_code == 401
    anonymous = app.test_client()
    reset = {"username": "nadia", "new_password": "le-mdp-du-createur"}
    for code in creation_codes[:2]:
        bad = anonymous.post(
            "/recover",
            data={**reset, "code": code.decode(), "csrf_token": csrf(anonymous, "/recover")},
        )
        assert bad.status_code == 422
    good = anonymous.post(
        "/recover",
        data={**reset, "code": fresh[0].decode(), "csrf_token": csrf(anonymous, "/recover")},
    )
    assert good.status_code == 302
    # Signing out works even while a change is required (a fresh forced account).
    made = pro.post(
        "/pro",
        data={
            "username": "omar",
            "display_name": "Omar",
            "password": PASSWORD,
            "csrf_token": csrf(pro, "/pro"),
        },
    )
    omar = app.test_client()
    sign_in(omar, "omar")
    out = omar.post("/sign-out", data={"csrf_token": csrf(omar, "/account/password")})
    assert out.status_code == 302 and omar.get("/account/password").status_code == 302


@pytest.mark.no_csrf
def test_own_password_change_ends_other_sessions_not_this_one(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    current = token_for(client, "alice")
    other = token_for(client, "alice")
    browser = app.test_client()
    _sign_in(browser, "alice")
    change = "/api/v1/me/password"
    # The current password is required; a wrong one changes nothing and ends nothing.
    missing = client.post(change, headers=bearer(current), json={"new_password": NEW})
    assert missing.status_code == 400
    wrong = {"current_password": "pas-le-bon-mdp", "new_password": NEW}
    assert client.post(change, headers=bearer(current), json=wrong).status_code == 403
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200
    body = {"current_password": PASSWORD, "new_password": NEW}
    assert client.post(change, headers=bearer(current), json=body).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(current)).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 401
    assert browser.get("/papers").status_code == 302
    # The same from a page: the browser it is done from stays signed in.
    token = token_for(client, "alice", NEW)
    browser = app.test_client()
    _sign_in(browser, "alice", NEW)
    changed = browser.post(
        "/account/password", data={"current_password": NEW, "new_password": "troisieme-mdp"}
    )
    assert changed.status_code == 302
    assert browser.get("/papers").status_code == 200
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    with app.extensions["locker"].session_factory() as session:
        alice = session.get(Person, world.alice.id)
        assert alice is not None and not alice.must_change_password
        records = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "account:password")
        ).all()
        assert [r.actor_id for r in records] == [world.alice.id, world.alice.id]


@pytest.mark.no_csrf
def test_recovery_tells_nobody_which_usernames_exist(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    own_card = _card(client, world, token_for(client, "alice"))
    attacker = "198.51.100.9"
    for username in ("alice", "personne-inconnue"):
        answers = [
            _redeem(client, username, "AAAA-BBBB-CCCC", "nouveau-secret", attacker)
            for _ in range(8)
        ]
        assert answers == [422] * 5 + [429] * 3, username
    # The same through the page.
    pages = app.test_client()
    for username in ("bob", "quelqu-un-d-autre"):
        answers = [
            pages.post(
                "/recover",
                data={"username": username, "code": "AAAA", "new_password": "nouveau-secret"},
                environ_base={"REMOTE_ADDR": "203.0.113.4"},
            ).status_code
            for _ in range(7)
        ]
        assert answers == [422] * 5 + [429] * 2, username
    # The real person, from her own address, still recovers at once.
    assert _redeem(client, "alice", own_card[0], "ma-phrase-secrete-a-moi", "192.0.2.1") == 204
    with app.extensions["locker"].session_factory() as session:
        stored = session.scalars(
            select(RecoveryCode).where(
                RecoveryCode.person_id == world.alice.id, RecoveryCode.used_at.is_not(None)
            )
        ).all()
        assert len(stored) == 1


@pytest.mark.no_csrf
def test_the_creator_cannot_keep_the_account_with_the_creation_card(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    pid, creation_card = _create_by_api(client, "fatou")
    # The creator redeems a code of the card they saw, before the person ever signs in.
    assert _redeem(client, "fatou", creation_card[0], "le-mdp-du-createur") == 204
    creator = token_for(client, "fatou", "le-mdp-du-createur")
    # The person, with the card in her hands, takes it back.
    clock.advance(minutes=5)
    assert _redeem(client, "fatou", creation_card[1], "ma-phrase-a-moi-seule") == 204
    assert client.get("/api/v1/me", headers=bearer(creator)).status_code == 401
    mine = token_for(client, "fatou", "ma-phrase-a-moi-seule")
    body = {"current_password": "ma-phrase-a-moi-seule", "new_password": NEW}
    assert client.post("/api/v1/me/password", headers=bearer(mine), json=body).status_code == 204
    notices = client.get(f"/api/v1/persons/{pid}/notices", headers=bearer(mine)).get_json()
    by_creator = [r for r in notices["password_resets"] if r["by"] == "referent_grant"]
    assert len(by_creator) == 2 and all(r["kind"] == "initial" for r in by_creator)
    first = min(by_creator, key=lambda r: r["at"])
    url = f"/api/v1/persons/{pid}/notices/{first['id']}/not-me"
    assert client.post(url, headers=bearer(mine)).status_code == 204
    # Every code of the card the creator saw stops working.
    for code in creation_card[2:4]:
        assert _redeem(client, "fatou", code, "le-mdp-du-createur") == 422
    assert token_for(client, "fatou", NEW)
    with app.extensions["locker"].session_factory() as session:
        redeemed = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "recovery:redeem", AuditRecord.outcome == "allowed"
            )
        ).all()
        creator_id = world.users["referent_grant"].id
        assert [r.reason for r in redeemed] == [f"initial:{creator_id}"] * 2


@pytest.mark.no_csrf
def test_the_creation_card_expires_after_the_seven_days_once_the_person_chose(
    app: Flask, clock: Clock
) -> None:
    build_world(app, clock)
    client = app.test_client()
    pid, creation_card = _create_by_api(client, "fatou")
    # She forgot the first password: a code of her creation card (the creator saw it).
    assert _redeem(client, "fatou", creation_card[0], "ma-phrase-a-moi-seule") == 204
    mine = token_for(client, "fatou", "ma-phrase-a-moi-seule")
    body = {"current_password": "ma-phrase-a-moi-seule", "new_password": NEW}
    assert client.post("/api/v1/me/password", headers=bearer(mine), json=body).status_code == 204
    # Within the 7 days the card stays hers (it may be all she has) ...
    clock.advance(days=6)
    assert _redeem(client, "fatou", creation_card[1], "encore-un-mdp-a-moi") == 204
    # ... and once they are over, the rest of the card the creator saw works no more.
    clock.advance(days=7, minutes=1)
    assert _redeem(client, "fatou", creation_card[2], "le-mdp-du-createur") == 422
    token = token_for(client, "fatou", "encore-un-mdp-a-moi")
    card = client.post(f"/api/v1/persons/{pid}/recovery-card", headers=bearer(token))
    assert card.status_code == 201
