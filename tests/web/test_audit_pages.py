"""The person's "who saw my papers" page and a professional's own actions, without JavaScript."""

from __future__ import annotations

import io

from flask import Flask

from tests.conftest import Actors, bearer, sample, token_for
from tests.web.test_pages import sign_in


def test_who_saw_my_papers_in_plain_words(app: Flask, world: Actors) -> None:
    api = app.test_client()
    alice = token_for(api, "alice")
    created = api.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers=bearer(alice),
        data={
            "file": (io.BytesIO(sample("scan.png")), "x.png"),
            "title": "Mon titre <script>",
            "category": "residence_permit",
        },
        content_type="multipart/form-data",
    )
    doc = created.get_json()["id"]
    martin = token_for(api, "martin@lilas.example")
    assert api.get(f"/api/v1/documents/{doc}/content", headers=bearer(martin)).status_code == 404

    browser = app.test_client()
    sign_in(browser, "alice")
    page = browser.get("/access-log", headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Qui a vu mes papiers" in html
    assert "Mme Martin, CHRS Les Lilas n’a pas pu ouvrir « Mon titre &lt;script&gt; »" in html
    assert "<script>" not in html
    assert "Vous avez ajouté" in html
    english = browser.get(f"/access-log?document={doc}", headers={"Accept-Language": "en"})
    assert "Mme Martin, CHRS Les Lilas could not open" in english.get_data(as_text=True)
    assert browser.get("/pro/my-actions").status_code == 404

    pro = app.test_client()
    sign_in(pro, "martin@lilas.example")
    assert pro.get("/access-log").status_code == 404
    mine = pro.get("/pro/my-actions")
    assert mine.status_code == 200
    assert "Vous n’avez pas pu ouvrir" in mine.get_data(as_text=True)


def test_others_come_first_and_my_own_looks_fold_into_one_line_a_day(
    app: Flask, world: Actors
) -> None:
    api = app.test_client()
    alice = token_for(api, "alice")
    created = api.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers=bearer(alice),
        data={"file": (io.BytesIO(sample("scan.png")), "x.png"), "title": "CAF"},
        content_type="multipart/form-data",
    )
    doc = created.get_json()["id"]
    martin = token_for(api, "martin@lilas.example")
    assert api.get(f"/api/v1/documents/{doc}/content", headers=bearer(martin)).status_code == 404
    phone = app.test_client()
    sign_in(phone, "alice")
    for _ in range(60):  # a morning of looking at one's own papers
        assert phone.get(f"/papers/{doc}/thumbnail").status_code == 200
    html = phone.get("/access-log").get_data(as_text=True)
    others = html[html.index('id="access-log"') : html.index('id="mine"')]
    assert "Mme Martin, CHRS Les Lilas n’a pas pu ouvrir « CAF »" in others
    assert "Vous avez" not in others
    own = html[html.index('id="own-log"') :]
    assert own.count("Vous avez regardé vos papiers") == 1
    assert "(nombre de fois : 6" in own  # the thumbnails and the list, counted
    assert "Vous avez ajouté « CAF »" in own
    assert "aperçu" not in html  # no line per thumbnail
