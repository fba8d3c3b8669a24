"""The recovery card at account creation: codes shown once, stored hashed, single-use."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from locker.models import AuditRecord, Person
from sharing.models import RecoveryCode
from tests.conftest import PASSWORD, Actors, bearer, token_for
from tests.web.test_pages import csrf, sign_in


def _redeem(client: FlaskClient, username: str, code: str, new: str) -> int:
    body = {"username": username, "code": code, "new_password": new}
    return client.post("/api/v1/recovery", json=body).status_code


def test_api_returns_the_card_once_and_stores_only_hashes(
    client: FlaskClient, app: Flask, world: Actors
) -> None:
    token = token_for(client, "martin@lilas.example")
    made = client.post(
        "/api/v1/persons",
        headers=bearer(token),
        json={"username": "fatou", "display_name": "Fatou", "password": PASSWORD},
    )
    assert made.status_code == 201
    codes = made.get_json()["recovery_codes"]
    assert len(codes) == 8 and len(set(codes)) == 8
    assert all(re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", c) for c in codes)
    pid = made.get_json()["id"]
    with app.extensions["locker"].session_factory() as session:
        rows = session.scalars(select(RecoveryCode).where(RecoveryCode.person_id == pid)).all()
        # "initial": the creator saw them, so they count as issued by the creator.
        assert {r.kind for r in rows} == {"initial"} and len(rows) == 8
        assert {r.issued_by_id for r in rows} == {world.pro.id}
        stored = " ".join(r.code_hash for r in rows)
        assert not any(c in stored or c.replace("-", "") in stored for c in codes)
        audit = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "recovery:card")
        ).one()
        assert (audit.actor_id, audit.person_id, audit.reason) == (
            world.pro.id,
            pid,
            "account_creation",
        )
    # Single use: the first code works once, then never again.
    assert _redeem(client, "fatou", codes[0], "nouveau-mot-de-passe") == 204
    assert _redeem(client, "fatou", codes[0], "encore-un-autre-mdp") == 422
    assert token_for(client, "fatou", "nouveau-mot-de-passe")
    # The codes are not shown again: the person's notices or the API never list them.
    me = client.get(
        "/api/v1/me", headers=bearer(token_for(client, "fatou", "nouveau-mot-de-passe"))
    )
    assert codes[1] not in me.get_data(as_text=True)
    # Bob's codes do not open Fatou's account, and vice versa.
    assert _redeem(client, "bob", codes[1], "nouveau-mot-de-passe") == 422


def test_pro_page_offers_and_prints_the_card(app: Flask, world: Actors) -> None:
    client = app.test_client()
    sign_in(client, "martin@lilas.example")
    page = client.get("/pro")
    assert re.search(rb'name="recovery_card" value="1" checked', page.data)
    form = {"username": "nadia", "display_name": "Nadia", "password": PASSWORD}
    made = client.post(
        "/pro", data={**form, "recovery_card": "1", "csrf_token": csrf(client, "/pro")}
    )
    assert made.status_code == 200
    assert b'id="created-username">nadia<' in made.data
    card = re.search(rb'<section class="card" id="recovery-card">(.*?)</section>', made.data, re.S)
    assert card and b'id="card-username">nadia<' in card.group(1)
    codes = re.findall(rb"<code>([2-9A-Z-]{14})</code>", card.group(1))
    assert len(codes) == 8
    # Declined: no card, no codes stored.
    other = {"username": "omar", "display_name": "Omar", "password": PASSWORD}
    plain = client.post("/pro", data={**other, "csrf_token": csrf(client, "/pro")})
    assert plain.status_code == 200 and b"recovery-card" not in plain.data
    with app.extensions["locker"].session_factory() as session:
        omar = session.scalars(select(Person).where(Person.username == "omar")).one()
        assert not session.scalars(
            select(RecoveryCode).where(RecoveryCode.person_id == omar.id)
        ).all()
    # A printed code resets Nadia's password.
    anonymous = app.test_client()
    token = csrf(anonymous, "/recover")
    reset = anonymous.post(
        "/recover",
        data={
            "username": "nadia",
            "code": codes[3].decode(),
            "new_password": "mon-nouveau-mdp",
            "csrf_token": token,
        },
    )
    assert reset.status_code == 302
    assert sign_in(anonymous, "nadia", "mon-nouveau-mdp").status_code == 302
