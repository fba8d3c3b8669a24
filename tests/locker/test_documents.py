"""The document core on both stacks: the one door, all-or-nothing uploads, tampering."""

from __future__ import annotations

import io
import os
import re
from typing import IO

import pikepdf
import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from crypto.errors import IntegrityError
from locker import documents as core
from locker.actors import Actor
from locker.documents import ReceivedFile, UploadRequest
from locker.errors import AuditUnavailable, DocumentDamaged, InvalidInput, NotFound
from locker.models import AuditRecord, Document
from sharing import documents as docs
from tests.conftest import Actors, sample
from tests.factories import context
from tests.plaintext import readable_signatures

MARKER = b"LOCKER-PLAINTEXT-MARKER"


def services(app: Flask):
    return app.extensions["locker"]


def put(
    app: Flask,
    person_id: str,
    data: bytes,
    name: str = "scan.png",
    title: str = "Titre",
    source: IO[bytes] | None = None,
    upload_key: str | None = None,
    actor: Actor | None = None,
):
    found = services(app)
    with found.session_factory() as session:
        return docs.upload_document_for(
            context(
                found,
                session,
                actor or Actor(kind="person", id=person_id),
            ),
            person_id=person_id,
            upload=UploadRequest(
                source=io.BytesIO(data) if source is None else source,
                filename=name,
                title=title,
                category="identity",
                max_bytes=found.settings.max_upload_bytes,
                upload_key=upload_key,
            ),
        )


def read(app: Flask, actor: Actor, document_id: str) -> bytes:
    found = services(app)
    with found.session_factory() as session:
        opened = docs.open_document_for(
            context(found, session, actor),
            document_id=document_id,
        )
        return b"".join(opened.chunks)


def audit_rows(app: Flask) -> list[AuditRecord]:
    with services(app).session_factory() as session:
        return list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


def person(world: Actors, name: str = "alice") -> Actor:
    return Actor(kind="person", id=getattr(world, name).id)


def test_read_is_recorded_before_bytes(app: Flask, world: Actors) -> None:
    view = put(app, world.alice.id, sample("caf_letter.pdf"))
    before = len(audit_rows(app))
    assert read(app, person(world), view.id).startswith(b"%PDF-")  # the sanitised copy
    rows = audit_rows(app)
    assert len(rows) == before + 1
    last = rows[-1]
    assert (last.action, last.outcome, last.document_id, last.actor_id) == (
        "document:read",
        "allowed",
        view.id,
        world.alice.id,
    )
    assert [r.seq for r in rows] == list(range(len(rows)))


def test_denied_reads_are_recorded(app: Flask, world: Actors) -> None:
    view = put(app, world.alice.id, sample("scan.png"))
    pro = Actor(
        kind="professional", id=world.pro.id, organization_id=world.org.id, role="professional"
    )
    for actor in (person(world, "bob"), pro, Actor.anonymous()):
        with pytest.raises(NotFound):
            read(app, actor, view.id)
    denied = [r for r in audit_rows(app) if r.outcome == "denied"]
    assert [(r.actor_kind, r.document_id, r.action) for r in denied] == [
        ("person", view.id, "document:read"),
        ("professional", view.id, "document:read"),
        ("anonymous", view.id, "document:read"),
    ]


def test_no_bytes_when_the_audit_log_cannot_be_written(app: Flask, world: Actors) -> None:
    view = put(app, world.alice.id, sample("scan.png"))
    with services(app).engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_records"))
    with pytest.raises(AuditUnavailable):
        read(app, person(world), view.id)


def test_upload_leaves_nothing_when_the_database_write_fails(app: Flask, world: Actors) -> None:
    store = services(app).store
    with services(app).engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_records"))
    with pytest.raises(Exception):  # noqa: B017 (any database error will do)
        put(app, world.alice.id, sample("scan.png"))
    assert list(store.list_keys()) == []
    with services(app).session_factory() as session:
        assert session.scalars(select(Document)).all() == []


KEY = "7c9e6679742540de944be07fc1f90ae7"


def _uploads(app: Flask) -> int:
    return sum(1 for r in audit_rows(app) if r.action == "document:upload")


def test_the_same_upload_sent_twice_stores_one_paper(app: Flask, world: Actors) -> None:
    """A retry after a lost answer carries the form's key: the paper already stored answers."""
    store = services(app).store
    first = put(app, world.alice.id, sample("scan.png"), upload_key=KEY)
    keys = sorted(store.list_keys())
    again = put(app, world.alice.id, sample("scan.png"), title="Autre", upload_key=KEY)
    assert again.id == first.id and again.title == "Titre"
    assert sorted(store.list_keys()) == keys and _uploads(app) == 1
    # Another key, or none, is another paper.
    assert put(app, world.alice.id, sample("scan.png"), upload_key=KEY[::-1]).id != first.id
    assert put(app, world.alice.id, sample("scan.png")).id != first.id
    assert _uploads(app) == 3


def test_an_upload_key_is_the_uploaders_own(app: Flask, world: Actors) -> None:
    """Someone else sending the same key gets nothing of the paper it named."""
    mine = put(app, world.alice.id, sample("scan.png"), upload_key=KEY)
    theirs = put(app, world.bob.id, sample("scan.png"), upload_key=KEY)
    assert theirs.id != mine.id and theirs.person_id == world.bob.id


def test_an_unknown_category_is_refused_before_anything_is_stored(
    app: Flask, world: Actors
) -> None:
    found = services(app)
    with found.session_factory() as session, pytest.raises(InvalidInput) as refused:
        docs.upload_document_for(
            context(found, session, person(world)),
            person_id=world.alice.id,
            upload=UploadRequest(
                source=io.BytesIO(sample("scan.png")),
                filename="scan.png",
                title="Titre",
                category="secret-stuff",
                max_bytes=found.settings.max_upload_bytes,
            ),
        )
    assert refused.value.params["field"] == "category"
    assert list(found.store.list_keys()) == [] and _uploads(app) == 0


@pytest.mark.parametrize("bad", ["short", "x" * 65, "a" * 20 + "/../", "ключ" * 5])
def test_a_malformed_upload_key_is_refused(app: Flask, world: Actors, bad: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        put(app, world.alice.id, sample("scan.png"), upload_key=bad)
    assert refused.value.params["field"] == "upload_key"
    assert list(services(app).store.list_keys()) == []


def test_the_second_of_two_racing_uploads_leaves_nothing(
    app: Flask, world: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sends of one upload at once: the second to commit hits the unique key, deletes
    what it stored and answers the first's paper."""
    first = put(app, world.alice.id, sample("scan.png"), upload_key=KEY)
    keys = sorted(services(app).store.list_keys())
    looked = []
    real = core._uploaded_before

    def late(*args: object) -> object:  # the first send had not committed at the look
        looked.append(1)
        return None if len(looked) == 1 else real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(core, "_uploaded_before", late)
    assert put(app, world.alice.id, sample("scan.png"), upload_key=KEY).id == first.id
    assert len(looked) == 2 and sorted(services(app).store.list_keys()) == keys
    assert _uploads(app) == 1


def test_a_received_file_is_emptied_once_read_and_the_document_is_whole(
    app: Flask, world: Actors
) -> None:
    # The upload takes a received file over: the sanitiser reads it whole, then its pages
    # are freed while the object is stored, so nothing of it waits for the request's end.
    data = sample("caf_letter.pdf")
    received = ReceivedFile()
    try:
        received.write(data)
        received.seek(0)
        view = put(app, world.alice.id, b"", name="caf.pdf", source=received)
        assert os.fstat(received.fileno()).st_size == 0
    finally:
        received.close()
    stored = read(app, person(world), view.id)
    assert stored.startswith(b"%PDF-") and view.size == len(stored) > 1000
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        assert len(pdf.pages) == view.page_count


def test_store_and_database_hold_no_plaintext(app: Flask, world: Actors) -> None:
    for name in ("caf_letter.pdf", "scan.png", "id_photo_gps.jpg", "payslip.heic"):
        put(app, world.alice.id, sample(name), name=name, title="Titre secret " + name)
    store = services(app).store
    keys = list(store.list_keys())
    assert len(keys) == 12  # each document, its thumbnail and its preview
    for key in keys:
        assert re.fullmatch(r"[0-9a-f]{32}", key)
        blob = b"".join(store.get(key))
        assert readable_signatures(blob) == [], key
    with services(app).session_factory() as session:
        for doc in session.scalars(select(Document)):
            assert b"Titre" not in doc.title_ciphertext
            assert b".pdf" not in doc.filename_ciphertext
            assert b"scan" not in doc.filename_ciphertext


def _rewrite(app: Flask, key: str, data: bytes) -> None:
    services(app).store.put(key, [data])


def _object(app: Flask, document_id: str) -> tuple[str, bytes]:
    with services(app).session_factory() as session:
        doc = session.get(Document, document_id)
        assert doc is not None
        return doc.object_key, b"".join(services(app).store.get(doc.object_key))


@pytest.mark.parametrize("position", ["header", "first", "middle", "last"])
def test_a_flipped_bit_releases_no_plaintext(app: Flask, world: Actors, position: str) -> None:
    data = sample("id_photo_gps.jpg")  # several segments long
    view = put(app, world.alice.id, data)
    key, blob = _object(app, view.id)
    index = {"header": 12, "first": 200, "middle": len(blob) // 2, "last": len(blob) - 3}[position]
    tampered = bytearray(blob)
    tampered[index] ^= 0x01
    _rewrite(app, key, bytes(tampered))
    with pytest.raises(DocumentDamaged):
        read(app, person(world), view.id)


def test_truncation_is_refused(app: Flask, world: Actors) -> None:
    view = put(app, world.alice.id, sample("id_photo_gps.jpg"))
    key, blob = _object(app, view.id)
    _rewrite(app, key, blob[: len(blob) // 2])
    with pytest.raises(DocumentDamaged):
        read(app, person(world), view.id)


def test_swapped_objects_are_refused(app: Flask, world: Actors) -> None:
    first = put(app, world.alice.id, sample("scan.png"))
    second = put(app, world.alice.id, sample("caf_letter.pdf"))
    third = put(app, world.bob.id, sample("scan.webp"))
    key1, blob1 = _object(app, first.id)
    _, blob2 = _object(app, second.id)
    key3, _ = _object(app, third.id)
    _rewrite(app, key1, blob2)  # same person, other document
    _rewrite(app, key3, blob1)  # other person
    with pytest.raises(DocumentDamaged):
        read(app, person(world), first.id)
    with pytest.raises(DocumentDamaged):
        read(app, person(world, "bob"), third.id)


def test_a_wrapped_key_moved_to_another_row_does_not_unwrap(app: Flask, world: Actors) -> None:
    first = put(app, world.alice.id, sample("scan.png"))
    second = put(app, world.alice.id, sample("caf_letter.pdf"))
    found = services(app)
    with found.session_factory() as session:
        a = session.get(Document, first.id)
        b = session.get(Document, second.id)
        assert a is not None and b is not None
        b.wrapped_data_key = a.wrapped_data_key
        session.commit()
    with pytest.raises(DocumentDamaged):
        read(app, person(world), second.id)
    assert read(app, person(world), first.id).startswith(b"\x89PNG")


def test_every_person_has_their_own_key(app: Flask, world: Actors, db_session: Session) -> None:
    assert world.alice.wrapped_person_key != world.bob.wrapped_person_key
    keyring = services(app).keyring
    from locker.accounts import master_wrapped, person_key, person_key_aad

    assert person_key(keyring, world.alice) != person_key(keyring, world.bob)
    # Her key, out of its erasure seal, unwraps only bound to her id.
    with pytest.raises(IntegrityError):
        keyring.unwrap(master_wrapped(keyring, world.alice), person_key_aad(world.bob.id))
