"""Professionals' second factor and sessions: the attacks that must fail.

A reused step, guessed codes, a token or a browser session that has not passed the factor,
a backup code used twice, a database dump, a lost phone, a stolen session after a password
or factor change, a session kept alive past its absolute limit.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, select, text

from locker.models import AuditRecord, Professional
from sharing.models import BackupCode, SecondFactor
from sharing.second_factor import reset_second_factor
from tests.conftest import PASSWORD, Actors, bearer, token_for
from tests.factories import (
    FACTOR_SECRET,
    Clock,
    current_step,
    new_professional,
    second_factor_code,
    totp_at,
)
from tests.web.test_pages import csrf

EMAIL = "martin@lilas.example"


def raw(app: Flask) -> FlaskClient:
    """A client that adds no code by itself: the test says exactly what is sent."""
    client = app.test_client()
    client.auto_second_factor = False  # type: ignore[attr-defined]
    return client


def token_request(client: FlaskClient, email: str = EMAIL, **extra: Any) -> Any:
    return client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD, **extra})


def new_pro(app: Flask, world: Actors, name: str = "nouvelle", enrolled: bool = False) -> str:
    found = app.extensions["locker"]
    with found.session_factory() as session:
        org = session.merge(world.org)
        pro = new_professional(session, found.clock, org, name, enrolled=enrolled)
        session.commit()
        return pro.email


def audit_actions(app: Flask) -> list[tuple[str, str, str]]:
    with app.extensions["locker"].session_factory() as session:
        rows = session.execute(
            select(AuditRecord.action, AuditRecord.outcome, AuditRecord.reason).order_by(
                AuditRecord.seq
            )
        )
        return [(a, o, r) for a, o, r in rows if a.startswith("second_factor:")]


# --- the API ---


def test_enrolment_over_the_api_then_the_code_is_needed(
    app: Flask, world: Actors, clock: Clock
) -> None:
    email = new_pro(app, world)
    client = raw(app)
    answer = token_request(client, email)
    assert answer.status_code == 201
    pending = answer.get_json()["token"]
    me = client.get("/api/v1/me", headers=bearer(pending))
    assert me.status_code == 200 and me.get_json()["kind"] == "professional"
    # Nothing else before the factor: documents, persons, the audit log, creating persons.
    for method, path in [
        ("GET", "/api/v1/professionals/me/persons"),
        ("GET", f"/api/v1/persons/{world.alice.id}/documents"),
        ("GET", "/api/v1/audit/my-actions"),
        ("POST", "/api/v1/persons"),
        ("PATCH", "/api/v1/me"),
        ("POST", "/api/v1/me/password"),
    ]:
        refused = client.open(path, method=method, headers=bearer(pending), json={})
        assert refused.status_code == 403, path
        assert refused.get_json() == {"error": "second_factor_required"}, path
    enrolment = client.post("/api/v1/me/totp", headers=bearer(pending))
    assert enrolment.status_code == 200
    body = enrolment.get_json()
    secret = body["secret"]
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert parse_qs(urlsplit(body["otpauth_uri"]).query)["secret"] == [secret]
    assert len(body["backup_codes"]) == 10
    totp = pyotp.TOTP(secret)
    wrong = client.post("/api/v1/me/totp/confirm", headers=bearer(pending), json={"code": "000000"})
    assert wrong.status_code == 403
    confirmed = client.post(
        "/api/v1/me/totp/confirm", headers=bearer(pending), json={"code": totp.at(clock())}
    )
    assert confirmed.status_code == 204
    # The same token opens everything now.
    assert (
        client.get("/api/v1/professionals/me/persons", headers=bearer(pending)).status_code == 200
    )
    # A new sign-in needs the code: without it, with a wrong one, 401.
    assert token_request(client, email).status_code == 401
    assert token_request(client, email, totp="123456").status_code == 401
    clock.advance(seconds=30)
    signed = token_request(client, email, totp=totp.at(clock()))
    assert signed.status_code == 201
    full = signed.get_json()["token"]
    assert client.get("/api/v1/professionals/me/persons", headers=bearer(full)).status_code == 200
    # Once confirmed, no new secret over the API (the operator resets a lost phone).
    assert client.post("/api/v1/me/totp", headers=bearer(full)).status_code == 409
    # The backup codes given with the secret work, once.
    code = body["backup_codes"][0]
    assert token_request(client, email, backup_code=code).status_code == 201
    assert token_request(client, email, backup_code=code).status_code == 401
    actions = [a for a, _, _ in audit_actions(app)]
    assert {"second_factor:enrol", "second_factor:confirm", "second_factor:use"} <= set(actions)
    assert ("second_factor:use", "denied", "wrong_enrolment_code") in audit_actions(app)


def test_a_step_already_used_is_refused(app: Flask, world: Actors, clock: Clock) -> None:
    client = raw(app)
    code = totp_at(current_step(clock))
    assert token_request(client, totp=code).status_code == 201
    # The same code again (replayed, or read over a shoulder): refused.
    assert token_request(client, totp=code).status_code == 401
    # An earlier step of the window too: its step is before the one used.
    assert token_request(client, totp=totp_at(current_step(clock) - 1)).status_code == 401
    # The next step is accepted; then the one in between no longer is.
    assert token_request(client, totp=totp_at(current_step(clock) + 1)).status_code == 201
    assert token_request(client, totp=code).status_code == 401
    # Far from now: refused whatever was used.
    assert token_request(client, totp=totp_at(current_step(clock) + 5)).status_code == 401
    refusals = [r for a, o, r in audit_actions(app) if o == "denied"]
    assert refusals.count("wrong_code") == 4


def test_wrong_codes_are_throttled_like_passwords(app: Flask, world: Actors, clock: Clock) -> None:
    client = raw(app)
    for _ in range(10):
        assert token_request(client, totp="000000").status_code == 401
    # The right code is refused too now: the account used up its failures.
    right = token_request(client, totp=totp_at(current_step(clock)))
    assert right.status_code == 429


def test_a_person_has_no_second_factor(app: Flask, world: Actors) -> None:
    token = token_for(app.test_client(), "alice")
    client = raw(app)
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.get_json()["kind"] == "person"
    assert (
        client.get(f"/api/v1/persons/{world.alice.id}/documents", headers=bearer(token)).status_code
        == 200
    )
    assert client.post("/api/v1/me/totp", headers=bearer(token)).status_code == 403


def test_a_backup_code_works_once_and_in_the_totp_field(
    app: Flask, world: Actors, clock: Clock
) -> None:
    client = raw(app)
    token = token_for(app.test_client(), EMAIL)
    renewed = client.post(
        "/api/v1/me/totp/backup-codes",
        headers=bearer(token),
        json={"code": second_factor_code(app, world.pro)},
    )
    assert renewed.status_code == 200
    codes = renewed.get_json()["backup_codes"]
    assert len(set(codes)) == 10
    assert token_request(client, totp=codes[0]).status_code == 201
    assert token_request(client, totp=codes[0]).status_code == 401
    assert token_request(client, backup_code=codes[1].upper()).status_code == 201
    assert token_request(client, backup_code=codes[1]).status_code == 401
    # Renewing voids the rest.
    again = client.post(
        "/api/v1/me/totp/backup-codes",
        headers=bearer(token),
        json={"code": second_factor_code(app, world.pro)},
    )
    assert again.status_code == 200
    assert token_request(client, backup_code=codes[2]).status_code == 401
    # A backup code does not renew backup codes: the app's code does.
    newer = again.get_json()["backup_codes"]
    refused = client.post(
        "/api/v1/me/totp/backup-codes", headers=bearer(token), json={"code": newer[0]}
    )
    assert refused.status_code == 403


def test_the_secret_is_not_in_the_database_in_clear(
    app: Flask, world: Actors, clock: Clock
) -> None:
    email = new_pro(app, world)
    client = raw(app)
    pending = token_request(client, email).get_json()["token"]
    body = client.post("/api/v1/me/totp", headers=bearer(pending)).get_json()
    secret, codes = body["secret"], body["backup_codes"]
    clean = [secret, secret.lower(), *codes, *(c.replace("-", "") for c in codes)]
    binary = base64.b32decode(secret)
    found = app.extensions["locker"]
    with found.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        value = bytes(value)
                        assert binary not in value, table
                        assert not any(c.encode() in value for c in clean), table
                    elif isinstance(value, str):
                        assert not any(c in value for c in clean), table
    # The row holds a sealed secret that opens only with the keyring.
    with found.session_factory() as session:
        factor = session.scalars(select(SecondFactor)).all()
        assert factor and all(f.secret_ciphertext for f in factor)
        assert session.scalars(select(BackupCode.code_hash)).first() is not None


def test_the_operators_reset_ends_every_session(app: Flask, world: Actors, clock: Clock) -> None:
    token = token_for(app.test_client(), EMAIL)
    desk = app.test_client()
    assert _page_sign_in(desk, EMAIL).status_code == 302
    assert desk.get("/pro/persons").status_code == 200
    found = app.extensions["locker"]
    with found.session_factory() as session:
        reset_second_factor(session, clock, world.pro.id)
        session.commit()
        assert session.get(SecondFactor, world.pro.id) is None
        assert session.scalars(select(BackupCode)).all() == []
    assert raw(app).get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert desk.get("/pro/persons").status_code == 302
    # At the next sign-in: enrolment again (a token that opens only that).
    pending = token_request(raw(app)).get_json()["token"]
    assert raw(app).post("/api/v1/me/totp", headers=bearer(pending)).status_code == 200
    assert ("second_factor:reset", "allowed", f"professional:{world.pro.id}") in audit_actions(app)


def test_a_password_change_ends_the_other_sessions(app: Flask, world: Actors) -> None:
    mine = token_for(app.test_client(), EMAIL)
    stolen = token_for(app.test_client(), EMAIL)
    desk = app.test_client()
    _page_sign_in(desk, EMAIL)
    changed = raw(app).post(
        "/api/v1/me/password",
        headers=bearer(mine),
        json={"current_password": PASSWORD, "new_password": "a brand new password"},
    )
    assert changed.status_code == 204
    assert raw(app).get("/api/v1/me", headers=bearer(mine)).status_code == 200
    assert raw(app).get("/api/v1/me", headers=bearer(stolen)).status_code == 401
    assert desk.get("/pro/persons").status_code == 302


def test_sign_out_everywhere_over_the_api(app: Flask, world: Actors) -> None:
    first = token_for(app.test_client(), EMAIL)
    second = token_for(app.test_client(), EMAIL)
    desk = app.test_client()
    _page_sign_in(desk, EMAIL)
    assert raw(app).delete("/api/v1/auth/tokens", headers=bearer(first)).status_code == 204
    for token in (first, second):
        assert raw(app).get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert desk.get("/pro/persons").status_code == 302
    # Another professional's sessions are untouched.
    other = token_for(app.test_client(), "durand@ml.example")
    assert raw(app).get("/api/v1/me", headers=bearer(other)).status_code == 200


# --- the pages ---


def _page_sign_in(client: FlaskClient, email: str) -> Any:
    token = csrf(client, "/sign-in")
    return client.post(
        "/sign-in", data={"identifier": email, "password": PASSWORD, "csrf_token": token}
    )


def test_a_browser_session_before_its_code_reaches_no_pro_page(
    app: Flask, world: Actors, clock: Clock
) -> None:
    desk = raw(app)
    answer = _page_sign_in(desk, EMAIL)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/sign-in/code")
    for path in ["/pro", "/pro/persons", "/settings", "/account/password", "/pro/my-actions", "/"]:
        refused = desk.get(path)
        assert refused.status_code == 302, path
        assert refused.headers["Location"].startswith("/sign-in/code"), path
    # A form posted before the code does nothing either.
    token = csrf(desk, "/sign-in/code")
    posted = desk.post("/sign-out-everywhere", data={"csrf_token": token, "confirmed": "1"})
    assert posted.headers["Location"].startswith("/sign-in/code")
    wrong = desk.post("/sign-in/code", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 401
    assert desk.get("/pro/persons").status_code == 302
    right = desk.post(
        "/sign-in/code?next=/pro/persons",
        data={"code": second_factor_code(app, world.pro), "csrf_token": token},
    )
    assert right.status_code == 302 and right.headers["Location"] == "/pro/persons"
    assert desk.get("/pro/persons").status_code == 200


def test_a_backup_code_on_the_code_page_works_once(app: Flask, world: Actors, clock: Clock) -> None:
    token = token_for(app.test_client(), EMAIL)
    codes = (
        raw(app)
        .post(
            "/api/v1/me/totp/backup-codes",
            headers=bearer(token),
            json={"code": second_factor_code(app, world.pro)},
        )
        .get_json()["backup_codes"]
    )
    for expected in (302, 401):
        desk = raw(app)
        _page_sign_in(desk, EMAIL)
        form = {"code": codes[0], "csrf_token": csrf(desk, "/sign-in/code")}
        assert desk.post("/sign-in/code", data=form).status_code == expected


def test_wrong_codes_on_the_page_are_throttled(app: Flask, world: Actors) -> None:
    desk = raw(app)
    _page_sign_in(desk, EMAIL)
    token = csrf(desk, "/sign-in/code")
    for _ in range(10):
        assert (
            desk.post("/sign-in/code", data={"code": "999999", "csrf_token": token}).status_code
            == 401
        )
    form = {"code": second_factor_code(app, world.pro), "csrf_token": token}
    assert desk.post("/sign-in/code", data=form).status_code == 429


def test_enrolment_in_the_browser(app: Flask, world: Actors, clock: Clock) -> None:
    email = new_pro(app, world)
    other = token_for(app.test_client(), email)  # a pending token, elsewhere
    desk = raw(app)
    answer = _page_sign_in(desk, email)
    assert answer.status_code == 302
    assert desk.get("/pro").headers["Location"].startswith("/account/second-factor")
    page = desk.get("/account/second-factor")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    # Shown again, the same secret (a reload does not void the one scanned).
    assert secret in desk.get("/account/second-factor").get_data(as_text=True).replace(" ", "")
    token = csrf(desk, "/account/second-factor")
    wrong = desk.post("/account/second-factor", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 403
    done = desk.post(
        "/account/second-factor",
        data={"code": pyotp.TOTP(secret).at(clock()), "csrf_token": token},
    )
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.get_data(as_text=True))
    assert done.status_code == 200 and len(codes) == 10
    assert desk.get("/pro/persons").status_code == 200
    # Confirming ended every other session of theirs.
    assert raw(app).get("/api/v1/me", headers=bearer(other)).status_code == 401
    # The enrolment page is gone now: it leads to the backup codes.
    assert (
        desk.get("/account/second-factor").headers["Location"]
        == "/account/second-factor/backup-codes"
    )


def test_renewing_backup_codes_in_the_browser(app: Flask, world: Actors, clock: Clock) -> None:
    desk = app.test_client()
    _page_sign_in(desk, EMAIL)
    elsewhere = token_for(app.test_client(), EMAIL)
    page = desk.get("/account/second-factor/backup-codes")
    assert page.status_code == 200
    token = csrf(desk, "/account/second-factor/backup-codes")
    wrong = desk.post(
        "/account/second-factor/backup-codes", data={"code": "000000", "csrf_token": token}
    )
    assert wrong.status_code == 403
    renewed = desk.post(
        "/account/second-factor/backup-codes",
        data={"code": second_factor_code(app, world.pro), "csrf_token": token},
    )
    assert renewed.status_code == 200
    assert len(re.findall(r"<code>[a-z2-9-]{11}</code>", renewed.get_data(as_text=True))) == 10
    assert raw(app).get("/api/v1/me", headers=bearer(elsewhere)).status_code == 401
    assert desk.get("/pro/persons").status_code == 200


# --- sessions ---


@pytest.mark.parametrize("channel", ["web", "api"])
def test_the_absolute_limit_ends_an_active_session(
    app: Flask, world: Actors, clock: Clock, channel: str
) -> None:
    desk = app.test_client()
    token = token_for(app.test_client(), EMAIL)
    _page_sign_in(desk, EMAIL)
    for _ in range(29):  # active every 20 minutes for 9 h 40
        clock.advance(minutes=20)
        if channel == "web":
            assert desk.get("/pro/persons").status_code == 200
        else:
            assert raw(app).get("/api/v1/me", headers=bearer(token)).status_code == 200
    clock.advance(minutes=20)  # 10 hours after signing in
    if channel == "web":
        assert desk.get("/pro/persons").status_code == 302
    else:
        assert raw(app).get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_professionals_made_by_the_factories_are_enrolled(app: Flask, world: Actors) -> None:
    with app.extensions["locker"].session_factory() as session:
        factors = session.scalars(select(SecondFactor.professional_id)).all()
        pros = session.scalars(select(Professional.id)).all()
    assert set(factors) == set(pros)
    assert pyotp.TOTP(FACTOR_SECRET).now().isdigit()
