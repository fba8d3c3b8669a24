"""Passwords, tokens, keys, names, titles and file names never reach the logs."""

from __future__ import annotations

import base64
import io
import json
import logging

import pytest
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, Actors, bearer, sample, token_for


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
