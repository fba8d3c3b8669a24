"""Limits: pixel bombs, the worker's memory, sizes, quota, encrypted PDFs, hostile PDFs."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pikepdf
import pytest
from flask import Flask
from PIL import Image

from locker.actors import utc_now
from locker.sanitize import SanitizeLimits, sanitize_files
from locker.sanitize.errors import TooComplex, TooManyPixels
from locker.scratch import scratch_dir
from locker.settings import Settings
from tests.conftest import Actors, bearer
from tests.factories import new_person
from tests.uploads.helpers import SAMPLES, api_upload, counts, person_token
from web.app import create_app

MIB = 1024 * 1024


def test_the_pixel_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    limits = SanitizeLimits()
    with pytest.raises(TooManyPixels) as refused:
        sanitize_files([SAMPLES / "pixel_bomb.png"], tmp_path, limits)
    peak = refused.value.params["peak_rss_bytes"]
    ceiling = refused.value.params["address_space_limit"]
    assert isinstance(peak, int) and isinstance(ceiling, int)
    # Decoding 50000 x 50000 pixels would need 312 MB even at one bit per pixel: the
    # worker stayed small, far inside its own limit.
    assert peak < 120 * MIB
    assert peak < ceiling


def test_a_file_over_the_worker_memory_is_refused_and_service_goes_on(tmp_path: Path) -> None:
    tight = SanitizeLimits(memory_bytes=24 * MIB)
    with pytest.raises(TooComplex):
        sanitize_files([SAMPLES / "id_photo_gps.jpg"], tmp_path, tight)
    again = tmp_path / "again"
    again.mkdir()
    clean = sanitize_files([SAMPLES / "id_photo_gps.jpg"], again, SanitizeLimits())
    assert clean.content_type == "image/jpeg"
    assert clean.peak_rss_bytes < clean.address_space_limit


def test_a_worker_over_its_time_is_killed(tmp_path: Path) -> None:
    with pytest.raises(TooComplex):
        sanitize_files([SAMPLES / "id_photo_gps.jpg"], tmp_path, SanitizeLimits(wall_seconds=0.001))


def test_a_worker_over_its_cpu_time_is_killed(tmp_path: Path) -> None:
    # Twelve flat 49 MP photos: small files, seconds of decoding and re-encoding. With one
    # second of CPU the child is killed by the kernel long before the two-minute wall
    # limit could end it; without the CPU limit the job would simply succeed.
    flat = tmp_path / "flat.png"
    Image.new("RGB", (7000, 7000), (250, 250, 250)).save(flat, compress_level=1)
    workdir = tmp_path / "work"
    workdir.mkdir()
    limits = SanitizeLimits(cpu_seconds=1, wall_seconds=120.0)
    with pytest.raises(TooComplex):
        sanitize_files([flat] * 12, workdir, limits)


def test_encrypted_pdf_is_refused_with_its_own_message(app: Flask, world: Actors) -> None:
    out = io.BytesIO()
    with pikepdf.open(SAMPLES / "caf_letter.pdf") as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="o", user="secret"))
    client = app.test_client()
    token = person_token(client)
    response = api_upload(client, token, world.alice.id, [(out.getvalue(), "locked.pdf")])
    assert response.status_code == 422 and response.get_json()["error"] == "encrypted_pdf"
    assert "mot de passe" in response.get_json()["message"]
    assert counts(app) == (0, 0)


def test_hostile_pdf_actions_are_removed(app: Flask, world: Actors) -> None:
    with pikepdf.open(SAMPLES / "caf_letter.pdf") as pdf:
        page = pdf.pages[0]
        launch = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe"))
        uri = pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("http://evil.example/"))
        page.obj["/Annots"] = pikepdf.Array(
            [
                pdf.make_indirect(
                    pikepdf.Dictionary(
                        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 9, 9], A=a
                    )
                )
                for a in (launch, uri)
            ]
        )
        page.obj["/AA"] = pikepdf.Dictionary(
            O=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
        )
        attachment = pdf.make_stream(b"MZ-not-a-paper")
        pdf.Root["/Names"] = pikepdf.Dictionary(
            EmbeddedFiles=pikepdf.Dictionary(
                Names=pikepdf.Array(
                    [
                        pikepdf.String("x.exe"),
                        pikepdf.Dictionary(
                            Type=pikepdf.Name.Filespec, EF=pikepdf.Dictionary(F=attachment)
                        ),
                    ]
                )
            )
        )
        out = io.BytesIO()
        pdf.save(out)
    client = app.test_client()
    token = person_token(client)
    created = api_upload(client, token, world.alice.id, [(out.getvalue(), "x.pdf")])
    assert created.status_code == 201, created.get_json()
    doc_id = created.get_json()["id"]
    content = client.get(f"/api/v1/documents/{doc_id}/content", headers=bearer(token)).data
    for needle in (b"calc.exe", b"evil.example", b"app.alert", b"MZ-not-a-paper", b"/Launch"):
        assert needle not in content


def test_size_limit_and_quota(settings: Settings) -> None:
    small = replace(settings, max_upload_bytes=200 * 1024, quota_bytes=300 * 1024)
    app = create_app(small, config={"TESTING": True})
    app.extensions["locker"].store.ensure_ready()
    found = app.extensions["locker"]
    with found.session_factory() as session:
        alice = new_person(session, found.keyring, utc_now, "alice")
        session.commit()
        alice_id = alice.id
    client = app.test_client()
    token = person_token(client)
    big = api_upload(
        client, token, alice_id, [((SAMPLES / "id_photo_gps.jpg").read_bytes(), "a.jpg")]
    )
    assert big.status_code == 413 and big.get_json()["error"] == "too_large"
    assert counts(app) == (0, 0)
    scan = [((SAMPLES / "scan.webp").read_bytes(), "s.webp")]  # ~125 kB once re-encoded
    assert api_upload(client, token, alice_id, scan).status_code == 201
    assert api_upload(client, token, alice_id, scan).status_code == 201
    full = api_upload(client, token, alice_id, scan)
    assert full.status_code == 413 and full.get_json()["error"] == "quota_exceeded"
    assert counts(app) == (2, 6)
    app.extensions["locker"].engine.dispose()


def test_received_files_are_taken_over_and_never_left_behind(app: Flask, world: Actors) -> None:
    # Each uploaded file is received into a private file that the upload takes over; the
    # file is gone when the request ends, whether the upload was stored or refused.
    received = scratch_dir()
    before = set(received.glob("locker-*"))
    client = app.test_client()
    token = person_token(client)
    photo = (SAMPLES / "id_photo_gps.jpg").read_bytes()
    stored = api_upload(client, token, world.alice.id, [(photo, "a.jpg"), (photo, "b.jpg")])
    assert stored.status_code == 201, stored.get_json()
    refused = api_upload(client, token, world.alice.id, [(b"MZ\x90\x00" * 64, "x.pdf")])
    assert refused.status_code == 415
    empty = api_upload(client, token, world.alice.id, [(b"", "empty.pdf")])
    assert empty.status_code == 422
    # Over MAX_FORM_PARTS: the parser gives up half-way, after receiving some files.
    crowd = api_upload(
        client, token, world.alice.id, [(b"%PDF-1.4", f"{i}.pdf") for i in range(60)]
    )
    assert crowd.status_code == 413 and crowd.get_json()["error"] == "too_large"
    assert set(received.glob("locker-*")) == before
    assert counts(app) == (1, 3)
    # What was stored is the whole photo, twice: two pages of one PDF.
    content = client.get(
        f"/api/v1/documents/{stored.get_json()['id']}/content", headers=bearer(token)
    )
    with pikepdf.open(io.BytesIO(content.data)) as pdf:
        assert len(pdf.pages) == 2


def test_external_stream_references_are_removed(app: Flask, world: Actors) -> None:
    # A stream whose data lives at a URL (/F with a URL file specification) would make a
    # reader fetch it when the page is shown: a beacon telling a stranger who opened it.
    with pikepdf.open(SAMPLES / "caf_letter.pdf") as pdf:
        page = pdf.pages[0]
        remote = pikepdf.Dictionary(
            FS=pikepdf.Name.URL, F=pikepdf.String("http://beacon.example/who-opened")
        )
        image = pdf.make_stream(b"")
        image.stream_dict.update(
            {
                "/Type": pikepdf.Name.XObject,
                "/Subtype": pikepdf.Name.Image,
                "/Width": 1,
                "/Height": 1,
                "/ColorSpace": pikepdf.Name.DeviceGray,
                "/BitsPerComponent": 8,
                "/F": remote,
                "/FFilter": pikepdf.Name.DCTDecode,
                "/FDecodeParms": pikepdf.Dictionary(),
            }
        )
        form = pdf.make_stream(b"")
        form.stream_dict.update(
            {
                "/Type": pikepdf.Name.XObject,
                "/Subtype": pikepdf.Name.Form,
                "/BBox": [0, 0, 1, 1],
                "/Ref": pikepdf.Dictionary(F=pikepdf.String("http://beacon.example/o.pdf")),
                "/OPI": pikepdf.Dictionary(),
            }
        )
        if "/Resources" not in page.obj:
            page.obj["/Resources"] = pikepdf.Dictionary()
        page.obj["/Resources"]["/XObject"] = pikepdf.Dictionary(Beacon=image, Ref=form)
        out = io.BytesIO()
        pdf.save(out)
    client = app.test_client()
    token = person_token(client)
    created = api_upload(client, token, world.alice.id, [(out.getvalue(), "x.pdf")])
    assert created.status_code == 201, created.get_json()
    doc_id = created.get_json()["id"]
    content = client.get(f"/api/v1/documents/{doc_id}/content", headers=bearer(token)).data
    with pikepdf.open(io.BytesIO(content)) as clean:
        for obj in clean.objects:
            if isinstance(obj, pikepdf.Stream):
                for key in ("/F", "/FFilter", "/FDecodeParms", "/Ref", "/OPI"):
                    assert key not in obj.stream_dict, key
    assert b"beacon.example" not in content
