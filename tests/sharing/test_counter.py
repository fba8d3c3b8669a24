"""Counter links: the person shows chosen papers, once, to an agent without an account.

Each test is an attack or a promise: the URL shows the papers at once and nothing else,
a second browser is refused, time and the person's "stop" end it at once, the watermark
is in the pixels, the access is on the person's log, guessing is throttled."""

from __future__ import annotations

import io
import re
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import numpy
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from locker.models import AuditRecord
from tests.conftest import PASSWORD, bearer, sample, token_for
from tests.factories import Clock, World, build_world
from tests.web.test_pages import csrf, sign_in


def _make(client: FlaskClient, world: World, **body: Any) -> Any:
    token = token_for(client, world.alice.username)
    sent = {"document_ids": [world.doc], "recipient": "CAF de Lyon", **body}
    return client.post(
        f"/api/v1/persons/{world.alice.id}/counter-links", json=sent, headers=bearer(token)
    )


def _link(app: Flask, world: World, **body: Any) -> dict[str, Any]:
    made = _make(app.test_client(), world, **body)
    assert made.status_code == 201, made.get_json()
    return dict(made.get_json())


def _page_path(html: str, document_id: str, page: int = 0) -> str:
    marker = f"/{document_id}/{page}.jpg"
    start = html.index("/c/view/")
    while not html[start:].split('"', 1)[0].endswith(marker):
        start = html.index("/c/view/", start + 1)
    return html[start:].split('"', 1)[0]


def _records(app: Flask) -> list[AuditRecord]:
    with app.extensions["locker"].session_factory() as session:
        return list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


def _log(app: Flask, world: World) -> list[dict[str, Any]]:
    client = app.test_client()
    token = token_for(client, world.alice.username)
    answer = client.get(f"/api/v1/persons/{world.alice.id}/access-log", headers=bearer(token))
    return list(answer.get_json())


def test_the_url_shows_the_chosen_paper_at_once_watermarked_and_logged(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    made = _link(app, world, minutes=45)
    assert set(made) == {"id", "url", "code", "expires_at"}
    token = urlsplit(made["url"]).path.removeprefix("/c/")
    assert len(token) >= 43  # 32 random bytes: 256 bits
    assert len(made["code"].replace(" ", "")) == 10
    agent = app.test_client()  # no account, no session
    shown = agent.get(urlsplit(made["url"]).path)
    assert shown.status_code == 200
    html = unescape(shown.get_data(as_text=True))
    assert "Carte d'identité" in html and "CAF de Lyon" in html
    assert "Avis d'imposition" not in html  # the person's other paper is not in the link
    assert shown.headers["Cache-Control"] == "no-store"
    picture = agent.get(_page_path(html, world.doc))
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg"

    # The watermark is in the pixels: the page is the preview with a band added under it,
    # text drawn in that band, and the slanted sentence changing the page itself.
    owner = app.test_client()
    alice = token_for(owner, world.alice.username)
    plain = owner.get(f"/api/v1/documents/{world.doc}/preview", headers=bearer(alice))
    original = Image.open(io.BytesIO(plain.data)).convert("RGB")
    marked = Image.open(io.BytesIO(picture.data)).convert("RGB")
    assert marked.width == original.width and marked.height > original.height
    pixels = numpy.asarray(marked, dtype=numpy.int16)
    band = pixels[original.height :]
    ink = (band[..., 0] > 90) & (band[..., 1] < 80) & (band[..., 2] < 80)
    assert ink.sum() > 200, "no red text in the band under the page"
    body = pixels[: original.height]
    changed = numpy.abs(body - numpy.asarray(original, dtype=numpy.int16)).max(axis=2) > 24
    assert changed.sum() > original.width * original.height // 100, "no mark across the page"

    # On the person's log, named by whom the link was for; the records hold the link's id.
    entries = _log(app, world)
    by_counter = [e for e in entries if e["actor"]["kind"] == "counter"]
    actions = {(e["action"], e["outcome"]) for e in by_counter}
    assert ("counter:open", "allowed") in actions and ("document:preview", "allowed") in actions
    assert {e["actor"]["name"] for e in by_counter} == {"CAF de Lyon"}
    assert {r.actor_id for r in _records(app) if r.actor_kind == "counter"} == {made["id"]}
    person = app.test_client()
    assert sign_in(person, world.alice.username).status_code == 302
    assert "Le guichet « CAF de Lyon » a regardé" in unescape(
        person.get("/access-log").get_data(as_text=True)
    )


def test_the_link_opens_in_one_browser_only(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    made = _link(app, world)
    path = urlsplit(made["url"]).path
    agent, other = app.test_client(), app.test_client()
    first = agent.get(path)
    assert first.status_code == 200
    again = agent.get(path)  # the same browser reloads: still there
    assert again.status_code == 200
    second = other.get(path)  # someone who copied the URL
    assert second.status_code == 410
    assert "déjà été ouvert" in second.get_data(as_text=True)
    assert other.get(_page_path(first.get_data(as_text=True), world.doc)).status_code == 404
    opened = [r for r in _records(app) if r.action == "counter:open"]
    assert {(r.outcome, r.reason) for r in opened} == {
        ("allowed", "counter_link"),
        ("denied", "counter_used"),
    }


def test_time_and_the_persons_stop_end_the_link_at_once(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    timed = _link(app, world, minutes=30)
    agent = app.test_client()
    html = agent.get(urlsplit(timed["url"]).path).get_data(as_text=True)
    picture = _page_path(html, world.doc)
    clock.advance(minutes=29)
    assert agent.get(picture).status_code == 200
    clock.advance(minutes=2)
    assert agent.get(picture).status_code == 410
    assert agent.get(urlsplit(timed["url"]).path).status_code == 410

    stopped = _link(app, world)
    agent = app.test_client()
    html = agent.get(urlsplit(stopped["url"]).path).get_data(as_text=True)
    picture = _page_path(html, world.doc)
    client = app.test_client()
    # Nobody but the person ends it: the referent, another person and a helper get 404.
    for name in ("referent_grant", "helper_share", "other_person"):
        user = world.users[name]
        who = getattr(user, "email", None) or user.username  # type: ignore[union-attr]
        answer = client.delete(
            f"/api/v1/counter-links/{stopped['id']}", headers=bearer(token_for(client, who))
        )
        assert answer.status_code == 404, name
    assert agent.get(picture).status_code == 200
    alice = token_for(client, world.alice.username)
    ended = client.delete(f"/api/v1/counter-links/{stopped['id']}", headers=bearer(alice))
    assert ended.status_code == 204
    assert agent.get(picture).status_code == 410
    listed = client.get(f"/api/v1/persons/{world.alice.id}/counter-links", headers=bearer(alice))
    mine = {link["id"]: link for link in listed.get_json()}
    assert mine[stopped["id"]]["live"] is False and mine[stopped["id"]]["revoked_at"]


def test_no_other_paper_is_reachable_through_the_link(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    made = _link(app, world)
    agent = app.test_client()
    html = agent.get(urlsplit(made["url"]).path).get_data(as_text=True)
    picture = _page_path(html, world.doc)
    for other in (world.doc_plain, world.bob_doc, "0" * 36):
        assert agent.get(picture.replace(world.doc, other)).status_code == 404
    # The original file only when the person allowed it; another page than there is, no.
    assert agent.get(picture.replace("/0.jpg", "/file")).status_code == 404
    assert agent.get(picture.replace("/0.jpg", "/1.jpg")).status_code == 404
    refused = {r.reason for r in _records(app) if r.outcome == "denied"}
    assert {"not_in_link", "no_download"} <= refused


def test_the_original_file_downloads_only_when_the_person_allowed_it(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    made = _link(app, world, allow_download=True)
    agent = app.test_client()
    html = agent.get(urlsplit(made["url"]).path).get_data(as_text=True)
    assert "/file" in html
    got = agent.get(_page_path(html, world.doc).replace("/0.jpg", "/file"))
    owner = app.test_client()
    alice = token_for(owner, world.alice.username)
    mine = owner.get(f"/api/v1/documents/{world.doc}/content", headers=bearer(alice))
    assert got.status_code == 200 and got.data == mine.data


def test_every_page_of_a_long_paper_is_shown(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    alice = token_for(client, world.alice.username)
    stored = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        data={"file": (io.BytesIO(sample("tax_notice_3p.pdf")), "avis.pdf"), "title": "Avis"},
        headers=bearer(alice),
    )
    assert stored.status_code == 201, stored.get_json()
    paper = stored.get_json()["id"]
    made = _link(app, world, document_ids=[paper])
    agent = app.test_client()
    html = agent.get(urlsplit(made["url"]).path).get_data(as_text=True)
    pages = [agent.get(_page_path(html, paper, n)) for n in range(3)]
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert len({p.data for p in pages}) == 3
    assert agent.get(_page_path(html, paper, 2).replace("/2.jpg", "/3.jpg")).status_code == 404


def test_what_a_link_may_hold_and_who_may_make_one(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    for body in (
        {"minutes": 0},
        {"minutes": 24 * 60 + 1},
        {"document_ids": []},
        {"document_ids": [world.bob_doc]},
        {"document_ids": ["x" * 36]},
        {"recipient": "   "},
        {"recipient": "x" * 101},
    ):
        refused = _make(client, world, **body)
        assert refused.status_code == 422, body
        assert refused.get_json()["error"] == "invalid_input", body
    assert _make(client, world, minutes=24 * 60).status_code == 201
    # A professional, even a helper with a "share" mandate, makes no link: anyone holding
    # it could open it, the helper included.
    for name in ("referent_grant", "helper_share", "helper_view", "org_admin"):
        user = world.users[name]
        token = token_for(client, user.email)  # type: ignore[union-attr]
        answer = client.post(
            f"/api/v1/persons/{world.alice.id}/counter-links",
            json={"document_ids": [world.doc], "recipient": "CAF"},
            headers=bearer(token),
        )
        assert answer.status_code == 404, name


@pytest.mark.no_csrf
def test_the_short_code_opens_the_same_view_and_guessing_is_throttled(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    made = _link(app, world)
    agent = app.test_client()
    assert agent.get("/c").status_code == 200
    typed = agent.post("/c", data={"code": made["code"].lower().replace(" ", "-")})
    assert typed.status_code == 200 and "Carte d'identité" in unescape(typed.get_data(as_text=True))
    guesser = app.test_client()
    answers = [guesser.post("/c", data={"code": f"AAAAA{n:05d}"}).status_code for n in range(21)]
    assert answers[:20] == [422] * 20 and answers[20] == 429
    tokens = [guesser.get(f"/c/{'x' * 43}").status_code for _ in range(2)]
    assert tokens == [429, 429]


def test_closing_the_account_ends_its_links(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    made = _link(app, world)
    client = app.test_client()
    alice = token_for(client, world.alice.username)
    closed = client.post("/api/v1/me/close", json={"password": PASSWORD}, headers=bearer(alice))
    assert closed.status_code == 202
    assert app.test_client().get(urlsplit(made["url"]).path).status_code == 404


def test_the_person_makes_shows_and_stops_a_link_on_the_pages(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    person = app.test_client()
    assert sign_in(person, world.alice.username).status_code == 302
    new = f"/counter-links/new?document={world.doc}"
    form = person.get(new).get_data(as_text=True)
    assert f'value="{world.doc}" id="paper-{world.doc}" checked' in form
    empty = person.post(
        "/counter-links/new",
        data={"recipient": "CAF", "minutes": "30", "csrf_token": csrf(person, new)},
    )
    assert empty.status_code == 422 and "error-summary" in empty.get_data(as_text=True)
    made = person.post(
        "/counter-links/new",
        data={
            "document_id": world.doc,
            "recipient": "Préfecture du Rhône",
            "minutes": "60",
            "csrf_token": csrf(person, new),
        },
    )
    assert made.status_code == 302
    shown = person.get(made.headers["Location"]).get_data(as_text=True)
    assert 'id="counter-qr"' in shown and 'id="counter-code"' in shown
    found = re.search(r'<a href="([^"]+)" id="counter-url"', shown)
    assert found is not None
    agent = app.test_client()
    assert agent.get(urlsplit(found.group(1)).path).status_code == 200
    link_path = made.headers["Location"]
    stop = f"{link_path}/stop"
    asked = person.post(stop, data={"csrf_token": csrf(person, link_path)})
    assert asked.status_code == 200 and "Arrêter ce lien" in asked.get_data(as_text=True)
    ended = person.post(stop, data={"csrf_token": csrf(person, link_path), "confirmed": "1"})
    assert ended.status_code == 302
    assert "Arrêté" in person.get(link_path).get_data(as_text=True)
    assert agent.get(urlsplit(found.group(1)).path).status_code == 410
    # Another person's link is not there for her, not even its recipient's name.
    bob = app.test_client()
    assert sign_in(bob, world.bob.username).status_code == 302
    assert bob.get(link_path).status_code == 404
