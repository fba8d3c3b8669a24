"""The packs pages and API: the checklists as the person sees them (without JavaScript),
the pack shared with the referent after a question naming them, and the JSON shapes."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from locker.models import AuditRecord, Professional
from sharing.packs import PAPERS, PROCEDURES
from tests.conftest import bearer, token_for
from tests.factories import Clock, World, build_world
from tests.web.test_pages import csrf, sign_in
from web.packs.words import PAPER_WORDS, PROCEDURE_NAMES


def _signed_in(app: Flask, identifier: str) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, identifier).status_code == 302
    return client


def _no_referent(app: Flask, world: World) -> None:
    with app.extensions["locker"].session_factory() as session:
        session.merge(world.members["referent"]).referent = False
        session.commit()


def test_every_procedure_and_paper_has_its_words() -> None:
    assert set(PROCEDURE_NAMES) == set(PROCEDURES)
    assert set(PAPER_WORDS) == set(PAPERS)


def test_the_list_shows_how_far_the_person_is_and_the_home_page_leads_to_it(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    person = _signed_in(app, world.alice.username)
    assert 'href="/packs"' in person.get("/papers").text
    page = person.get("/packs")
    assert page.status_code == 200
    assert all(f'href="/packs/{procedure}"' in page.text for procedure in PROCEDURES)
    # RSA asks for an identity paper (she has one), an address and a RIB.
    assert "Papiers demandés : 1 sur 3" in page.text
    pro = _signed_in(app, world.users["referent_grant"].email)  # type: ignore[union-attr]
    assert pro.get("/packs").status_code == 404
    assert pro.get("/packs/rsa").status_code == 404


def test_the_checklist_links_each_paper_and_says_what_is_missing(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    person = _signed_in(app, world.alice.username)
    page = person.get("/packs/rsa").text
    identity = page[page.index('id="item-identity"') : page.index('id="item-address"')]
    assert f'href="/papers/{world.doc}"' in identity and "Carte d&#39;identité" in identity
    rib = page[page.index('id="item-rib"') : page.index('id="item-social_security"')]
    assert "Il manque ce papier." in rib and "À votre nom" in rib
    assert 'href="/papers/new"' in rib
    tax = page[page.index('id="item-tax_notice"') : page.index('id="item-caf"')]
    assert f'href="/papers/{world.doc_plain}"' in tax
    # Shown at a counter: the other page, with the pack's papers ticked.
    link = f"/counter-links/new?document={world.doc}&amp;document={world.doc_plain}"
    assert f'href="{link}"' in page
    assert 'action="/packs/rsa/share-referent"' in page and "referent_grant" in page
    assert person.get("/packs/nope").status_code == 404


def test_sharing_asks_first_naming_the_referent_then_the_referent_opens_the_papers(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    with app.extensions["locker"].session_factory() as session:
        session.get_one(Professional, world.users["referent_grant"].id).display_name = "<b>Léa</b>"
        session.commit()
    referent = _signed_in(app, world.users["referent_grant"].email)  # type: ignore[union-attr]
    assert referent.get(f"/papers/{world.doc_plain}").status_code == 404
    person = _signed_in(app, world.alice.username)
    path = "/packs/rsa/share-referent"
    asked = person.post(path, data={"csrf_token": csrf(person, "/packs/rsa")})
    assert asked.status_code == 200
    assert "Partager ces papiers avec &lt;b&gt;Léa&lt;/b&gt; (CHRS Les Lilas) ?" in asked.text
    assert "<b>Léa</b>" not in asked.text
    assert referent.get(f"/papers/{world.doc_plain}").status_code == 404, "one tap never acts"
    token = csrf(person, "/packs/rsa")
    shared = person.post(path, data={"csrf_token": token, "confirmed": "1"})
    assert shared.status_code == 302 and shared.headers["Location"].endswith("/packs/rsa")
    assert referent.get(f"/papers/{world.doc_plain}").status_code == 200
    assert person.post(path, data={"confirmed": "1"}).status_code == 400, "no CSRF token"


def test_without_a_referent_the_page_says_so_and_sharing_answers_why(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    _no_referent(app, world)
    person = _signed_in(app, world.alice.username)
    page = person.get("/packs/rsa").text
    assert 'id="choose-referent"' in page and 'id="share-referent"' not in page
    token = csrf(person, "/packs/rsa")
    refused = person.post("/packs/rsa/share-referent", data={"csrf_token": token})
    assert refused.status_code == 422
    assert "Vous n'avez pas encore de référent." in unescape(refused.text)


def test_the_api_answers_the_documented_shapes(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    owner = bearer(token_for(client, world.alice.username))
    base = f"/api/v1/persons/{world.alice.id}/packs"
    listed = client.get(base, headers=owner).get_json()
    assert [entry["procedure"] for entry in listed] == list(PROCEDURES)
    assert listed[0] == {
        "procedure": "rsa",
        "label": "RSA (revenu de solidarité active)",
        "have": 1,
        "needed": 3,
        "missing": ["address", "rib"],
    }
    pack = client.get(f"{base}/rsa", headers=owner).get_json()
    assert set(pack) == {"procedure", "label", "items", "missing"}
    assert pack["items"][0] == {
        "key": "identity",
        "label": "Pièce d'identité ou titre de séjour",
        "hint": "Carte d'identité, passeport ou titre de séjour en cours.",
        "required": True,
        "document_ids": [world.doc],
    }
    assert pack["missing"] == ["address", "rib"]
    assert client.get(f"{base}/nope", headers=owner).status_code == 404
    shared = client.post(f"{base}/rsa/share-referent", headers=owner)
    assert shared.status_code == 200
    assert shared.get_json() == {
        "member_id": world.members["referent"].id,
        "document_ids": [world.doc, world.doc_plain],
    }


@pytest.mark.parametrize("name", ["helper_share", "referent_grant"])
def test_the_api_shares_for_the_person_alone_and_logs_the_refusal(
    app: Flask, clock: Clock, name: str
) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    someone = bearer(token_for(client, world.users[name].email))  # type: ignore[union-attr]
    path = f"/api/v1/persons/{world.alice.id}/packs/rsa/share-referent"
    refused = client.post(path, headers=someone)
    assert refused.status_code == 404 and refused.get_json()["error"] == "not_found"
    with app.extensions["locker"].session_factory() as session:
        denied = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "grant:create", AuditRecord.outcome == "denied"
            )
        ).one()
    assert denied.actor_id == world.users[name].id and denied.person_id == world.alice.id


def test_the_api_without_a_referent_is_a_clear_422(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    _no_referent(app, world)
    client = app.test_client()
    owner = bearer(token_for(client, world.alice.username))
    path = f"/api/v1/persons/{world.alice.id}/packs/rsa/share-referent"
    refused = client.post(path, headers=owner)
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["error"] == "no_referent" and re.search("référent", body["message"])
