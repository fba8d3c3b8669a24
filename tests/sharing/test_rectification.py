"""The person corrects what the locker says: a paper's valid-until date (and title, type),
their name and username; from the API and the pages, each change recorded."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from locker.models import AuditRecord
from tests.conftest import bearer, token_for
from tests.factories import Clock, build_world
from tests.web.test_pages import csrf, sign_in


def _actions(app: Flask, action: str) -> list[AuditRecord]:
    with app.extensions["locker"].session_factory() as session:
        query = select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
        return list(session.scalars(query))


def test_a_papers_valid_until_date_is_set_cleared_and_kept(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    token = token_for(client, world.alice.username)
    path = f"/api/v1/documents/{world.doc}"
    dated = client.patch(path, json={"valid_until": "2027-03-31"}, headers=bearer(token))
    assert dated.status_code == 200 and dated.get_json()["valid_until"] == "2027-03-31"
    # Left out of the body, the date stays; a title change does not touch it.
    renamed = client.patch(path, json={"title": "Titre de séjour"}, headers=bearer(token))
    assert renamed.get_json()["valid_until"] == "2027-03-31"
    assert client.get(path, headers=bearer(token)).get_json()["valid_until"] == "2027-03-31"
    # null clears it; an implausible date is refused and changes nothing.
    cleared = client.patch(path, json={"valid_until": None}, headers=bearer(token))
    assert cleared.status_code == 200 and cleared.get_json()["valid_until"] is None
    wrong = client.patch(path, json={"valid_until": "1850-01-01"}, headers=bearer(token))
    assert wrong.status_code == 422 and wrong.get_json()["error"] == "invalid_input"
    assert [r.outcome for r in _actions(app, "document:validity")] == ["allowed", "allowed"]


def test_only_who_may_organise_the_paper_may_re_date_it(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    path = f"/api/v1/documents/{world.doc}"
    body = {"valid_until": "2030-01-01"}
    for name, status in (
        ("helper_organise", 200),
        ("helper_view", 404),
        ("referent_grant", 404),
        ("org_admin", 404),
    ):
        token = token_for(client, world.users[name].email)  # type: ignore[union-attr]
        assert client.patch(path, json=body, headers=bearer(token)).status_code == status, name
    records = _actions(app, "document:validity")
    allowed = [r for r in records if r.outcome == "allowed"]
    assert len(allowed) == 1 and allowed[0].on_behalf_of == world.alice.id


def test_the_paper_page_corrects_the_date_without_javascript(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    person = app.test_client()
    assert sign_in(person, world.alice.username).status_code == 302
    page = f"/papers/{world.doc}"
    assert 'id="edit-valid-until"' in person.get(page).get_data(as_text=True)
    form = {"title": "Carte", "category": "identity", "valid_until": "2031-06-30"}
    saved = person.post(f"{page}/edit", data={**form, "csrf_token": csrf(person, page)})
    assert saved.status_code == 302
    assert 'value="2031-06-30"' in person.get(page).get_data(as_text=True)
    form["valid_until"] = ""
    person.post(f"{page}/edit", data={**form, "csrf_token": csrf(person, page)})
    assert 'id="edit-valid-until" name="valid_until" type="date" value=""' in (
        person.get(page).get_data(as_text=True)
    )


def test_the_person_corrects_their_name_and_username_through_the_api(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    token = token_for(client, world.alice.username)
    fixed = client.patch(
        "/api/v1/me",
        json={"display_name": "Alice  Dupont", "username": " Alice.D "},
        headers=bearer(token),
    )
    assert fixed.status_code == 200, fixed.get_json()
    assert fixed.get_json()["display_name"] == "Alice Dupont"
    assert fixed.get_json()["username"] == "alice.d"
    assert client.get("/api/v1/me", headers=bearer(token)).get_json()["username"] == "alice.d"
    assert token_for(client, "alice.d")  # the new username signs in
    # Someone else's username, a malformed one, an empty name: refused, nothing changed.
    taken = client.patch("/api/v1/me", json={"username": "bob"}, headers=bearer(token))
    assert taken.status_code == 409 and taken.get_json()["error"] == "already_exists"
    for body in ({"username": "a b"}, {"display_name": "  "}):
        refused = client.patch("/api/v1/me", json=body, headers=bearer(token))
        assert refused.status_code == 422, body
    assert client.get("/api/v1/me", headers=bearer(token)).get_json()["username"] == "alice.d"
    assert len(_actions(app, "account:correct")) == 1
    # A professional corrects their name, not a username they do not have.
    pro = token_for(client, world.users["referent_grant"].email)  # type: ignore[union-attr]
    assert (
        client.patch("/api/v1/me", json={"username": "x"}, headers=bearer(pro)).status_code == 422
    )
    named = client.patch("/api/v1/me", json={"display_name": "Mme M."}, headers=bearer(pro))
    assert named.status_code == 200 and named.get_json()["display_name"] == "Mme M."


def test_the_settings_page_corrects_them_and_says_what_was_wrong(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    person = app.test_client()
    assert sign_in(person, world.alice.username).status_code == 302
    token = csrf(person, "/settings")
    taken = person.post(
        "/settings/account",
        data={"display_name": "Alice", "username": "bob", "csrf_token": token},
    )
    assert taken.status_code == 409
    page = taken.get_data(as_text=True)
    assert 'id="error-summary"' in page and 'href="#username"' in page
    assert 'aria-describedby="username-error"' in page and 'value="bob"' in page
    saved = person.post(
        "/settings/account",
        data={
            "display_name": "Alice D.",
            "username": "alice2",
            "expiry_reminders": "1",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 302
    page = person.get("/settings").get_data(as_text=True)
    assert 'value="alice2"' in page and 'id="expiry_reminders" checked' in page
