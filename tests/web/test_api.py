"""The JSON API end to end on both stacks: tokens, documents, refusals, headers."""

from __future__ import annotations

import io
import uuid

import pytest
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, Actors, bearer, sample, token_for


def upload(client: FlaskClient, token: str, person_id: str, data: bytes, name: str, **form: str):
    return client.post(
        f"/api/v1/persons/{person_id}/documents",
        headers=bearer(token),
        data={"file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
    )


def test_token_me_and_revocation(client: FlaskClient, world: Actors) -> None:
    token = token_for(client, "alice")
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.get_json()["id"] == world.alice.id
    assert me.get_json()["kind"] == "person"
    assert client.delete("/api/v1/auth/token", headers=bearer(token)).status_code == 204
    replay = client.get("/api/v1/me", headers=bearer(token))
    assert replay.status_code == 401
    assert replay.get_json()["error"] == "unauthorized"


def test_professional_me(client: FlaskClient, world: Actors) -> None:
    token = token_for(client, "martin@lilas.example")
    body = client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert body["kind"] == "professional"
    assert body["id"] == world.pro.id
    assert body["organization_id"] == world.org.id


def test_wrong_credentials_same_answer(client: FlaskClient, world: Actors) -> None:
    wrong_password = client.post(
        "/api/v1/auth/token", json={"username": "alice", "password": "nope-nope-nope"}
    )
    unknown_user = client.post(
        "/api/v1/auth/token", json={"username": "nobody", "password": "nope-nope-nope"}
    )
    wrong_pro = client.post(
        "/api/v1/auth/token", json={"email": "martin@lilas.example", "password": "x" * 9}
    )
    assert wrong_password.status_code == unknown_user.status_code == wrong_pro.status_code == 401
    assert wrong_password.get_json() == unknown_user.get_json() == wrong_pro.get_json()


def test_malformed_token_request(client: FlaskClient, world: Actors) -> None:
    assert client.post("/api/v1/auth/token", data="not json").status_code == 400
    assert client.post("/api/v1/auth/token", json={"username": "alice"}).status_code == 400
    assert client.post("/api/v1/auth/token", json=["alice"]).status_code == 400


def test_no_or_bad_token(client: FlaskClient, world: Actors) -> None:
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer junk"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_upload_list_open_delete(client: FlaskClient, world: Actors) -> None:
    token = token_for(client, "alice")
    pdf = sample("caf_letter.pdf")
    created = upload(
        client,
        token,
        world.alice.id,
        pdf,
        "lettre caf.pdf",
        title="Lettre CAF",
        category="income_benefits",
    )
    assert created.status_code == 201, created.get_json()
    doc = created.get_json()
    assert doc["title"] == "Lettre CAF"
    assert doc["category"] == "income_benefits"
    assert doc["content_type"] == "application/pdf"
    assert 0 < doc["size"] <= len(pdf)  # the sanitised copy

    listing = client.get(f"/api/v1/persons/{world.alice.id}/documents", headers=bearer(token))
    assert listing.status_code == 200
    assert [d["id"] for d in listing.get_json()] == [doc["id"]]
    assert set(listing.get_json()[0]) >= {
        "id",
        "title",
        "category",
        "content_type",
        "size",
        "created_at",
    }

    meta = client.get(f"/api/v1/documents/{doc['id']}", headers=bearer(token))
    assert meta.status_code == 200 and meta.get_json()["title"] == "Lettre CAF"

    content = client.get(f"/api/v1/documents/{doc['id']}/content", headers=bearer(token))
    assert content.status_code == 200
    assert content.data.startswith(b"%PDF-") and len(content.data) == doc["size"]
    assert content.headers["Content-Type"] == "application/pdf"
    assert content.headers["X-Content-Type-Options"] == "nosniff"
    assert content.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert content.headers["Cache-Control"] == "no-store"
    assert content.headers["Content-Disposition"].startswith("attachment;")

    assert client.delete(f"/api/v1/documents/{doc['id']}", headers=bearer(token)).status_code == 204
    assert client.get(f"/api/v1/documents/{doc['id']}", headers=bearer(token)).status_code == 404
    listing = client.get(f"/api/v1/persons/{world.alice.id}/documents", headers=bearer(token))
    assert listing.get_json() == []


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("html_named.pdf", 415, "unsupported_type"),
        ("svg_with_script.svg", 415, "unsupported_type"),
        ("elf_named.jpg", 415, "unsupported_type"),
        ("pe_named.pdf", 415, "unsupported_type"),
        ("garbage.bin", 415, "unsupported_type"),
        ("empty.pdf", 422, "empty_file"),
    ],
)
def test_refused_uploads_store_nothing(
    client: FlaskClient, world: Actors, name: str, status: int, code: str
) -> None:
    token = token_for(client, "alice")
    response = upload(client, token, world.alice.id, sample(name), name)
    assert response.status_code == status
    body = response.get_json()
    assert body["error"] == code
    assert body["message"]  # a sentence for the person, in French by default
    store = client.application.extensions["locker"].store
    assert list(store.list_keys()) == []
    listing = client.get(f"/api/v1/persons/{world.alice.id}/documents", headers=bearer(token))
    assert listing.get_json() == []


def test_refusal_speaks_the_persons_language(client: FlaskClient, world: Actors) -> None:
    token = token_for(client, "alice")
    french = upload(client, token, world.alice.id, b"MZ" + b"\0" * 300, "x.pdf")
    english = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers={**bearer(token), "Accept-Language": "en-GB,en;q=0.9"},
        data={"file": (io.BytesIO(b"MZ" + b"\0" * 300), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert "accepté" in french.get_json()["message"]
    assert "not accepted" in english.get_json()["message"]


def test_too_large_is_413_and_stores_nothing(client: FlaskClient, world: Actors) -> None:
    app = client.application
    limit = app.extensions["locker"].settings.max_upload_bytes
    token = token_for(client, "alice")
    big = b"%PDF-1.4\n" + b"0" * (limit + 10)
    response = upload(client, token, world.alice.id, big, "big.pdf")
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    assert list(app.extensions["locker"].store.list_keys()) == []


def test_someone_elses_document_is_404_like_missing(client: FlaskClient, world: Actors) -> None:
    alice = token_for(client, "alice")
    doc = upload(client, alice, world.alice.id, sample("scan.png"), "scan.png").get_json()
    missing = str(uuid.uuid4())
    for who in ("bob", "martin@lilas.example", "durand@ml.example", "admin@lilas.example"):
        token = token_for(client, who)
        for path in (f"/api/v1/documents/{doc['id']}", f"/api/v1/documents/{doc['id']}/content"):
            theirs = client.get(path, headers=bearer(token))
            nothing = client.get(path.replace(doc["id"], missing), headers=bearer(token))
            assert theirs.status_code == nothing.status_code == 404
            assert theirs.get_json() == nothing.get_json()
        deleted = client.delete(f"/api/v1/documents/{doc['id']}", headers=bearer(token))
        assert deleted.status_code == 404
        listing = client.get(f"/api/v1/persons/{world.alice.id}/documents", headers=bearer(token))
        assert listing.status_code == 404
        assert upload(client, token, world.alice.id, sample("scan.png"), "x.png").status_code == 404
    # Alice still has her paper, untouched.
    content = client.get(f"/api/v1/documents/{doc['id']}/content", headers=bearer(alice))
    assert content.status_code == 200 and content.data == sample("scan.png")


def test_professional_creates_person_and_extra_fields_are_ignored(
    client: FlaskClient, world: Actors
) -> None:
    token = token_for(client, "martin@lilas.example")
    response = client.post(
        "/api/v1/persons",
        headers=bearer(token),
        json={
            "username": "Karim.B",
            "display_name": "Karim",
            "password": PASSWORD,
            "id": "00000000-0000-0000-0000-000000000000",
            "role": "org_admin",
            "owner": world.bob.id,
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["username"] == "karim.b"
    assert body["id"] != "00000000-0000-0000-0000-000000000000"
    person_token = token_for(client, "karim.b")
    me = client.get("/api/v1/me", headers=bearer(person_token)).get_json()
    assert me["kind"] == "person" and me["id"] == body["id"]
    taken = client.post(
        "/api/v1/persons",
        headers=bearer(token),
        json={"username": "karim.b", "display_name": "K", "password": PASSWORD},
    )
    assert taken.status_code == 409


def test_only_professionals_create_persons(client: FlaskClient, world: Actors) -> None:
    body = {"username": "newbie", "display_name": "N", "password": PASSWORD}
    alice = token_for(client, "alice")
    admin = token_for(client, "admin@lilas.example")
    assert client.post("/api/v1/persons", headers=bearer(alice), json=body).status_code == 403
    assert client.post("/api/v1/persons", headers=bearer(admin), json=body).status_code == 403
    assert client.post("/api/v1/persons", json=body).status_code == 401


def test_hostile_file_name_cannot_inject_headers(client: FlaskClient, world: Actors) -> None:
    token = token_for(client, "alice")
    # Raw CR/LF cannot cross a multipart header (the parser drops such a part); they are
    # covered by test_content_disposition_strips_control_characters below.
    name = '../../etc/passwd";x=1\u202egnp.exe' + "a" * 1000 + ".png"
    doc = upload(client, token, world.alice.id, sample("scan.png"), name).get_json()
    content = client.get(f"/api/v1/documents/{doc['id']}/content", headers=bearer(token))
    disposition = content.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert "/" not in disposition.split("filename=")[1].split(";")[0]
    assert "\u202e" not in disposition
    assert "Set-Cookie" not in content.headers
    assert len(disposition) < 600
    assert disposition.split("filename=")[1].split(";")[0].strip('"').endswith(".png")


def test_openapi_lists_every_api_route(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    served = set()
    for rule in client.application.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((path, method.lower()))
    described = {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert served == described


def test_every_response_has_the_security_headers(client: FlaskClient, world: Actors) -> None:
    for path in ("/api/v1/openapi.json", "/api/v1/me", "/sign-in", "/nowhere"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        # Plain HTTP on the embedded default: no HSTS promise the server could not keep.
        assert "Strict-Transport-Security" not in response.headers


def test_content_disposition_strips_control_characters() -> None:
    from web.responses import content_disposition

    value = content_disposition("a\r\nSet-Cookie: x=1\u202e\x00/..\\b.pdf", "application/pdf", True)
    assert "\r" not in value and "\n" not in value and "\x00" not in value
    assert "\u202e" not in value and "/" not in value.split("filename*")[0]
    assert value.startswith("attachment;")  # PDFs are never shown inline
    assert value.endswith(".pdf")
    inline = content_disposition("photo.jpg", "image/jpeg", True)
    assert inline.startswith("inline;")


def test_rename_and_refile_a_document(client: FlaskClient, world: Actors) -> None:
    from sqlalchemy import select

    from locker.models import AuditRecord, Document

    token = token_for(client, "alice")
    doc = upload(client, token, world.alice.id, sample("scan.png"), "scan.png").get_json()
    path = f"/api/v1/documents/{doc['id']}"
    changed = client.patch(
        path,
        headers=bearer(token),
        json={
            "title": "Attestation CAF mars",
            "category": "income_benefits",
            "person_id": world.bob.id,
            "owner": world.bob.id,
        },
    )
    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["title"], body["category"], body["person_id"]) == (
        "Attestation CAF mars",
        "income_benefits",
        world.alice.id,
    )
    assert client.get(path, headers=bearer(token)).get_json()["title"] == "Attestation CAF mars"
    found = client.application.extensions["locker"]
    with found.session_factory() as session:
        row = session.get(Document, doc["id"])
        assert row is not None and b"Attestation" not in row.title_ciphertext
        actions = [
            r.action
            for r in session.scalars(
                select(AuditRecord).where(AuditRecord.document_id == doc["id"])
            )
        ]
    assert "document:rename" in actions and "document:categorise" in actions

    assert client.patch(path, headers=bearer(token), json={"title": "  "}).status_code == 422
    assert (
        client.patch(path, headers=bearer(token), json={"category": "weapons"}).status_code == 422
    )
    assert client.patch(path, headers=bearer(token), data="x").status_code == 400
    bob = token_for(client, "bob")
    refused = client.patch(path, headers=bearer(bob), json={"title": "pris"})
    assert refused.status_code == 404
    assert client.get(path, headers=bearer(token)).get_json()["title"] == "Attestation CAF mars"
