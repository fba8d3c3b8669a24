"""The audit API end to end on both stacks, its proofs checked by an independent verifier."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from locker.access_log import EXPORT_COLUMNS
from locker.actors import Actor, utc_now
from locker.audit import AuditEvent, record_event
from locker.checkpoints import publish_current_checkpoint
from sharing.organizations import set_audits_service
from tests import audit_verifier as rfc
from tests.conftest import Actors, bearer, sample, token_for
from tests.factories import new_professional

TITLE = "Titre de séjour de Alice"
FILENAME = "permis-secret.png"


def upload(client: FlaskClient, token: str, person_id: str) -> str:
    response = client.post(
        f"/api/v1/persons/{person_id}/documents",
        headers=bearer(token),
        data={
            "file": (io.BytesIO(sample("scan.png")), FILENAME),
            "title": TITLE,
            "category": "residence_permit",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def make_auditor(app: Flask, world: Actors) -> str:
    """An auditor in world.org, which the operator named as auditing the service."""
    with app.extensions["locker"].session_factory() as session:
        set_audits_service(session, utc_now, organization_id=world.org.id, on=True)
        new_professional(
            session, utc_now, world.org, "Auditrice", role="auditor", email="audit@lilas.example"
        )
        session.commit()
    return "audit@lilas.example"


@pytest.fixture
def scene(client: FlaskClient, world: Actors) -> dict[str, Any]:
    """Alice uploads and opens a paper; Mme Martin tries to open it; someone guesses."""
    alice = token_for(client, "alice")
    doc = upload(client, alice, world.alice.id)
    assert client.get(f"/api/v1/documents/{doc}/content", headers=bearer(alice)).status_code == 200
    martin = token_for(client, "martin@lilas.example")
    refused = client.get(f"/api/v1/documents/{doc}/content", headers=bearer(martin))
    assert refused.status_code == 404
    client.post("/api/v1/auth/token", json={"username": "alice", "password": "wrong-password"})
    return {"alice": alice, "martin": martin, "doc": doc}


def test_the_person_reads_who_touched_their_papers(
    client: FlaskClient, world: Actors, scene: dict[str, Any]
) -> None:
    response = client.get(
        f"/api/v1/persons/{world.alice.id}/access-log", headers=bearer(scene["alice"])
    )
    assert response.status_code == 200
    entries = response.get_json()
    assert [e["seq"] for e in entries] == sorted((e["seq"] for e in entries), reverse=True)
    for entry in entries:
        assert set(entry) == {
            "seq",
            "at",
            "action",
            "actor",
            "on_behalf_of",
            "document_id",
            "outcome",
        }
        assert set(entry["actor"]) == {"kind", "name", "organization"}
    failed_sign_in, martin_try = entries[0], entries[1]
    assert failed_sign_in["action"] == "session:sign_in"
    assert failed_sign_in["outcome"] == "denied"
    assert failed_sign_in["actor"] == {"kind": "anonymous", "name": None, "organization": None}
    assert martin_try["action"] == "document:read"
    assert martin_try["outcome"] == "denied"
    assert martin_try["document_id"] == scene["doc"]
    assert martin_try["actor"] == {
        "kind": "professional",
        "name": "Mme Martin",
        "organization": "CHRS Les Lilas",
    }
    own_read = entries[2]
    assert own_read["actor"]["name"] == "Alice" and own_read["outcome"] == "allowed"
    only_paper = client.get(
        f"/api/v1/persons/{world.alice.id}/access-log?document_id={scene['doc']}",
        headers=bearer(scene["alice"]),
    ).get_json()
    assert only_paper and all(e["document_id"] == scene["doc"] for e in only_paper)
    # Records themselves stay pseudonymous: no name in the stored bytes.
    with client.application.extensions["locker"].engine.connect() as conn:
        stored = b"".join(r[0] for r in conn.execute(text("SELECT canonical FROM audit_records")))
    for secret in (b"Martin", b"Lilas", b"Alice", TITLE.encode(), FILENAME.encode()):
        assert secret not in stored


def test_nobody_else_reads_a_persons_access_log(
    app: Flask, client: FlaskClient, world: Actors, scene: dict[str, Any]
) -> None:
    auditor = make_auditor(app, world)
    path = f"/api/v1/persons/{world.alice.id}/access-log"
    for who in ("bob", "martin@lilas.example", "admin@lilas.example", auditor):
        response = client.get(path, headers=bearer(token_for(client, who)))
        assert response.status_code == 404, who
        assert response.get_json()["error"] == "not_found"
    missing = client.get(
        "/api/v1/persons/00000000-0000-0000-0000-000000000000/access-log",
        headers=bearer(scene["alice"]),
    )
    assert missing.status_code == 404
    assert client.get(path).status_code == 401
    entries = client.get(path, headers=bearer(scene["alice"])).get_json()
    tries = [e for e in entries if e["action"] == "person:read_access_log"]
    assert len(tries) == 4 and all(e["outcome"] == "denied" for e in tries)
    # Another person who tried stays unnamed to Alice.
    assert {"kind": "person", "name": None, "organization": None} in [e["actor"] for e in tries]


def _vkey(client: FlaskClient) -> tuple[str, Ed25519PublicKey]:
    response = client.get("/api/v1/audit/public-key")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    name, key_hash, encoded = response.get_data(as_text=True).strip().split("+", 2)
    raw = base64.b64decode(encoded)
    assert raw[0] == 1 and len(raw) == 33
    assert hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == key_hash
    return name, Ed25519PublicKey.from_public_bytes(raw[1:])


def _checkpoint(client: FlaskClient, name: str, key: Ed25519PublicKey) -> tuple[int, bytes]:
    response = client.get("/api/v1/audit/checkpoint")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    note = response.get_data(as_text=True)
    body, signature_lines = note.split("\n\n")
    origin, size, root = body.split("\n")
    assert origin == name
    dash, signer, blob = signature_lines.rstrip("\n").split(" ")
    assert dash == "\u2014" and signer == name
    raw = base64.b64decode(blob)
    key.verify(raw[4:], (body + "\n").encode())  # raises if forged
    return int(size), base64.b64decode(root)


def test_checkpoints_and_proofs_verify_independently(
    app: Flask, client: FlaskClient, world: Actors, scene: dict[str, Any]
) -> None:
    name, key = _vkey(client)
    auditor = token_for(client, make_auditor(app, world))
    size, root = _checkpoint(client, name, key)
    assert size >= 6
    leaves = []
    for index in range(size):
        response = client.get(
            f"/api/v1/audit/proofs/inclusion?index={index}&tree_size={size}",
            headers=bearer(auditor),
        )
        assert response.status_code == 200
        proof = response.get_json()
        leaf = base64.b64decode(proof["leaf"])
        assert json.loads(leaf)["seq"] == index
        assert base64.b64decode(proof["leaf_hash"]) == rfc.leaf_hash(leaf)
        path = [base64.b64decode(h) for h in proof["hashes"]]
        assert rfc.verify_inclusion(index, size, rfc.leaf_hash(leaf), path, root)
        assert not rfc.verify_inclusion(index, size, rfc.leaf_hash(leaf + b" "), path, root)
        leaves.append(leaf)
    assert rfc.mth(leaves) == root
    # The log grows; the next checkpoint provably extends the first one.
    found = app.extensions["locker"]
    for i in range(7):
        record_event(
            found.session_factory,
            found.clock,
            AuditEvent(action="test:event", outcome="allowed", reason=str(i), actor=Actor.system()),
        )
    publish_current_checkpoint(
        found.session_factory,
        found.keyring.audit_signing_key(),
        found.clock,
        origin=name,
        witness_dir=found.settings.audit_witness_dir,
        max_age_minutes=0,
    )
    new_size, new_root = _checkpoint(client, name, key)
    assert new_size == size + 7
    response = client.get(f"/api/v1/audit/proofs/consistency?first={size}&second={new_size}")
    assert response.status_code == 200
    path = [base64.b64decode(h) for h in response.get_json()["hashes"]]
    assert rfc.verify_consistency(size, new_size, root, new_root, path)
    assert not rfc.verify_consistency(size, new_size, rfc.mth([b"x", *leaves[1:]]), new_root, path)
    beyond = client.get(f"/api/v1/audit/proofs/consistency?first=1&second={new_size + 1}")
    assert beyond.status_code == 404
    assert client.get("/api/v1/audit/proofs/consistency?first=x&second=2").status_code == 400


def test_inclusion_proofs_only_for_the_person_concerned_or_an_auditor(
    app: Flask, client: FlaskClient, world: Actors, scene: dict[str, Any]
) -> None:
    entries = client.get(
        f"/api/v1/persons/{world.alice.id}/access-log", headers=bearer(scene["alice"])
    ).get_json()
    seq = entries[-1]["seq"]
    url = f"/api/v1/audit/proofs/inclusion?index={seq}&tree_size={seq + 1}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer(scene["alice"])).status_code == 200
    for other in ("bob", "martin@lilas.example"):
        refused = client.get(url, headers=bearer(token_for(client, other)))
        assert refused.status_code == 404
    too_big = f"/api/v1/audit/proofs/inclusion?index={seq}&tree_size=100000"
    assert client.get(too_big, headers=bearer(scene["alice"])).status_code == 404


def test_the_auditor_exports_everything_without_content(
    app: Flask, client: FlaskClient, world: Actors, scene: dict[str, Any]
) -> None:
    refused = client.get("/api/v1/audit/export", headers=bearer(scene["martin"]))
    assert refused.status_code == 403
    auditor = token_for(client, make_auditor(app, world))
    as_json = client.get("/api/v1/audit/export?format=json", headers=bearer(auditor))
    assert as_json.status_code == 200
    assert "attachment" in as_json.headers["Content-Disposition"]
    records = json.loads(as_json.get_data(as_text=True))
    assert [r["seq"] for r in records] == list(range(len(records)))
    assert all(tuple(r) == EXPORT_COLUMNS for r in records)
    denied_export = [r for r in records if r["action"] == "audit:export"]
    assert denied_export[0]["outcome"] == "denied"
    assert records[-1]["action"] == "audit:export" and records[-1]["outcome"] == "allowed"
    as_csv = client.get("/api/v1/audit/export?format=csv", headers=bearer(auditor))
    rows = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True))))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert len(rows) - 1 == len(records) + 1  # the second export is on the log too
    for body in (as_json.get_data(), as_csv.get_data()):
        for secret in (TITLE.encode(), FILENAME.encode(), b"Mme Martin", sample("scan.png")[:64]):
            assert secret not in body


def test_a_professional_sees_their_own_actions(
    client: FlaskClient, world: Actors, scene: dict[str, Any]
) -> None:
    response = client.get("/api/v1/audit/my-actions", headers=bearer(scene["martin"]))
    assert response.status_code == 200
    mine = response.get_json()
    assert {e["action"] for e in mine} >= {"document:read", "session:sign_in"}
    assert all(e["actor"] == {"kind": "professional", "id": world.pro.id} for e in mine)
    assert client.get("/api/v1/audit/my-actions", headers=bearer(scene["alice"])).status_code == 403


def test_no_bytes_when_the_tree_cannot_be_written(
    app: Flask, client: FlaskClient, world: Actors
) -> None:
    alice = token_for(client, "alice")
    doc = upload(client, alice, world.alice.id)
    engine = app.extensions["locker"].engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_tree_nodes"))
    response = client.get(f"/api/v1/documents/{doc}/content", headers=bearer(alice))
    assert response.status_code == 503
    assert response.get_json()["error"] == "audit_unavailable"
    assert sample("scan.png")[:16] not in response.get_data()


def test_openapi_describes_the_audit_routes(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/audit/checkpoint",
        "/audit/public-key",
        "/audit/proofs/inclusion",
        "/audit/proofs/consistency",
        "/persons/{person_id}/access-log",
        "/audit/export",
        "/audit/my-actions",
    ):
        assert path in paths


def test_an_upload_answers_503_when_its_audit_record_cannot_be_written(
    app: Flask, client: FlaskClient, world: Actors
) -> None:
    alice = token_for(client, "alice")
    engine = app.extensions["locker"].engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_tree_nodes"))
    response = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers=bearer(alice),
        data={"file": (io.BytesIO(sample("scan.png")), FILENAME), "title": TITLE},
        content_type="multipart/form-data",
    )
    assert response.status_code == 503
    assert response.get_json()["error"] == "audit_unavailable"
