"""Every sample gives its MANIFEST verdict through the API and the web form, and what is
stored is clean: no EXIF/GPS, upright, no polyglot payload, no PDF script."""

from __future__ import annotations

import io

import pikepdf
import pytest
from flask import Flask
from PIL import Image

from tests.conftest import Actors, bearer
from tests.plaintext import readable_signatures
from tests.uploads.helpers import (
    MARKER,
    SAMPLES,
    api_upload,
    counts,
    form_upload,
    manifest,
    person_token,
    sign_in_browser,
)

REFUSAL_STATUS = {413, 415, 422}


def check_clean(name: str, content: bytes, content_type: str) -> None:
    """The stored plaintext of an accepted sample carries nothing it should not."""
    assert b"<script" not in content and b"<html" not in content
    if content_type == "application/pdf":
        with pikepdf.open(io.BytesIO(content)) as pdf:
            assert "/OpenAction" not in pdf.Root
            assert "/Names" not in pdf.Root or "/JavaScript" not in pdf.Root.Names
            assert "/Metadata" not in pdf.Root and "/Info" not in pdf.trailer
        for needle in (b"/JavaScript", b"/JS ", b"/OpenAction", b"/Author", b"app.alert"):
            assert needle not in content
        return
    assert MARKER not in content  # it was in the EXIF description
    for needle in (b"Exif", b"GPS", b"PhoneMaker", b"http://ns.adobe.com/xap", b"ICC_PROFILE"):
        assert needle not in content
    with Image.open(io.BytesIO(content)) as image:
        assert not image.getexif()
        assert "icc_profile" not in image.info and "comment" not in image.info
        if name == "id_photo_gps.jpg":
            width, height = image.size
            assert height > width  # Orientation=6 on a landscape sensor: upright is portrait
            # The paper (light) is in the middle, the table (dark) at the edges: the photo
            # was turned, not just relabelled.
            assert image.convert("L").getpixel((width // 2, height // 2)) > 200


def test_every_sample_through_the_api(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = person_token(client)
    accepted = 0
    for name, expect in manifest():
        before = counts(app)
        response = api_upload(
            client, token, world.alice.id, [((SAMPLES / name).read_bytes(), name)]
        )
        if expect == "reject" or (expect.endswith("-or-reject") and response.status_code != 201):
            assert response.status_code in REFUSAL_STATUS, (name, response.status_code)
            body = response.get_json()
            assert body["error"] and body["message"], name
            assert counts(app) == before, name  # no row, no object
            continue
        assert response.status_code == 201, (name, response.get_json())
        accepted += 1
        doc = response.get_json()
        assert doc["has_thumbnail"] is True
        content = client.get(f"/api/v1/documents/{doc['id']}/content", headers=bearer(token))
        assert content.status_code == 200
        assert len(content.data) == doc["size"]
        check_clean(name, content.data, doc["content_type"])
        thumb = client.get(f"/api/v1/documents/{doc['id']}/thumbnail", headers=bearer(token))
        assert thumb.status_code == 200 and thumb.data.startswith(b"\xff\xd8\xff")
        with Image.open(io.BytesIO(thumb.data)) as small:
            assert max(small.size) <= 256 and not small.getexif()
    assert accepted >= 6


def test_every_sample_through_the_web_form(app: Flask, world: Actors) -> None:
    client = app.test_client()
    sign_in_browser(client)
    for name, expect in manifest():
        before = counts(app)
        response = form_upload(client, [((SAMPLES / name).read_bytes(), name)])
        if expect == "reject" or (expect.endswith("-or-reject") and response.status_code != 302):
            assert response.status_code in REFUSAL_STATUS, (name, response.status_code)
            assert "error-summary" in response.get_data(as_text=True)  # said on the page
            assert counts(app) == before, name
            continue
        assert response.status_code == 302, (name, response.status_code)
        assert counts(app) == (before[0] + 1, before[1] + 3)


def test_refusals_say_what_is_accepted(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = person_token(client)
    response = api_upload(
        client,
        token,
        world.alice.id,
        [((SAMPLES / "svg_with_script.svg").read_bytes(), "x.jpg")],
    )
    assert response.status_code == 415
    assert "JPEG" in response.get_json()["message"] and "PDF" in response.get_json()["message"]
    english = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers={**bearer(token), "Accept-Language": "en"},
        data={"file": (io.BytesIO((SAMPLES / "pixel_bomb.png").read_bytes()), "a.png")},
        content_type="multipart/form-data",
    )
    assert english.status_code == 422
    assert english.get_json()["error"] == "too_many_pixels"
    assert "photo" in english.get_json()["message"]


def test_nothing_readable_reaches_the_object_store(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = person_token(client)
    for name, expect in manifest():
        if expect != "reject":
            api_upload(client, token, world.alice.id, [((SAMPLES / name).read_bytes(), name)])
    photos = [(SAMPLES / n).read_bytes() for n in ("id_photo_gps.jpg", "scan.png")]
    api_upload(client, token, world.alice.id, [(photos[0], "a.jpg"), (photos[1], "b.png")])
    store = app.extensions["locker"].store
    keys = list(store.list_keys())
    assert len(keys) >= 24  # each document, its thumbnail and its preview
    for key in keys:
        blob = b"".join(store.get(key))
        assert readable_signatures(blob) == [], key


@pytest.mark.parametrize(
    "order", [("id_photo_gps.jpg", "scan.png"), ("scan.png", "id_photo_gps.jpg")]
)
def test_several_photos_become_one_pdf_in_order(
    app: Flask, world: Actors, order: tuple[str, str]
) -> None:
    client = app.test_client()
    token = person_token(client)
    files = [((SAMPLES / n).read_bytes(), n) for n in (*order, "payslip.heic")]
    response = api_upload(client, token, world.alice.id, files, title="Lettre 3 pages")
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert doc["content_type"] == "application/pdf" and doc["page_count"] == 3
    assert doc["filename"].endswith(".pdf")
    content = client.get(f"/api/v1/documents/{doc['id']}/content", headers=bearer(token)).data
    with pikepdf.open(io.BytesIO(content)) as pdf:
        shapes = []
        for page in pdf.pages:
            box = [float(v) for v in page.mediabox]
            shapes.append("portrait" if box[3] > box[2] else "landscape")
    expected = {"id_photo_gps.jpg": "portrait", "scan.png": "landscape"}
    assert shapes == [expected[order[0]], expected[order[1]], "landscape"]
    assert b"Exif" not in content and MARKER not in content


def test_a_pdf_among_photos_is_refused(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = person_token(client)
    files = [((SAMPLES / n).read_bytes(), n) for n in ("scan.png", "caf_letter.pdf")]
    response = api_upload(client, token, world.alice.id, files)
    assert response.status_code == 415 and response.get_json()["error"] == "photos_only"
    assert counts(app) == (0, 0)


def test_valid_until_is_kept_and_checked(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = person_token(client)
    scan = [((SAMPLES / "scan.png").read_bytes(), "titre.png")]
    ok = api_upload(client, token, world.alice.id, scan, valid_until="2027-03-31")
    assert ok.status_code == 201 and ok.get_json()["valid_until"] == "2027-03-31"
    bad = api_upload(client, token, world.alice.id, scan, valid_until="31/03/2027")
    assert bad.status_code == 422 and bad.get_json()["error"] == "invalid_input"
    assert counts(app) == (1, 3)
