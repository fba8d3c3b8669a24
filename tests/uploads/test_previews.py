"""The preview: a JPEG at most 1600 px long of the photo or of the PDF's first page, drawn
at upload in the sandbox (or once, on demand, for a paper stored before previews), served
with the content's rights and audit, and removed with its document."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from flask import Flask
from PIL import Image, ImageChops, ImageStat
from sqlalchemy import select

from locker import documents as core
from locker.actors import Actor
from locker.errors import AuditUnavailable
from locker.models import AuditRecord, Document
from locker.sanitize import SanitizeLimits, draw_preview, images
from locker.sanitize.errors import TypeMismatch
from locker.trash import RETENTION, purge_trash
from sharing.documents import delete_document_for
from tests.conftest import Actors, bearer, token_for
from tests.factories import ACTOR_NAMES, Clock, build_world, context
from tests.uploads.helpers import SAMPLES, api_upload, counts, person_token, sign_in_browser

LONG_SIDE = 1600
# Who may read Alice's paper in the world of tests.factories (the matrix's VIEWERS).
VIEWERS = {"owner", "referent_grant", "intervenor_grant", "helper_view"}


def _upload(app: Flask, token: str, person_id: str, *names: str) -> str:
    files = [((SAMPLES / name).read_bytes(), name) for name in names]
    response = api_upload(app.test_client(), token, person_id, files)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def _preview(app: Flask, token: str, document_id: str) -> Any:
    return app.test_client().get(f"/api/v1/documents/{document_id}/preview", headers=bearer(token))


def _picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    image.load()
    return image


def _records(app: Flask, document_id: str, action: str = "document:preview") -> list[AuditRecord]:
    with app.extensions["locker"].session_factory() as session:
        rows = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.document_id == document_id, AuditRecord.action == action)
            .order_by(AuditRecord.seq)
        )
        return list(rows)


def _two_halves(top_dark: bool) -> bytes:
    """A one-page content stream: the top or the bottom half of an A4 page painted black."""
    y = 421 if top_dark else 0
    return f"0 g 0 {y} 595 421 re f".encode()


def _three_pages(path: Path) -> Path:
    """A 3-page PDF whose first page alone is dark at the top."""
    pdf = pikepdf.new()
    for top_dark in (True, False, False):
        page = pdf.add_blank_page(page_size=(595, 842))
        page.obj["/Contents"] = pikepdf.Stream(pdf, _two_halves(top_dark))
    pdf.save(path)
    return path


def _brightness(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    return float(ImageStat.Stat(image.convert("L").crop(box)).mean[0])


def _mean_difference(first: Image.Image, second: Image.Image) -> float:
    difference = ImageChops.difference(first.convert("RGB"), second.convert("RGB"))
    return max(ImageStat.Stat(difference).mean)


def _forget_preview(app: Flask, doc_id: str) -> None:
    """Make the paper one stored before previews: no key on its row, no object."""
    found = app.extensions["locker"]
    with found.session_factory() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.preview_key is not None
        found.store.delete(doc.preview_key)
        doc.preview_key = None
        session.commit()


# At upload.


def test_a_photo_preview_is_an_upright_bare_jpeg_of_1600_px(app: Flask, world: Actors) -> None:
    token = person_token(app.test_client())
    # 4032 x 3024, EXIF Orientation=6 and GPS: stored upright (portrait), 2000 long, bare.
    doc_id = _upload(app, token, world.alice.id, "id_photo_gps.jpg")
    response = _preview(app, token, doc_id)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Content-Disposition"].startswith("inline; filename=")
    assert int(response.headers["Content-Length"]) == len(response.data)
    preview = _picture(response.data)
    assert preview.size == (1200, LONG_SIDE)
    assert not preview.getexif() and b"GPS" not in response.data and b"Exif" not in response.data
    # The same picture as the content, only smaller.
    content = app.test_client().get(f"/api/v1/documents/{doc_id}/content", headers=bearer(token))
    clean = _picture(content.data)
    assert clean.size == (1500, images.MAX_SIDE)
    expected = clean.resize(preview.size, Image.Resampling.BILINEAR)
    assert _mean_difference(preview, expected) < 6.0


@pytest.mark.parametrize("size", [(800, 600), (1600, 1200)])
def test_a_photo_no_longer_than_1600_px_keeps_its_size(
    app: Flask, world: Actors, size: tuple[int, int]
) -> None:
    token = person_token(app.test_client())
    photo = io.BytesIO()
    Image.linear_gradient("L").convert("RGB").resize(size).save(photo, "JPEG", quality=90)
    response = api_upload(app.test_client(), token, world.alice.id, [(photo.getvalue(), "p.jpg")])
    assert response.status_code == 201
    assert _picture(_preview(app, token, response.get_json()["id"]).data).size == size


def test_a_multi_page_pdf_previews_its_first_page(
    app: Flask, world: Actors, tmp_path: Path
) -> None:
    token = person_token(app.test_client())
    source = _three_pages(tmp_path / "three.pdf")
    response = api_upload(
        app.test_client(), token, world.alice.id, [(source.read_bytes(), "lettre.pdf")]
    )
    assert response.status_code == 201 and response.get_json()["page_count"] == 3
    preview = _picture(_preview(app, token, response.get_json()["id"]).data)
    width, height = preview.size
    assert height == LONG_SIDE and 1125 <= width <= 1135  # A4 drawn 1600 px high
    # Dark at the top, white below: the first page, not the others.
    assert _brightness(preview, (0, 0, width, height // 2 - 10)) < 20
    assert _brightness(preview, (0, height // 2 + 10, width, height)) > 235


@pytest.mark.parametrize(
    ("order", "size"),
    [
        (("id_photo_gps.jpg", "scan.png"), (1200, LONG_SIDE)),
        (("scan.png", "id_photo_gps.jpg"), (1600, 1200)),
    ],
)
def test_photos_made_one_pdf_preview_the_first_photo(
    app: Flask, world: Actors, order: tuple[str, str], size: tuple[int, int]
) -> None:
    token = person_token(app.test_client())
    doc_id = _upload(app, token, world.alice.id, *order)
    assert _picture(_preview(app, token, doc_id).data).size == size


def test_previews_at_the_sanitiser_level(tmp_path: Path) -> None:
    # Pillow's path (PNG, grey) takes the same sizes as the planes path above.
    big = Image.linear_gradient("L").resize((3000, 2000))
    with ThreadPoolExecutor(1) as pool:
        png = io.BytesIO()
        big.save(png, "PNG")
        clean = images.clean_image(png.getvalue(), "image/png", 50_000_000, previews=pool)
        assert clean.previews is not None
        drawn = clean.previews.result()
    # Drawn from the clean pixels (2000 x 1333): the same size but for the rounding.
    assert clean.size == (images.MAX_SIDE, 1333)
    assert _picture(drawn.preview).size == (1600, 1066)
    assert max(_picture(drawn.thumbnail).size) == images.THUMBNAIL_SIDE
    # A preview-only job of the sandbox, from a file cleaned earlier.
    workdir = tmp_path / "work"
    workdir.mkdir()
    stored = workdir / "stored"
    stored.write_bytes(png.getvalue())
    assert _picture(draw_preview(stored, workdir, SanitizeLimits())).size == (1600, 1066)


# Rights and audit.


@pytest.mark.no_csrf
def test_the_preview_has_the_rights_and_the_audit_of_the_content(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    for name in ACTOR_NAMES:
        doc_id = world.document_for(name)
        if name == "anonymous":
            headers: dict[str, str] = {}
        else:
            user = world.users[name]
            headers = bearer(token_for(client, getattr(user, "email", None) or user.username))
        before = len(_records(app, doc_id))
        preview = client.get(f"/api/v1/documents/{doc_id}/preview", headers=headers)
        content = client.get(f"/api/v1/documents/{doc_id}/content", headers=headers)
        if name == "anonymous":
            assert (preview.status_code, content.status_code) == (401, 401), name
            continue
        expected = 200 if name in VIEWERS else 404
        assert preview.status_code == content.status_code == expected, name
        if expected == 200:
            assert preview.data[:3] == b"\xff\xd8\xff"
        else:
            assert preview.get_json()["error"] == "not_found"
        # Each call is on the person's log as a preview, allowed or not, apart from reads.
        records = _records(app, doc_id)[before:]
        assert [r.actor_id for r in records] == [world.users[name].id], name
        outcome = "allowed" if expected == 200 else "denied"
        assert {r.outcome for r in records} == {outcome}, name
        if name == "helper_view":  # under the mandate, on the person's behalf
            assert {r.on_behalf_of for r in records} == {world.alice.id}
            assert {r.reason for r in records} == {"mandate:view"}


def test_unknown_and_trashed_ids_answer_404_and_are_recorded(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = person_token(client)
    unknown = str(uuid.uuid4())
    response = _preview(app, token, unknown)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    with app.extensions["locker"].session_factory() as session:
        last = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert last is not None
        assert (last.action, last.outcome) == ("document:preview", "denied")
        assert (last.reason, last.document_id) == ("not_found", None)
    doc_id = _upload(app, token, world.alice.id, "scan.png")
    assert client.delete(f"/api/v1/documents/{doc_id}", headers=bearer(token)).status_code == 204
    trashed = _preview(app, token, doc_id)
    assert trashed.status_code == 404 and trashed.get_json() == response.get_json()
    last_record = _records(app, doc_id)[-1]
    assert (last_record.outcome, last_record.reason) == ("denied", "trashed")


@pytest.mark.parametrize("stored_before_previews", [False, True])
def test_the_record_is_committed_before_any_object_is_read(
    app: Flask, world: Actors, monkeypatch: pytest.MonkeyPatch, stored_before_previews: bool
) -> None:
    found = app.extensions["locker"]
    token = person_token(app.test_client())
    doc_id = _upload(app, token, world.alice.id, "caf_letter.pdf")
    if stored_before_previews:  # then its content is read, to draw the preview from
        _forget_preview(app, doc_id)
    seen: list[list[str]] = []
    real_get = found.store.get

    def get(key: str) -> Iterator[bytes]:
        # Read from another connection: only what is committed shows.
        seen.append([f"{r.action}:{r.outcome}" for r in _records(app, doc_id)])
        return real_get(key)  # type: ignore[no-any-return]

    monkeypatch.setattr(found.store, "get", get)
    assert _preview(app, token, doc_id).status_code == 200
    assert seen == [["document:preview:allowed"]]
    # Without the audit log, no byte at all.
    monkeypatch.setattr(core, "record_event", _unavailable)
    seen.clear()
    response = _preview(app, token, doc_id)
    assert response.status_code == 503 and response.get_json()["error"] == "audit_unavailable"
    assert seen == []


def _unavailable(*_: object, **__: object) -> None:
    raise AuditUnavailable("audit log down")


# Deletion.


def test_deleting_a_document_leaves_no_preview_object(app: Flask, world: Actors) -> None:
    found = app.extensions["locker"]
    token = person_token(app.test_client())
    gone = _upload(app, token, world.alice.id, "id_photo_gps.jpg")
    purged = _upload(app, token, world.alice.id, "caf_letter.pdf")
    with found.session_factory() as session:
        doc = session.get(Document, gone)
        assert doc is not None and doc.preview_key is not None
        preview_key = doc.preview_key
    assert counts(app) == (2, 6)
    with found.session_factory() as session:
        delete_document_for(
            context(found, session, Actor(kind="person", id=world.alice.id)), document_id=gone
        )
    assert not found.store.exists(preview_key)
    assert counts(app) == (1, 3)
    # Through the trash: purged 30 days on, with every object of it.
    client = app.test_client()
    assert client.delete(f"/api/v1/documents/{purged}", headers=bearer(token)).status_code == 204
    with found.session_factory() as session:
        later = found.clock() + RETENTION + timedelta(days=1)
        report = purge_trash(session, found.store, lambda: later)
    assert (report.purged, report.objects_left) == (1, 0)
    assert counts(app) == (0, 0)


# Papers stored before previews.


@pytest.mark.parametrize(
    ("name", "size"),
    [("id_photo_gps.jpg", (1200, 1600)), ("scan.png", (1600, 1200)), ("caf_letter.pdf", None)],
)
def test_a_paper_stored_without_preview_gets_one_drawn_once(
    app: Flask,
    world: Actors,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    size: tuple[int, int] | None,
) -> None:
    found = app.extensions["locker"]
    token = person_token(app.test_client())
    doc_id = _upload(app, token, world.alice.id, name)
    stored = _picture(_preview(app, token, doc_id).data)
    _forget_preview(app, doc_id)
    assert counts(app) == (1, 2)
    drawn: list[Path] = []
    real_draw = core.draw_preview

    def counted(clean: Path, workdir: Path, limits: SanitizeLimits, page: int = 0) -> bytes:
        drawn.append(clean)
        return real_draw(clean, workdir, limits, page)

    monkeypatch.setattr(core, "draw_preview", counted)
    first = _preview(app, token, doc_id)
    assert first.status_code == 200 and first.headers["Content-Type"] == "image/jpeg"
    again = _preview(app, token, doc_id)
    assert again.status_code == 200 and again.data == first.data  # stored, not drawn again
    assert len(drawn) == 1 and not drawn[0].exists()  # the plaintext did not stay behind
    drawn_again = _picture(first.data)
    assert drawn_again.size == (size or stored.size)
    assert _mean_difference(drawn_again, stored) < 6.0
    with found.session_factory() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.preview_key is not None
        assert found.store.exists(doc.preview_key)
    assert counts(app) == (1, 3)
    assert [r.outcome for r in _records(app, doc_id)] == ["allowed"] * 3
    # And it goes with its document.
    with found.session_factory() as session:
        delete_document_for(
            context(found, session, Actor(kind="person", id=world.alice.id)), document_id=doc_id
        )
    assert counts(app) == (0, 0)


def test_a_preview_drawn_twice_at_once_is_stored_once(
    app: Flask, world: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two first views of an old paper at the same moment: the second to finish finds the
    # row already naming a preview, and removes its own object.
    found = app.extensions["locker"]
    token = person_token(app.test_client())
    doc_id = _upload(app, token, world.alice.id, "scan.png")
    _forget_preview(app, doc_id)
    real_draw = core.draw_preview
    winner = found.store.new_key()

    def meanwhile(clean: Path, workdir: Path, limits: SanitizeLimits, page: int = 0) -> bytes:
        preview = real_draw(clean, workdir, limits, page)
        found.store.put(winner, [b"the other request's preview"])
        with found.session_factory() as session:
            doc = session.get(Document, doc_id)
            assert doc is not None
            doc.preview_key = winner
            session.commit()
        return preview

    monkeypatch.setattr(core, "draw_preview", meanwhile)
    response = _preview(app, token, doc_id)
    assert response.status_code == 200 and response.data[:3] == b"\xff\xd8\xff"
    assert counts(app) == (1, 3)  # the object, the thumbnail and the winner's preview
    with found.session_factory() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.preview_key == winner


def test_a_stored_file_the_sandbox_cannot_draw_is_a_damaged_file_not_a_bad_request(
    app: Flask, world: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = person_token(app.test_client())
    doc_id = _upload(app, token, world.alice.id, "caf_letter.pdf")
    _forget_preview(app, doc_id)

    def refused(*_: object) -> bytes:
        raise TypeMismatch("pdfium cannot read it")

    monkeypatch.setattr(core, "draw_preview", refused)
    response = _preview(app, token, doc_id)
    assert response.status_code == 422 and response.get_json()["error"] == "damaged_file"
    assert counts(app) == (1, 2)  # nothing stored, nothing named
    assert _records(app, doc_id)[-1].outcome == "allowed"  # recorded all the same


def test_the_paper_page_shows_the_preview_before_the_download(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = person_token(client)
    doc_id = _upload(app, token, world.alice.id, "scan.png")
    sign_in_browser(client)
    page = client.get(f"/papers/{doc_id}").get_data(as_text=True)
    image = f'<img class="preview" id="preview" src="/papers/{doc_id}/preview" alt=""'
    assert image in page
    assert page.index(image) < page.index('id="open"')
    shown = client.get(f"/papers/{doc_id}/preview")
    assert shown.status_code == 200 and shown.headers["Content-Type"] == "image/jpeg"
    assert shown.headers["Cache-Control"] == "no-store"
    assert _records(app, doc_id)[-1].outcome == "allowed"
