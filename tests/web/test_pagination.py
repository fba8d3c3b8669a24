"""The person's list and access log come a page at a time: a page never decrypts the whole
locker, and walking the pages shows every paper once, newest first."""

from __future__ import annotations

import re

from flask import Flask

from locker.actors import Actor
from sharing.audit_log import read_access_log_for
from tests.conftest import bearer, token_for
from tests.factories import Clock, build_world, context, upload
from tests.web.test_pages import sign_in


def _fill(app: Flask, clock: Clock, person_id: str, count: int) -> list[str]:
    """`count` more papers for the person, some added in the same second (the order must
    still be total), newest last."""
    found = app.extensions["locker"]
    made = []
    with found.session_factory() as session:
        from locker.models import Person

        person = session.get(Person, person_id)
        assert person is not None
        for number in range(count):
            if number % 3 == 0:
                clock.advance(seconds=1)
            made.append(upload(found, session, clock, person, f"Papier {number:03d}"))
        session.commit()
    return made


def test_the_api_walks_the_list_a_page_at_a_time(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    _fill(app, clock, world.alice.id, 7)
    client = app.test_client()
    alice = bearer(token_for(client, world.alice.username))
    path: str | None = f"/api/v1/persons/{world.alice.id}/documents?limit=3"
    seen: list[dict[str, object]] = []
    sizes = []
    while path is not None:
        answer = client.get(path, headers=alice)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        sizes.append(len(answer.json))
        seen.extend(answer.json)
        following = re.fullmatch(r'<([^>]+)>; rel="next"', answer.headers.get("Link", ""))
        path = following.group(1) if following else None
    assert sizes == [3, 3, 3]  # her 2 papers from the world, and 7 more
    ids = [paper["id"] for paper in seen]
    assert len(set(ids)) == 9
    assert [paper["created_at"] for paper in seen] == sorted(
        (paper["created_at"] for paper in seen), reverse=True
    )
    everything = client.get(f"/api/v1/persons/{world.alice.id}/documents", headers=alice)
    assert [paper["id"] for paper in everything.json] == ids and "Link" not in everything.headers


def test_a_cursor_from_another_locker_or_out_of_range_is_refused(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    alice = bearer(token_for(client, world.alice.username))
    base = f"/api/v1/persons/{world.alice.id}/documents"
    # Bob's paper as a cursor would tell Alice when he added it: refused, naming the field.
    foreign = client.get(f"{base}?after={world.bob_doc}", headers=alice)
    assert foreign.status_code == 422 and foreign.get_json()["field"] == "after"
    assert "page demandée" in foreign.get_json()["message"]
    # A field the person never typed is named to the client, never in the person's words.
    too_few = client.get(f"{base}?limit=0", headers=alice)
    assert too_few.status_code == 400 and too_few.get_json()["field"] == "limit"
    assert too_few.get_json()["message"] == "Une information n'est pas valable."
    assert client.get(f"{base}?limit=201", headers=alice).status_code == 400
    assert client.get(f"{base}?after=x", headers=alice).status_code == 400
    bob = bearer(token_for(client, world.bob.username))
    assert client.get(f"{base}?after={world.doc}", headers=bob).status_code == 404


def test_the_papers_page_shows_fifty_then_the_older_ones(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    made = _fill(app, clock, world.alice.id, 50)  # 52 in all
    client = app.test_client()
    assert sign_in(client, world.alice.username).status_code == 302
    first = client.get("/papers").get_data(as_text=True)
    assert first.count('class="paper"') == 50
    assert made[-1] in first and world.doc not in first
    older = re.search(r'href="([^"]+)" id="papers-older"', first)
    assert older is not None
    second = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('class="paper"') == 2
    assert world.doc in second and world.doc_plain in second
    assert 'id="papers-older"' not in second and 'id="papers-newest"' in second
    # After the oldest of the two, a page with no paper: not "no papers yet", a way back.
    beyond = [
        client.get(f"/papers?after={d}").get_data(as_text=True)
        for d in (world.doc, world.doc_plain)
    ]
    assert sorted(page.count('class="paper"') for page in beyond) == [0, 1]
    assert all('id="papers-newest"' in page for page in beyond)
    assert not any("pas encore de papier" in page for page in beyond)


def test_the_access_log_names_its_papers_without_listing_the_locker(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    made = _fill(app, clock, world.alice.id, 55)  # her first two papers leave the newest 50
    client = app.test_client()
    referent = bearer(token_for(client, world.users["referent_grant"].email))
    assert client.get(f"/api/v1/documents/{world.doc}", headers=referent).status_code == 200
    found = app.extensions["locker"]
    with found.session_factory() as session:
        ctx = context(found, session, Actor(kind="person", id=world.alice.id), clock)
        log = read_access_log_for(ctx, person_id=world.alice.id, with_documents=True, by="others")
    # The referent's line names its old paper; the filter offers the newest 50; no other
    # title of the locker is decrypted.
    alice = bearer(token_for(client, world.alice.username))
    newest = client.get(f"/api/v1/persons/{world.alice.id}/documents", headers=alice).json
    assert len(newest) == 50 and {paper["id"] for paper in newest} <= set(made)
    assert set(log.documents) == {world.doc, *(paper["id"] for paper in newest)}
    assert log.documents[world.doc].title == "Carte d'identité"
    assert client.get(f"/papers/{world.doc_plain}").status_code == 302  # not signed in
    assert sign_in(client, world.alice.username).status_code == 302
    paper = client.get(f"/papers/{world.doc_plain}").get_data(as_text=True)
    who_saw = re.search(r'<a id="who-saw" href="([^"]+)"', paper)
    assert who_saw is not None
    filtered = client.get(who_saw.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert f'value="{world.doc_plain}" selected' in filtered
    assert "« Carte d&#39;identité »" in client.get("/access-log").get_data(as_text=True)
