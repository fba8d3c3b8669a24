"""Fault injection against the real S3 server: an upload that meets a stopped or failing
store leaves neither a row nor an object, and the person is told to try again."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

import pytest
from flask import Flask

from locker.actors import utc_now
from locker.parts import open_object_store
from locker.settings import Settings
from locker.storage import ObjectStore, Replayable
from tests.conftest import Actors
from tests.factories import new_person
from tests.s3_server import S3Server
from tests.uploads.helpers import SAMPLES, api_upload, counts, person_token
from tests.web.test_pages import sign_in
from web.app import create_app


class StopsMidUpload:
    """The real S3 store; the server is cut while the N-th object is being sent, and comes
    back once the store has given up on that object (a flaky link, not a fake store).

    The server returns only after the failed put, never on a timer: the store's own retries
    must not outlast the outage and turn the cut into a success, and the clean-up of the
    objects already stored must find the server up again."""

    def __init__(self, real: ObjectStore, server: S3Server, cut_on_put: int) -> None:
        self._real = real
        self._server = server
        self._cut_on_put = cut_on_put
        self.puts = 0
        self.cut_while_sending = False

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        self.puts += 1
        if self.puts != self._cut_on_put:
            return self._real.put(key, chunks)
        # Uploads hand the store replayable bodies, streamed as they are made: the cut
        # falls in the first pass, after its first chunk has gone.
        assert isinstance(chunks, Replayable)
        try:
            return self._real.put(key, _CutWhileSending(chunks, self._cut))
        finally:
            self._server.start()

    def _cut(self) -> None:
        self._server.stop()
        self.cut_while_sending = True

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


class _CutWhileSending:
    def __init__(self, body: Replayable, cut: Callable[[], None]) -> None:
        self._body = body
        self._cut = cut
        self._passes = 0
        self.size = body.size

    def __iter__(self) -> Iterator[bytes]:
        self._passes += 1
        for index, chunk in enumerate(self._body):
            if index == 1 and self._passes == 1:
                self._cut()
            yield chunk


def _app_with(settings: Settings, store: object) -> tuple[Flask, str]:
    app = create_app(settings, config={"TESTING": True}, store=store)  # type: ignore[arg-type]
    app.extensions["locker"].store.ensure_ready()
    found = app.extensions["locker"]
    with found.session_factory() as session:
        alice = new_person(session, found.keyring, utc_now, "alice")
        session.commit()
        return app, alice.id


# Fault injection needs the real S3 server: these tests run on that stack only (never a
# skip, which strict mode would have to treat as a failure).
pytestmark = pytest.mark.parametrize("stack", ["postgres-s3"], indirect=True)


@pytest.fixture
def s3_settings(settings: Settings, stack: str) -> Settings:
    assert stack == "postgres-s3"
    return settings


def test_store_down_during_upload(s3_settings: Settings, s3_server: S3Server) -> None:
    store = open_object_store(s3_settings)
    app, alice_id = _app_with(s3_settings, store)
    client = app.test_client()
    token = person_token(client)
    photo = [((SAMPLES / "id_photo_gps.jpg").read_bytes(), "a.jpg")]
    with s3_server.unreachable():
        response = api_upload(client, token, alice_id, photo)
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "storage_unavailable" and "réessayez" in body["message"]
    assert counts(app) == (0, 0)
    assert api_upload(client, token, alice_id, photo).status_code == 201  # and it recovers
    app.extensions["locker"].engine.dispose()


@pytest.mark.parametrize("cut_on_put", [1, 2, 3])
def test_store_cut_in_the_middle_of_an_upload(
    s3_settings: Settings, s3_server: S3Server, cut_on_put: int
) -> None:
    real = open_object_store(replace(s3_settings))
    store = StopsMidUpload(real, s3_server, cut_on_put)
    app, alice_id = _app_with(s3_settings, store)
    client = app.test_client()
    token = person_token(client)
    pdf = [((SAMPLES / "tax_notice_3p.pdf").read_bytes(), "avis.pdf")]
    photos = [((SAMPLES / n).read_bytes(), n) for n in ("id_photo_gps.jpg", "scan.png")]
    response = api_upload(client, token, alice_id, photos if cut_on_put == 2 else pdf)
    s3_server.start()
    # The cut happened mid-body; the document, its thumbnail and its preview go side by
    # side, so the put cut is the first, second or third to start, and all were tried.
    assert store.cut_while_sending and store.puts == 3
    assert response.status_code in {502, 503}, response.get_json()
    assert response.get_json()["error"] in {"storage_unavailable", "storage_error"}
    assert "essayez" in response.get_json()["message"]
    assert counts(app) == (0, 0)
    app.extensions["locker"].engine.dispose()


def _cut_body() -> tuple[bytes, int]:
    """A form whose file stops half-way: what the server reads when a phone loses its
    connection mid-upload (the body ends before the length it announced)."""
    data = (SAMPLES / "scan.png").read_bytes()
    body = (
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nCarte\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="scan.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + data + b"\r\n--b--\r\n"
    )
    return body[: len(body) // 2], len(body)


def test_an_upload_cut_short_says_so_and_stores_nothing(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = person_token(client)
    cut, length = _cut_body()
    answer = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        input_stream=io.BytesIO(cut),
        environ_overrides={"CONTENT_LENGTH": str(length)},
        content_type="multipart/form-data; boundary=b",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.get_json()["error"] == "upload_cut", answer.get_json()
    assert answer.status_code == 400
    assert "rien n'a été enregistré" in answer.get_json()["message"]
    # The page says it too, in the person's language, if the phone still listens.
    page = app.test_client()
    assert sign_in(page, "alice").status_code == 302
    shown = page.post(
        "/papers/new?lang=en",
        input_stream=io.BytesIO(cut),
        environ_overrides={"CONTENT_LENGTH": str(length)},
        content_type="multipart/form-data; boundary=b",
    )
    assert shown.status_code == 400 and shown.mimetype == "text/html"
    assert "nothing was saved" in shown.get_data(as_text=True).lower()
    assert counts(app) == (0, 0)


def test_the_api_takes_an_upload_key_as_a_field_or_a_header(app: Flask, world: Actors) -> None:
    client = app.test_client()
    token = person_token(client)
    photo = [((SAMPLES / "scan.png").read_bytes(), "scan.png")]
    key = "0f8fad5b-d9cb-469f-a165-70867728950e"
    first = api_upload(client, token, world.alice.id, photo, upload_key=key)
    assert first.status_code == 201
    stored = counts(app)
    again = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
        data={"file": [(io.BytesIO(photo[0][0]), "scan.png")], "category": "identity"},
        content_type="multipart/form-data",
    )
    assert again.status_code == 201 and again.get_json()["id"] == first.get_json()["id"]
    assert counts(app) == stored
    bad = api_upload(client, token, world.alice.id, photo, upload_key="../../etc")
    assert bad.status_code == 422 and bad.get_json()["error"] == "invalid_input"
    assert counts(app) == stored
