"""Professionals' passkeys: added over the API and on the pages, used at the second factor's
step and to make a sign-in fresh again; the attacks that must fail (a replayed challenge,
another site, a cloned authenticator, someone else's passkey, an unverified user, a person,
a stale session removing keys)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from locker.models import AuditRecord
from sharing.models import Passkey
from tests.conftest import PASSWORD, Actors, bearer, token_for
from tests.factories import Clock
from tests.soft_authenticator import SoftAuthenticator
from tests.web.test_pages import csrf

EMAIL = "martin@lilas.example"
OTHER = "durand@ml.example"


def raw(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.auto_second_factor = False  # type: ignore[attr-defined]
    return client


def records(app: Flask, action: str) -> list[tuple[str, str]]:
    with app.extensions["locker"].session_factory() as session:
        rows = session.execute(
            select(AuditRecord.outcome, AuditRecord.reason)
            .where(AuditRecord.action == action)
            .order_by(AuditRecord.seq)
        )
        return [(outcome, reason) for outcome, reason in rows]


def register(client: FlaskClient, token: str, key: SoftAuthenticator, **extra: Any) -> Any:
    """Options, the authenticator's answer, and that answer posted back."""
    options = client.post("/api/v1/me/passkeys/registration-options", headers=bearer(token))
    assert options.status_code == 200, options.get_json()
    answer = key.create(options.get_json(), **extra)
    body = {"credential": answer, "name": "Ordinateur du bureau"}
    return client.post("/api/v1/me/passkeys", headers=bearer(token), json=body)


def with_passkey(app: Flask, email: str = EMAIL) -> SoftAuthenticator:
    key = SoftAuthenticator()
    client = app.test_client()
    answer = register(client, token_for(client, email), key)
    assert answer.status_code == 201, answer.get_json()
    return key


def at_the_code(app: Flask, email: str = EMAIL) -> tuple[FlaskClient, str]:
    """A browser session past the password, at the second factor's page; its CSRF token."""
    desk = raw(app)
    token = csrf(desk, "/sign-in")
    signed = desk.post(
        "/sign-in", data={"identifier": email, "password": PASSWORD, "csrf_token": token}
    )
    assert signed.headers["Location"].startswith("/sign-in/code")
    return desk, csrf(desk, "/sign-in/code")


def use_options(desk: FlaskClient, token: str) -> dict[str, Any]:
    answer = desk.post("/sign-in/passkey/options", headers={"X-CSRFToken": token})
    assert answer.status_code == 200, answer.data[:300]
    assert answer.mimetype == "application/json"
    options: dict[str, Any] = answer.get_json()
    return options


def post_answer(
    desk: FlaskClient, token: str, answer: dict[str, Any], onward: str = "/pro/persons"
) -> Any:
    form = {"credential": json.dumps(answer), "csrf_token": token}
    return desk.post(f"/sign-in/passkey?next={onward}", data=form)


def test_a_passkey_added_over_the_api_passes_the_second_factor(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = token_for(client, EMAIL)
    key = SoftAuthenticator()
    options = client.post("/api/v1/me/passkeys/registration-options", headers=bearer(token))
    created = options.get_json()
    assert created["rp"]["id"] == "localhost"
    assert created["authenticatorSelection"]["userVerification"] == "required"
    assert created["excludeCredentials"] == []
    answer = client.post(
        "/api/v1/me/passkeys",
        headers=bearer(token),
        json={"credential": key.create(created), "name": "  Ordinateur   du bureau "},
    )
    assert answer.status_code == 201, answer.get_json()
    added = answer.get_json()
    assert added["name"] == "Ordinateur du bureau" and added["last_used_at"] is None
    listed = client.get("/api/v1/me/passkeys", headers=bearer(token)).get_json()
    assert [k["id"] for k in listed] == [added["id"]]
    # Already registered: excluded from the next options.
    again = client.post("/api/v1/me/passkeys/registration-options", headers=bearer(token))
    assert [c["id"] for c in again.get_json()["excludeCredentials"]] == [answer_id(key)]
    assert records(app, "second_factor:passkey_add") == [("allowed", f"passkey:{added['id']}")]

    # After the password: the passkey instead of the code, then where they were going.
    desk, csrf_token = at_the_code(app)
    page = desk.get("/sign-in/code").get_data(as_text=True)
    assert 'id="passkey-form"' in page and "passkey.js" in page
    assert desk.get("/pro/persons").status_code == 302
    options_used = use_options(desk, csrf_token)
    assert options_used["userVerification"] == "required"
    assert [c["id"] for c in options_used["allowCredentials"]] == [answer_id(key)]
    passed = post_answer(desk, csrf_token, key.get(options_used))
    assert passed.status_code == 302 and passed.headers["Location"] == "/pro/persons"
    assert desk.get("/pro/persons").status_code == 200
    assert ("allowed", "passkey") in records(app, "second_factor:use")
    listed = client.get("/api/v1/me/passkeys", headers=bearer(token)).get_json()
    assert listed[0]["last_used_at"] is not None


def answer_id(key: SoftAuthenticator) -> str:
    from tests.soft_authenticator import b64u

    return b64u(key.credential_id)


def test_the_code_page_offers_no_passkey_to_whoever_has_none(app: Flask, world: Actors) -> None:
    desk, token = at_the_code(app)
    assert 'id="passkey-form"' not in desk.get("/sign-in/code").get_data(as_text=True)
    assert desk.post("/sign-in/passkey/options", headers={"X-CSRFToken": token}).status_code == 404


def test_a_replayed_challenge_is_refused(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = token_for(client, EMAIL)
    key = SoftAuthenticator()
    options = client.post("/api/v1/me/passkeys/registration-options", headers=bearer(token))
    body = {"credential": key.create(options.get_json()), "name": "clé"}
    assert client.post("/api/v1/me/passkeys", headers=bearer(token), json=body).status_code == 201
    replayed = client.post("/api/v1/me/passkeys", headers=bearer(token), json=body)
    assert replayed.status_code == 403 and replayed.get_json()["error"] == "bad_passkey"

    desk, csrf_token = at_the_code(app)
    answer = key.get(use_options(desk, csrf_token))
    assert post_answer(desk, csrf_token, answer).status_code == 302
    # The same answer in another sign-in (its own challenge pending, or none): refused.
    other, other_token = at_the_code(app)
    assert post_answer(other, other_token, answer).status_code == 401
    use_options(other, other_token)
    assert post_answer(other, other_token, answer).status_code == 401
    assert other.get("/pro/persons").status_code == 302
    refusals = [r for o, r in records(app, "second_factor:use") if o == "denied"]
    assert refusals == ["passkey_no_challenge", "passkey_invalid"]


def test_an_expired_challenge_is_refused(app: Flask, world: Actors, clock: Clock) -> None:
    key = with_passkey(app)
    desk, token = at_the_code(app)
    options = use_options(desk, token)
    clock.advance(minutes=6)
    assert post_answer(desk, token, key.get(options)).status_code == 401


def test_another_origin_is_refused(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = token_for(client, EMAIL)
    phished = register(client, token, SoftAuthenticator(), origin="http://localhost.evil.example")
    assert phished.status_code == 403
    assert records(app, "second_factor:passkey_add") == [("denied", "invalid_registration")]
    key = with_passkey(app)
    desk, csrf_token = at_the_code(app)
    options = use_options(desk, csrf_token)
    answer = key.get(options, origin="https://evil.example")
    assert post_answer(desk, csrf_token, answer).status_code == 401
    # Another relying party's id in the authenticator data: refused too.
    desk, csrf_token = at_the_code(app)
    answer = key.get(use_options(desk, csrf_token), rp_id="evil.example")
    assert post_answer(desk, csrf_token, answer).status_code == 401


def test_a_cloned_authenticator_is_refused_and_recorded(app: Flask, world: Actors) -> None:
    key = with_passkey(app)
    desk, token = at_the_code(app)
    assert post_answer(desk, token, key.get(use_options(desk, token), count=5)).status_code == 302
    # The copy's counter is behind the original's: a signature that holds, a count that does not.
    for count in (5, 3):
        desk, token = at_the_code(app)
        answer = key.get(use_options(desk, token), count=count)
        assert post_answer(desk, token, answer).status_code == 401
        assert desk.get("/pro/persons").status_code == 302
    refusals = [r for o, r in records(app, "second_factor:use") if o == "denied"]
    assert refusals == ["sign_count_regression", "sign_count_regression"]


def test_another_professionals_passkey_is_refused(app: Flask, world: Actors) -> None:
    with_passkey(app, EMAIL)
    theirs = with_passkey(app, OTHER)
    desk, token = at_the_code(app, EMAIL)
    options = use_options(desk, token)
    assert post_answer(desk, token, theirs.get(options)).status_code == 401
    assert desk.get("/pro/persons").status_code == 302


def test_an_unverified_user_is_refused(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = token_for(client, EMAIL)
    lazy = SoftAuthenticator()
    lazy.user_verified = False
    assert register(client, token, lazy).status_code == 403
    key = with_passkey(app)
    key.user_verified = False
    desk, csrf_token = at_the_code(app)
    assert post_answer(desk, csrf_token, key.get(use_options(desk, csrf_token))).status_code == 401


def test_a_person_has_no_passkey(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = token_for(client, "alice")
    refused = client.post("/api/v1/me/passkeys/registration-options", headers=bearer(token))
    assert refused.status_code == 403
    assert client.get("/api/v1/me/passkeys", headers=bearer(token)).status_code == 403
    body = {"credential": {"id": "x"}, "name": "x"}
    assert client.post("/api/v1/me/passkeys", headers=bearer(token), json=body).status_code == 403


def test_wrong_answers_are_counted_like_codes(app: Flask, world: Actors) -> None:
    with_passkey(app)
    desk, token = at_the_code(app)
    for _ in range(10):
        assert post_answer(desk, token, {"id": "AAAA"}).status_code == 401
    assert post_answer(desk, token, {"id": "AAAA"}).status_code == 429


def test_removing_a_passkey_asks_a_fresh_factor(app: Flask, world: Actors, clock: Clock) -> None:
    key = with_passkey(app)
    theirs = with_passkey(app, OTHER)
    client = raw(app)
    token = token_for(app.test_client(), EMAIL)
    mine = client.get("/api/v1/me/passkeys", headers=bearer(token)).get_json()[0]["id"]
    other_token = token_for(app.test_client(), OTHER)
    other = client.get("/api/v1/me/passkeys", headers=bearer(other_token)).get_json()[0]["id"]
    # Someone else's: the same answer as a missing one.
    assert client.delete(f"/api/v1/me/passkeys/{other}", headers=bearer(token)).status_code == 404
    clock.advance(minutes=16)
    stale = client.delete(f"/api/v1/me/passkeys/{mine}", headers=bearer(token))
    assert stale.status_code == 403
    assert stale.get_json()["error"] == "fresh_second_factor_required"
    assert records(app, "second_factor:passkey_remove") == [("denied", "stale_second_factor")]
    fresh = app.test_client()  # gives the app's code in the header
    assert fresh.delete(f"/api/v1/me/passkeys/{mine}", headers=bearer(token)).status_code == 204
    assert records(app, "second_factor:passkey_remove")[-1] == ("allowed", f"passkey:{mine}")
    with app.extensions["locker"].session_factory() as session:
        left = session.scalars(select(Passkey.id)).all()
    assert left == [other]
    # Gone: it passes nothing any more.
    desk, csrf_token = at_the_code(app)
    assert (
        desk.post("/sign-in/passkey/options", headers={"X-CSRFToken": csrf_token}).status_code
        == 404
    )
    assert theirs is not None and key is not None


def test_the_pages_add_list_and_remove_a_passkey(app: Flask, world: Actors, clock: Clock) -> None:
    desk = app.test_client()  # the code typed by the test client at sign-in
    token = csrf(desk, "/sign-in")
    desk.post("/sign-in", data={"identifier": EMAIL, "password": PASSWORD, "csrf_token": token})
    settings = desk.get("/settings").get_data(as_text=True)
    assert 'href="/account/passkeys"' in settings
    page = desk.get("/account/passkeys")
    assert page.status_code == 200 and 'id="no-passkeys"' in page.get_data(as_text=True)
    token = csrf(desk, "/account/passkeys")
    options = desk.post("/account/passkeys/options", headers={"X-CSRFToken": token})
    assert options.status_code == 200
    key = SoftAuthenticator()
    form = {
        "credential": json.dumps(key.create(options.get_json())),
        "name": "Portable",
        "csrf_token": token,
    }
    added = desk.post("/account/passkeys", data=form)
    assert added.status_code == 302 and added.headers["Location"] == "/account/passkeys"
    listed = desk.get("/account/passkeys").get_data(as_text=True)
    assert "Portable" in listed and 'id="remove-passkey-1"' in listed
    # The same answer again: refused on the page, said beside the form.
    again = desk.post("/account/passkeys", data=form)
    assert again.status_code == 403
    with app.extensions["locker"].session_factory() as session:
        passkey_id = session.scalars(select(Passkey.id)).one()
    remove = f"/account/passkeys/{passkey_id}/remove"
    asked = desk.post(remove, data={"csrf_token": token})
    assert asked.status_code == 200 and 'id="confirm"' in asked.get_data(as_text=True)
    # Stale: the code (or a passkey) again first, then back to the passkeys' page.
    clock.advance(minutes=16)
    stale = desk.post(remove, data={"csrf_token": token, "confirmed": "1"})
    assert stale.status_code == 302 and stale.headers["Location"].startswith(
        "/account/confirm-code"
    )
    confirm = desk.get(stale.headers["Location"]).get_data(as_text=True)
    assert 'id="passkey-form"' in confirm
    options = desk.post("/sign-in/passkey/options", headers={"X-CSRFToken": token}).get_json()
    form = {"credential": json.dumps(key.get(options)), "csrf_token": token}
    fresh = desk.post("/sign-in/passkey?next=/account/passkeys", data=form)
    assert fresh.status_code == 302 and fresh.headers["Location"] == "/account/passkeys"
    removed = desk.post(remove, data={"csrf_token": token, "confirmed": "1"})
    assert removed.status_code == 302 and removed.headers["Location"] == "/account/passkeys"
    assert 'id="no-passkeys"' in desk.get("/account/passkeys").get_data(as_text=True)
    assert [o for o, _ in records(app, "second_factor:passkey_remove")] == ["allowed"]


def test_the_relying_party_comes_from_the_settings(app: Flask, world: Actors) -> None:
    from dataclasses import replace

    found = app.extensions["locker"]
    found.settings = replace(
        found.settings, webauthn_rp_id="example.org", webauthn_origin="https://coffre.example.org"
    )
    client = app.test_client()
    token = token_for(client, EMAIL)
    key = SoftAuthenticator(origin="https://coffre.example.org")
    options = client.post("/api/v1/me/passkeys/registration-options", headers=bearer(token))
    assert options.get_json()["rp"]["id"] == "example.org"
    answer = client.post(
        "/api/v1/me/passkeys",
        headers=bearer(token),
        json={"credential": key.create(options.get_json())},
    )
    assert answer.status_code == 201
    # The request's own host is not trusted once the origin is set.
    other = register(client, token, SoftAuthenticator(origin="http://localhost"))
    assert other.status_code == 403


def test_a_stale_sign_in_adds_no_passkey(app: Flask, world: Actors, clock: Clock) -> None:
    client = raw(app)  # sends no code by itself
    token = token_for(app.test_client(), EMAIL)
    clock.advance(minutes=16)
    refused = client.post("/api/v1/me/passkeys/registration-options", headers=bearer(token))
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "fresh_second_factor_required"
    body = {"credential": {"id": "x"}, "name": "x"}
    posted = client.post("/api/v1/me/passkeys", headers=bearer(token), json=body)
    assert posted.get_json()["error"] == "fresh_second_factor_required"
    # The page sends a stale session to the code first, and back.
    desk = app.test_client()
    desk.post(
        "/sign-in",
        data={"identifier": EMAIL, "password": PASSWORD, "csrf_token": csrf(desk, "/sign-in")},
    )
    clock.advance(minutes=16)
    away = desk.get("/account/passkeys")
    assert away.status_code == 302
    assert away.headers["Location"].startswith("/account/confirm-code?next=/account/passkeys")
    page_token = csrf(desk, "/account/confirm-code")
    options = desk.post("/account/passkeys/options", headers={"X-CSRFToken": page_token})
    assert options.status_code == 403
    with app.extensions["locker"].session_factory() as session:
        assert session.scalars(select(Passkey.id)).all() == []
