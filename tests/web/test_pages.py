"""Pages through Flask's test client with CSRF on: sign-in, sessions, forms, refusals."""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, Actors, bearer, sample, token_for


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data) or re.search(
        rb'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page.data
    )
    assert found, page.data[:500]
    return found.group(1).decode()


def sign_in(client: FlaskClient, identifier: str, password: str = PASSWORD):
    token = csrf(client, "/sign-in")
    return client.post(
        "/sign-in", data={"identifier": identifier, "password": password, "csrf_token": token}
    )


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("locker")
    return cookie.value if cookie else None


def test_sign_in_upload_open_delete_sign_out(app: Flask, world: Actors) -> None:
    client = app.test_client()
    assert client.get("/papers").status_code == 302
    response = sign_in(client, "alice")
    assert response.status_code == 302
    papers = client.get("/papers")
    assert papers.status_code == 200
    assert b"Ajouter un papier" in papers.data

    form = client.get("/papers/new")
    assert b'accept="image/*,application/pdf"' in form.data
    assert b"capture=" in form.data
    token = csrf(client, "/papers/new")
    created = client.post(
        "/papers/new",
        data={
            "csrf_token": token,
            "title": "Ma carte d'identité",
            "category": "identity",
            "file": (io.BytesIO(sample("scan.png")), "scan.png"),
        },
        content_type="multipart/form-data",
    )
    assert created.status_code == 302
    listing = client.get("/papers")
    assert "Ma carte d&#39;identité".encode() in listing.data
    doc_id = re.search(rb'data-id="([0-9a-f-]{36})"', listing.data).group(1).decode()
    content = client.get(f"/papers/{doc_id}/content")
    assert content.status_code == 200 and content.data.startswith(b"\x89PNG")  # re-encoded

    token = csrf(client, f"/papers/{doc_id}")
    asked = client.post(f"/papers/{doc_id}/delete", data={"csrf_token": token})
    assert asked.status_code == 200 and "Mettre ce papier à la corbeille ?" in asked.text
    assert 'name="confirmed" value="1"' in asked.text
    assert client.get(f"/papers/{doc_id}").status_code == 200, "one tap never acts"
    token = csrf(client, f"/papers/{doc_id}")
    confirmed = {"csrf_token": token, "confirmed": "1"}
    assert client.post(f"/papers/{doc_id}/delete", data=confirmed).status_code == 302
    assert client.get(f"/papers/{doc_id}").status_code == 404

    cookie = session_cookie(client)
    token = csrf(client, "/papers")
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/papers").status_code == 302

    # The old cookie, replayed after sign-out, opens nothing.
    replay = app.test_client()
    replay.set_cookie("locker", cookie)
    assert replay.get("/papers").status_code == 302


def test_new_session_id_at_sign_in(app: Flask, world: Actors) -> None:
    client = app.test_client()
    client.get("/sign-in")
    before = session_cookie(client)
    sign_in(client, "alice")
    after = session_cookie(client)
    assert after and after != before


def test_forms_without_csrf_token_are_refused(app: Flask, world: Actors) -> None:
    client = app.test_client()
    refused = client.post("/sign-in", data={"identifier": "alice", "password": PASSWORD})
    assert refused.status_code in (400, 401)
    assert client.get("/papers").status_code == 302  # not signed in
    sign_in(client, "alice")
    upload = client.post(
        "/papers/new",
        data={"category": "identity", "file": (io.BytesIO(sample("scan.png")), "scan.png")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 400
    assert list(app.extensions["locker"].store.list_keys()) == []


def test_wrong_password_page_says_so_plainly(app: Flask, world: Actors) -> None:
    client = app.test_client()
    response = sign_in(client, "alice", "wrong password!")
    assert response.status_code == 401
    assert b"Identifiant ou mot de passe incorrect" in response.data
    unknown = sign_in(client, "nobody", "wrong password!")
    assert unknown.status_code == 401
    assert unknown.data.replace(b"\n", b"").count(b"incorrect") == 1


def test_refused_upload_page_explains(app: Flask, world: Actors) -> None:
    client = app.test_client()
    sign_in(client, "alice")
    token = csrf(client, "/papers/new")
    response = client.post(
        "/papers/new",
        data={
            "csrf_token": token,
            "category": "identity",
            "file": (io.BytesIO(sample("svg_with_script.svg")), "dessin.svg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    assert b"PDF" in response.data
    # The file's own script is never echoed: the only script is the page's own, from us.
    scripts = re.findall(rb"<script[^>]*>", response.data)
    assert all(b'src="/static/' in tag for tag in scripts), scripts


def test_cookie_flags(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = csrf(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"identifier": "alice", "password": PASSWORD, "csrf_token": token}
    )
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("locker="))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header


def test_professional_page_creates_a_person(app: Flask, world: Actors) -> None:
    client = app.test_client()
    sign_in(client, "martin@lilas.example")
    assert client.get("/papers").status_code == 404
    token = csrf(client, "/pro")
    response = client.post(
        "/pro",
        data={
            "csrf_token": token,
            "username": "fatou",
            "display_name": "Fatou",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert b'id="created-username">fatou<' in response.data


def test_unknown_page_is_a_friendly_404(app: Flask) -> None:
    response = app.test_client().get("/nowhere")
    assert response.status_code == 404
    assert b"Traceback" not in response.data


def test_sign_out_everywhere_ends_every_phone_and_token(app: Flask, world: Actors) -> None:
    lost_phone, borrowed = app.test_client(), app.test_client()
    sign_in(lost_phone, "alice")
    sign_in(borrowed, "alice")
    token = token_for(app.test_client(), "alice")
    asked = borrowed.post("/sign-out-everywhere", data={"csrf_token": csrf(borrowed, "/settings")})
    assert asked.status_code == 200 and lost_phone.get("/papers").status_code == 200
    done = borrowed.post(
        "/sign-out-everywhere", data={"csrf_token": csrf(borrowed, "/settings"), "confirmed": "1"}
    )
    assert done.status_code == 302
    for phone in (lost_phone, borrowed):
        assert phone.get("/papers").status_code == 302
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 401
