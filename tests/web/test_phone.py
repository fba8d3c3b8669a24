"""Light on data: pages compressed on the wire and small; papers themselves sent as they are."""

from __future__ import annotations

import gzip

import brotli
import pytest
from flask import Flask

from tests.factories import Clock, build_world
from tests.web.test_i18n import LANGUAGES, person_pages
from tests.web.test_pages import sign_in

LIMIT = 30 * 1024


@pytest.mark.parametrize("stack", ["sqlite-file"], indirect=True)
def test_every_persons_page_weighs_under_30_kb_compressed(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    phone = app.test_client()
    assert sign_in(phone, "alice").status_code == 302
    for path in ["/sign-in", *person_pages(world)]:
        for language in LANGUAGES:
            page = phone.get(f"{path}?lang={language.code}", headers={"Accept-Encoding": "br"})
            assert page.status_code == 200
            assert page.headers["Content-Encoding"] == "br", path
            assert len(page.data) <= LIMIT, (path, language.code, len(page.data))
            assert "<html" in brotli.decompress(page.data).decode()
    squeezed = phone.get("/papers", headers={"Accept-Encoding": "gzip"})
    assert squeezed.headers["Content-Encoding"] == "gzip"
    assert b"<html" in gzip.decompress(squeezed.data)
    plain = phone.get("/papers")
    assert "Content-Encoding" not in plain.headers and b"<html" in plain.data
    # A paper is already compressed (JPEG, PDF): sent as stored, whatever the phone accepts.
    content = phone.get(f"/papers/{world.doc}/content", headers={"Accept-Encoding": "br, gzip"})
    assert content.status_code == 200 and "Content-Encoding" not in content.headers
