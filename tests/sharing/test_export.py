"""A person takes everything in one request: the ZIP, what it holds, who may take it, the
one audit record, and the log's verification material, checked without the service."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import zipfile

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from locker.checkpoints import open_checkpoint
from locker.models import AuditRecord, Document
from tests.audit_verifier import leaf_hash, verify_inclusion
from tests.conftest import bearer, token_for
from tests.factories import Clock, World, add_mandate, build_world
from tests.web.test_pages import sign_in


def _records(app: Flask, action: str | None = None) -> int:
    query = select(func.count()).select_from(AuditRecord)
    if action is not None:
        query = query.where(AuditRecord.action == action)
    with app.extensions["locker"].session_factory() as session:
        return int(session.scalar(query) or 0)


def _export(client: FlaskClient, world: World, token: str, lang: str = "fr") -> zipfile.ZipFile:
    answer = client.get(
        f"/api/v1/persons/{world.alice.id}/export?lang={lang}", headers=bearer(token)
    )
    assert answer.status_code == 200, answer.data[:300]
    assert answer.mimetype == "application/zip"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="coffre-fort-')
    archive = zipfile.ZipFile(io.BytesIO(answer.data))
    assert archive.testzip() is None  # every member's CRC checks
    return archive


def test_the_person_takes_every_paper_their_list_and_their_log(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    token = token_for(client, world.alice.username)
    # One paper in the trash: it comes too, marked.
    assert (
        client.delete(f"/api/v1/documents/{world.doc_plain}", headers=bearer(token)).status_code
        == 204
    )
    kept = client.get(f"/api/v1/documents/{world.doc}/content", headers=bearer(token)).data
    before, reads = _records(app), _records(app, "document:read")

    archive = _export(client, world, token)
    # One record for the whole export, written first; no read record per paper.
    assert _records(app, "person:export") == 1
    assert _records(app, "document:read") == reads
    assert _records(app) == before + 1

    names = set(archive.namelist())
    assert {
        "LISEZMOI.txt",
        "papers.json",
        "papers.csv",
        "access-log.json",
        "access-log.csv",
    } <= names
    assert {"verification/checkpoint.txt", "verification/public-key.txt"} <= names
    papers = json.loads(archive.read("papers.json"))
    with app.extensions["locker"].session_factory() as session:
        theirs = set(
            session.scalars(select(Document.id).where(Document.person_id == world.alice.id))
        )
    assert {p["id"] for p in papers} == theirs  # every paper, the trash included; nobody else's
    by_id = {p["id"]: p for p in papers}
    shared, trashed = by_id[world.doc], by_id[world.doc_plain]
    assert shared["file"].startswith("papiers/") and not shared["trashed"]
    assert trashed["file"].startswith("corbeille/") and trashed["trashed"] and trashed["trashed_at"]
    assert archive.read(shared["file"]) == kept
    for paper in papers:
        data = archive.read(paper["file"])
        assert hashlib.sha256(data).hexdigest() == paper["sha256"] and len(data) == paper["size"]
    assert any("CHRS Les Lilas" in who for who in shared["who_can_see"])
    assert trashed["who_can_see"] == []
    rows = list(csv.DictReader(io.StringIO(archive.read("papers.csv").decode("utf-8-sig"))))
    assert {r["id"] for r in rows} == theirs and all(r["sha256"] for r in rows)

    log = json.loads(archive.read("access-log.json"))
    assert log[0]["action"] == "person:export"  # newest first, this export included
    assert {"document:read", "document:trash"} <= {e["action"] for e in log}
    assert archive.read("LISEZMOI.txt").decode().startswith("Voici tout ce que")


def test_the_log_in_the_export_verifies_without_the_service(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    archive = _export(client, world, token_for(client, world.alice.username))
    settings = app.extensions["locker"].settings
    key_line = archive.read("verification/public-key.txt").decode().strip()
    name, _, encoded = key_line.split("+", 2)
    assert name == settings.audit_origin
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(encoded)[1:])
    head = open_checkpoint(archive.read("verification/checkpoint.txt").decode(), name, key)
    proofs = json.loads(archive.read("verification/proofs.json"))
    assert proofs["tree_size"] == head.tree_size
    records = proofs["records"]
    assert records and records[-1]["index"] == head.tree_size - 1  # the export's own record
    for record in records:
        leaf = base64.b64decode(record["leaf"])
        assert json.loads(leaf)["person_id"] == world.alice.id  # only her records
        path = [base64.b64decode(h) for h in record["hashes"]]
        assert base64.b64decode(record["leaf_hash"]) == leaf_hash(leaf)
        assert verify_inclusion(
            record["index"], head.tree_size, leaf_hash(leaf), path, head.root_hash
        )
    # A changed record no longer proves: the check can fail.
    first = records[0]
    altered = base64.b64decode(first["leaf"]).replace(b"allowed", b"denied_")
    path = [base64.b64decode(h) for h in first["hashes"]]
    assert not verify_inclusion(
        first["index"], head.tree_size, leaf_hash(altered), path, head.root_hash
    )


def test_the_note_and_folders_speak_the_persons_language(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    archive = _export(client, world, token_for(client, world.alice.username), lang="en")
    readme = archive.read("LISEZMOI.txt").decode()
    assert "Here is everything" in readme and "papiers" not in readme
    assert all(not n.startswith("papiers/") for n in archive.namelist())


def test_a_damaged_paper_leaves_a_note_and_the_rest_still_comes(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    found = app.extensions["locker"]
    with found.session_factory() as session:
        key = session.get(Document, world.doc).object_key
    stored = b"".join(found.store.get(key))
    found.store.put(key, [stored[:-1] + bytes([stored[-1] ^ 1])])
    client = app.test_client()
    archive = _export(client, world, token_for(client, world.alice.username))
    papers = {p["id"]: p for p in json.loads(archive.read("papers.json"))}
    damaged, whole = papers[world.doc], papers[world.doc_plain]
    assert damaged["unreadable"] and "sha256" not in damaged and damaged["file"].endswith(".txt")
    assert "abîmé" in archive.read(damaged["file"]).decode()
    assert hashlib.sha256(archive.read(whole["file"])).hexdigest() == whole["sha256"]


def test_the_settings_page_offers_it_and_streams_it(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    person = app.test_client()
    assert sign_in(person, world.alice.username).status_code == 302
    page = person.get("/settings").get_data(as_text=True)
    assert 'href="/settings/export"' in page
    answer = person.get("/settings/export")
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    assert "papers.json" in zipfile.ZipFile(io.BytesIO(answer.data)).namelist()
    # Nobody else's export is reachable from the pages: there is no id to give.
    pro = app.test_client()
    assert sign_in(pro, "referent_grant@example.org").status_code == 302
    assert pro.get("/settings/export").status_code == 404


def test_a_helper_takes_it_only_under_an_export_mandate(app: Flask, clock: Clock) -> None:
    """A "view" mandate is not enough; an "export" one is, and the record names both."""
    world = build_world(app, clock)
    client = app.test_client()
    helper = world.users["helper_view"]
    token = token_for(client, helper.email)
    path = f"/api/v1/persons/{world.alice.id}/export"
    assert client.get(path, headers=bearer(token)).status_code == 404
    found = app.extensions["locker"]
    with found.session_factory() as session:
        add_mandate(session, clock, world.members["helper_view"], "export")
        session.commit()
    assert _export(client, world, token).testzip() is None
    with found.session_factory() as session:
        record = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "person:export")
            .order_by(AuditRecord.seq)
        ).all()
    assert [(r.outcome, r.actor_id, r.on_behalf_of) for r in record] == [
        ("denied", helper.id, None),
        ("allowed", helper.id, world.alice.id),
    ]
