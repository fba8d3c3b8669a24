"""Information before first use (R.55-1 CPCE) and the privacy notice (RGPD art. 13): open
to anyone, shown and accepted by each person before their pages open, its version kept."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from locker import accounts
from locker.actors import utc_now
from locker.models import AuditRecord
from tests.conftest import bearer, token_for
from tests.web.test_pages import csrf, sign_in
from web.accounts import INFORMATION_VERSION


def _new_person(app: Flask, username: str) -> str:
    """A person as a professional or the operator creates one: nothing accepted yet."""
    found = app.extensions["locker"]
    with found.session_factory() as session:
        person = accounts.create_person(
            session,
            found.keyring,
            utc_now,
            username=username,
            display_name="Awa",
            password="correct horse battery",
        )
        session.commit()
        return person.id


def test_both_pages_are_open_to_anyone_and_name_the_operator(app: Flask) -> None:
    anyone = app.test_client()
    for path in ("/information", "/privacy"):
        page = anyone.get(path)
        assert page.status_code == 200, path
        assert "pas encore donné son nom" in page.get_data(as_text=True)  # not configured
    footer = anyone.get("/sign-in").get_data(as_text=True)
    assert 'href="/information"' in footer and 'href="/privacy"' in footer
    assert "cnil.fr" in anyone.get("/privacy").get_data(as_text=True)


def test_a_person_accepts_it_before_their_pages_open(app: Flask) -> None:
    person_id = _new_person(app, "awa")
    person = app.test_client()
    assert sign_in(person, "awa").status_code == 302
    for path in ("/papers", "/settings", "/accompaniment"):
        sent_away = person.get(path)
        assert sent_away.status_code == 302 and sent_away.headers["Location"] == "/information"
    page = person.get("/information").get_data(as_text=True)
    assert 'id="accept-information"' in page
    accepted = person.post("/information", data={"csrf_token": csrf(person, "/information")})
    assert accepted.status_code == 302
    assert person.get("/papers").status_code == 200
    assert 'id="accept-information"' not in person.get("/information").get_data(as_text=True)
    with app.extensions["locker"].session_factory() as session:
        records = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "information:accept")
        ).all()
    assert [(r.person_id, r.reason) for r in records] == [(person_id, INFORMATION_VERSION)]


def test_a_new_version_is_accepted_again(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    _new_person(app, "awa")
    person = app.test_client()
    sign_in(person, "awa")
    person.post("/information", data={"csrf_token": csrf(person, "/information")})
    assert person.get("/papers").status_code == 200
    monkeypatch.setattr("web.accounts.pages.INFORMATION_VERSION", "2099-01-01")
    assert person.get("/papers").headers["Location"] == "/information"


def test_the_api_says_which_version_and_records_it_but_blocks_nothing(app: Flask) -> None:
    person_id = _new_person(app, "awa")
    client = app.test_client()
    token = token_for(client, "awa")
    assert (
        client.get("/api/v1/me", headers=bearer(token)).get_json()["information_accepted_version"]
        is None
    )
    listed = client.get(f"/api/v1/persons/{person_id}/documents", headers=bearer(token))
    assert listed.status_code == 200  # the API refuses nothing for it
    old = client.post(
        "/api/v1/me/information", json={"version": "2020-01-01"}, headers=bearer(token)
    )
    assert old.status_code == 422 and old.get_json()["error"] == "invalid_input"
    done = client.post(
        "/api/v1/me/information", json={"version": INFORMATION_VERSION}, headers=bearer(token)
    )
    assert done.status_code == 200
    assert done.get_json()["information_accepted_version"] == INFORMATION_VERSION
