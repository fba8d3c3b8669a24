"""The organisation pages, without JavaScript: the admin's table, invitation, role,
deactivation with its confirmation step; the invited professional's page; the person's
choice after a departure; an admin is offered no person's account."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, Actors, bearer, token_for
from tests.factories import add_grant, add_member, new_professional, upload
from tests.web.test_pages import csrf, sign_in


def _admin(app: Flask) -> FlaskClient:
    browser = app.test_client()
    assert sign_in(browser, "admin@lilas.example").status_code == 302
    return browser


def test_the_staff_page_is_a_table_and_invites(app: Flask, world: Actors) -> None:
    browser = _admin(app)
    home = browser.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/org")
    page = browser.get("/org").get_data(as_text=True)
    assert "<caption" in page and 'scope="col"' in page and 'scope="row"' in page
    assert "martin@lilas.example" in page and "durand@ml.example" not in page
    token = csrf(browser, "/org")
    made = browser.post(
        "/org/invite",
        data={
            "email": "petit@lilas.example",
            "name": "Mme Petit",
            "role": "professional",
            "csrf_token": token,
        },
    )
    assert made.status_code == 200
    url = re.search(r'id="invitation-url"[^>]*value="([^"]+)"', made.get_data(as_text=True))
    assert url and "/invitation?token=" in url.group(1)
    # The invited professional chooses a password on the page, once.
    path = url.group(1).split("localhost", 1)[1]
    newcomer = app.test_client()
    form = newcomer.get(path).get_data(as_text=True)
    secret = re.search(r'name="token" value="([^"]+)"', form).group(1)
    data = {"token": secret, "password": "chosen by me", "csrf_token": csrf(newcomer, path)}
    done = newcomer.post("/invitation", data=data)
    assert done.status_code == 302 and "/sign-in" in done.headers["Location"]
    again = newcomer.post("/invitation", data=data)
    assert again.status_code == 422 and "déjà servi" in again.get_data(as_text=True)
    assert sign_in(app.test_client(), "petit@lilas.example", "chosen by me").status_code == 302
    # A taken e-mail is said beside its field, the form kept.
    taken = browser.post(
        "/org/invite",
        data={
            "email": "martin@lilas.example",
            "name": "X",
            "role": "professional",
            "csrf_token": token,
        },
    )
    assert taken.status_code == 409 and 'aria-invalid="true"' in taken.get_data(as_text=True)


def test_role_change_and_deactivation_with_a_confirmation_step(
    app: Flask, client: FlaskClient, world: Actors
) -> None:
    browser = _admin(app)
    token = csrf(browser, "/org")
    cell = "<td>Gestionnaire de la structure</td>"
    before = browser.get("/org").get_data(as_text=True).count(cell)
    changed = browser.post(
        f"/org/professionals/{world.pro.id}/role", data={"role": "org_admin", "csrf_token": token}
    )
    assert changed.status_code == 302
    assert browser.get("/org").get_data(as_text=True).count(cell) == before + 1
    martin = token_for(client, "martin@lilas.example")
    asked = browser.get(f"/org/professionals/{world.pro.id}/deactivate")
    assert asked.status_code == 200 and "Oui, désactiver" in asked.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=bearer(martin)).status_code == 200  # not yet
    done = browser.post(
        f"/org/professionals/{world.pro.id}/deactivate",
        data={"successor_id": "", "csrf_token": token},
    )
    assert done.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(martin)).status_code == 401
    assert "Désactivé le" in browser.get("/org").get_data(as_text=True)
    # Another organisation's professional is not found, as if missing.
    assert browser.get(f"/org/professionals/{world.other_pro.id}/deactivate").status_code == 404


def test_non_admins_get_no_admin_page(app: Flask, world: Actors) -> None:
    pro = app.test_client()
    assert sign_in(pro, "martin@lilas.example").status_code == 302
    assert pro.get("/org").status_code == 403
    person = app.test_client()
    assert sign_in(person, "alice").status_code == 302
    assert person.get("/org").status_code == 404


def test_an_admin_is_offered_no_persons_account_as_over_the_api(
    app: Flask, client: FlaskClient, world: Actors
) -> None:
    browser = _admin(app)
    assert browser.get("/pro").status_code == 302
    token = csrf(browser, "/org")
    posted = browser.post(
        "/pro",
        data={"username": "newbie", "display_name": "N", "password": PASSWORD, "csrf_token": token},
    )
    api = client.post(
        "/api/v1/persons",
        json={"username": "newbie", "display_name": "N", "password": PASSWORD},
        headers=bearer(token_for(client, "admin@lilas.example")),
    )
    assert posted.status_code == api.status_code == 403
    # A professional who accompanies persons still has the form.
    pro = app.test_client()
    sign_in(pro, "martin@lilas.example")
    assert 'name="username"' in pro.get("/pro").get_data(as_text=True)


def test_the_person_is_told_and_chooses_on_her_page(app: Flask, world: Actors) -> None:
    found = app.extensions["locker"]
    with found.session_factory() as s:
        alice, martin = s.merge(world.alice), s.merge(world.pro)
        doc = upload(found, s, found.clock, alice, "Titre de séjour")
        add_grant(s, found.clock, add_member(s, found.clock, alice, martin), doc)
        colleague = new_professional(s, found.clock, s.merge(world.org), "colleague")
        colleague_id = colleague.id
        s.commit()
    browser = _admin(app)
    browser.post(
        f"/org/professionals/{world.pro.id}/deactivate",
        data={"successor_id": colleague_id, "csrf_token": csrf(browser, "/org")},
    )
    person = app.test_client()
    assert sign_in(person, "alice").status_code == 302
    page = person.get("/papers").get_data(as_text=True)
    assert "Mme Martin ne travaille plus à CHRS Les Lilas" in page
    departure = re.search(r'action="/departures/([^/]+)/hand-over"', page).group(1)
    token = csrf(person, "/papers")
    asked = person.post(f"/departures/{departure}/hand-over", data={"csrf_token": token})
    assert asked.status_code == 200 and "Oui, confier" in asked.get_data(as_text=True)
    colleague_client = app.test_client()
    sign_in(colleague_client, "colleague@example.org")
    assert colleague_client.get(f"/papers/{doc}").status_code == 404  # not before her yes
    yes = person.post(
        f"/departures/{departure}/hand-over", data={"csrf_token": token, "confirmed": "1"}
    )
    assert yes.status_code == 302
    assert colleague_client.get(f"/papers/{doc}").status_code == 200
    assert "ne travaille plus" not in person.get("/papers").get_data(as_text=True)
