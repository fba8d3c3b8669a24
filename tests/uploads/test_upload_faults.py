"""Fault injection against the real S3 server: an upload that meets a stopped or failing
store leaves neither a row nor an object, and the person is told to try again."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

import pytest
from flask import Flask

from locker.actors import utc_now
from locker.settings import Settings
from locker.storage import ObjectStore, Replayable
from tests.factories import new_person
from tests.s3_server import S3Server
from tests.uploads.helpers import SAMPLES, api_upload, counts, person_token
from web.app import create_app, open_object_store


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
