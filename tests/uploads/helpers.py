"""Helpers for the uploads tests: uploading through the API and the web form, reading back."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from locker.models import Document
from tests.conftest import PASSWORD, bearer, token_for

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
MARKER = b"LOCKER-PLAINTEXT-MARKER"


def manifest() -> list[tuple[str, str]]:
    """(file, expected verdict) for every sample."""
    rows = (SAMPLES / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [(r.split("\t")[0], r.split("\t")[1]) for r in rows if r.strip()]


def api_upload(
    client: FlaskClient,
    token: str,
    person_id: str,
    files: list[tuple[bytes, str]],
    **fields: str,
) -> Any:
    """POST the files (repeated `file` parts) to the API; the test client's response."""
    data: dict[str, Any] = {"file": [(io.BytesIO(b), n) for b, n in files], **fields}
    data.setdefault("category", "identity")
    return client.post(
        f"/api/v1/persons/{person_id}/documents",
        headers=bearer(token),
        data=data,
        content_type="multipart/form-data",
    )


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data) or re.search(
        rb'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page.data
    )
    assert found, page.data[:300]
    return found.group(1).decode()


def sign_in_browser(client: FlaskClient, username: str = "alice") -> None:
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"identifier": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def form_upload(client: FlaskClient, files: list[tuple[bytes, str]], **fields: str) -> Any:
    """Submit the "add a paper" form (CSRF token read from the page) like a browser."""
    data: dict[str, Any] = {
        "csrf_token": csrf_token(client, "/papers/new"),
        "file": [(io.BytesIO(b), n) for b, n in files],
        "title": "Papier",
        "category": "identity",
        **fields,
    }
    return client.post("/papers/new", data=data, content_type="multipart/form-data")


def counts(app: Flask) -> tuple[int, int]:
    """(document rows, stored objects)."""
    found = app.extensions["locker"]
    with found.session_factory() as session:
        rows = session.scalar(select(func.count()).select_from(Document)) or 0
    return int(rows), len(list(found.store.list_keys()))


def person_token(client: FlaskClient, username: str = "alice") -> str:
    return token_for(client, username)
