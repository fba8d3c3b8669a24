"""Passwords, tokens, keys, names, titles and file names never reach the logs."""

from __future__ import annotations

import base64
import io
import json
import logging
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import PASSWORD, Actors, bearer, sample, token_for
from web.observe import json_log_handler


def test_nothing_secret_or_personal_is_logged(
    client: FlaskClient, world: Actors, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = token_for(client, "alice")
    title = "Titre-très-personnel-42"
    filename = "nom-de-fichier-intime-42.pdf"
    created = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers=bearer(token),
        data={"file": (io.BytesIO(sample("caf_letter.pdf")), filename), "title": title},
        content_type="multipart/form-data",
    )
    assert created.status_code == 201
    doc_id = created.get_json()["id"]
    assert (
        client.get(f"/api/v1/documents/{doc_id}/content", headers=bearer(token)).status_code == 200
    )
    assert client.get(f"/api/v1/documents/{doc_id}", headers=bearer(token)).status_code == 200
    # A refusal and a failed sign-in take the error paths too.
    client.post("/api/v1/auth/token", json={"username": "alice", "password": "wrong-" + PASSWORD})
    bob = token_for(client, "bob")
    assert client.get(f"/api/v1/documents/{doc_id}/content", headers=bearer(bob)).status_code == 404

    keyfile = json.loads(
        client.application.extensions["locker"].settings.master_key_file.read_text()
    )
    secrets = [
        PASSWORD,
        token,
        bob,
        title,
        filename,
        world.alice.display_name + " ",  # "Alice" alone is also a username; names are spaced
        "Mme Martin",
        "LOCKER-PLAINTEXT-MARKER",
        client.application.config["SECRET_KEY"],
        keyfile["master_keys"][0]["key"],
        keyfile["audit_signing_key"],
        base64.b64decode(keyfile["master_keys"][0]["key"]).hex(),
    ]
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {getattr(record, '__dict__', {})!r}"
        for record in caplog.records
    )
    assert caplog.records  # the flow did log (key unwraps at least): the check has teeth
    for secret in secrets:
        assert secret not in logged, secret[:12]


@dataclass
class Flow:
    """What a full flow left: every secret or personal value it used, and the ids."""

    secrets: list[str]
    ids: list[str]


def full_flow(client: FlaskClient, world: Actors) -> Flow:
    """Sign in, upload with a title, share with a professional, open as both, fail a
    sign-in with a real username: every path that could carry a person's words."""
    token = token_for(client, "alice")
    title, filename = "Titre-très-personnel-77", "nom-de-fichier-intime-77.pdf"
    created = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers=bearer(token),
        data={"file": (io.BytesIO(sample("caf_letter.pdf")), filename), "title": title},
        content_type="multipart/form-data",
    )
    assert created.status_code == 201, created.get_json()
    doc_id = created.get_json()["id"]
    pro = token_for(client, "martin@lilas.example")
    code = client.get("/api/v1/me", headers=bearer(pro)).get_json()["share_code"]
    added = client.post(
        f"/api/v1/persons/{world.alice.id}/members",
        headers=bearer(token),
        json={"professional_code": code, "mission": "Mission-intime-77"},
    )
    assert added.status_code == 201, added.get_json()
    member_id = added.get_json()["id"]
    shared = client.post(
        f"/api/v1/documents/{doc_id}/grants", headers=bearer(token), json={"member_id": member_id}
    )
    assert shared.status_code == 201, shared.get_json()
    for who in (token, pro):
        opened = client.get(f"/api/v1/documents/{doc_id}/content", headers=bearer(who))
        assert opened.status_code == 200 and opened.data
    refused = client.post(
        "/api/v1/auth/token", json={"username": "alice", "password": "wrong-" + PASSWORD}
    )
    assert refused.status_code == 401
    return Flow(
        secrets=[
            PASSWORD,
            token,
            pro,
            code,
            title,
            filename,
            "Mission-intime-77",
            world.alice.display_name + " ",
            "Mme Martin",
            "martin@lilas.example",
            "$argon2",
        ],
        ids=[world.alice.id, world.pro.id, doc_id, member_id],
    )


class ClosingClient(FlaskClient):
    """A test client that closes each answer as a server does, once its body is read: the
    request's log line and latency are written then (web/observe.py)."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def closing_client(app: Flask) -> FlaskClient:
    app.test_client_class = ClosingClient
    return app.test_client()


def test_every_line_is_json_with_the_request_fields_and_nothing_personal(
    app: Flask, world: Actors
) -> None:
    client = closing_client(app)
    stream = io.StringIO()
    handler = json_log_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        flow = full_flow(client, world)
        # The proxy's id is kept when it is plain, replaced when it could forge a field.
        kept = client.get("/healthz", headers={"X-Request-ID": "proxy-id-12345678"})
        forged = client.get("/healthz", headers={"X-Request-ID": 'x" "status": 200'})
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert kept.headers["X-Request-ID"] == "proxy-id-12345678"
    assert forged.headers["X-Request-ID"] != 'x" "status": 200'
    logged = stream.getvalue()
    lines = [json.loads(line) for line in logged.splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    requests = [line for line in lines if line["logger"] == "locker.access"]
    assert len(requests) >= 10  # every request of the flow was logged: the check has teeth
    for line in requests:
        assert {"request_id", "route", "method", "status", "duration_ms"} <= set(line), line
    routes = {line["route"] for line in requests}
    assert "/api/v1/documents/<document_id>/content" in routes
    assert {line["request_id"] for line in requests} >= {"proxy-id-12345678"}
    assert len({line["request_id"] for line in requests}) == len(requests)  # one per request
    for secret in flow.secrets:
        assert secret not in logged, secret[:12]
    # The route template, never the concrete path: no id of a person or a document.
    for line in requests:
        assert not any(found in line["route"] for found in flow.ids), line
