"""Property tests: random and mutated bytes through the whole pipeline never give a 500,
never crash the service, and never leave a half-stored document."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Actors, bearer
from tests.uploads.helpers import SAMPLES, counts

SEEDS = [
    (SAMPLES / n).read_bytes()
    for n in ("scan.png", "caf_letter.pdf", "jpeg_html_polyglot.jpg", "scan.webp", "payslip.heic")
]
BOUNDED = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 4096))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif data:
            data[at : at + 16] = bytes(min(16, len(data) - at))
    return bytes(data)


@pytest.fixture
def upload(app: Flask, world: Actors):  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/token", json={"username": "alice", "password": "correct horse battery"}
    ).get_json()["token"]

    def send(data: bytes) -> int:
        before_rows, before_objects = counts(app)
        response = client.post(
            f"/api/v1/persons/{world.alice.id}/documents",
            headers=bearer(token),
            data={"file": (io.BytesIO(data), "x.jpg"), "category": "other"},
            content_type="multipart/form-data",
        )
        rows, objects = counts(app)
        assert response.status_code in {201, 413, 415, 422}, response.get_json()
        if response.status_code == 201:
            assert (rows, objects) == (before_rows + 1, before_objects + 3)
            doc_id = response.get_json()["id"]
            served = client.get(f"/api/v1/documents/{doc_id}/content", headers=bearer(token))
            assert served.status_code == 200 and len(served.data) == response.get_json()["size"]
        else:
            assert (rows, objects) == (before_rows, before_objects)
            assert response.get_json()["message"]
        return response.status_code

    return send


@pytest.mark.parametrize("stack", ["sqlite-file"], indirect=True)
@BOUNDED
@given(data=mutated())
def test_mutated_samples(upload, data: bytes) -> None:  # type: ignore[no-untyped-def]
    upload(data)


@pytest.mark.parametrize("stack", ["sqlite-file"], indirect=True)
@BOUNDED
@given(data=st.binary(min_size=0, max_size=4096))
def test_random_bytes(upload, data: bytes) -> None:  # type: ignore[no-untyped-def]
    assert upload(data) != 201 or data[:4] in {b"%PDF", b"\x89PNG"} or data[:2] == b"\xff\xd8"
