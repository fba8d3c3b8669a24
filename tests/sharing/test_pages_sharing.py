"""Sharing pages with CSRF on, as a browser without JavaScript uses them."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, Actors
from tests.web.test_pages import csrf, sign_in


def _code(client: FlaskClient) -> str:
    page = client.get("/pro/profile")
    assert page.status_code == 200
    found = re.search(rb'id="share-code"><code>([A-Z0-9]+)<', page.data)
    assert found, page.data[:400]
    assert b'src="/pro/share-code.svg"' in page.data  # our own origin, no third party
    qr = client.get("/pro/share-code.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    return found.group(1).decode()


def test_person_adds_by_code_picks_referent_and_switches_sharing(app: Flask, world: Actors) -> None:
    pro = app.test_client()
    sign_in(pro, "martin@lilas.example")
    code = _code(pro)

    alice = app.test_client()
    sign_in(alice, "alice")
    # A form without its CSRF token is refused.
    assert alice.post("/accompaniment/add", data={"professional_code": code}).status_code == 400
    token = csrf(alice, "/accompaniment")
    added = alice.post(
        "/accompaniment/add",
        data={"professional_code": code, "mission": "assistante sociale", "csrf_token": token},
    )
    assert added.status_code == 302
    page = alice.get("/accompaniment")
    assert b"Mme Martin" in page.data and b"assistante sociale" in page.data
    member_id = re.search(rb"/accompaniment/([0-9a-f-]{36})/remove", page.data).group(1).decode()
    alice.post(
        "/accompaniment/referent",
        data={"member_id": member_id, "csrf_token": csrf(alice, "/accompaniment")},
    )
    assert "⭐".encode() in alice.get("/accompaniment").data

    token = csrf(alice, "/papers/new")
    import io

    from tests.conftest import sample

    alice.post(
        "/papers/new",
        data={
            "file": (io.BytesIO(sample("scan.png")), "scan.png"),
            "title": "CNI",
            "category": "identity",
            "csrf_token": token,
        },
    )
    paper_id = re.search(rb"/papers/([0-9a-f-]{36})", alice.get("/papers").data).group(1).decode()
    assert pro.get(f"/papers/{paper_id}").status_code == 404
    sharing = alice.get(f"/papers/{paper_id}/sharing")
    assert sharing.status_code == 200 and b"Mme Martin" in sharing.data
    alice.post(
        f"/papers/{paper_id}/sharing/{member_id}",
        data={"on": "1", "csrf_token": csrf(alice, f"/papers/{paper_id}/sharing")},
    )
    assert pro.get(f"/papers/{paper_id}").status_code == 200
    persons = pro.get("/pro/persons")
    assert b"CNI" in persons.data and "⭐".encode() in persons.data
    # The switch off takes effect for the professional's open session at once.
    alice.post(
        f"/papers/{paper_id}/sharing/{member_id}",
        data={"on": "0", "csrf_token": csrf(alice, f"/papers/{paper_id}/sharing")},
    )
    assert pro.get(f"/papers/{paper_id}").status_code == 404

    # The referent issues a recovery code; the person uses it; the notice says who.
    issued = pro.post(
        f"/pro/persons/{world.alice.id}/recovery-code",
        data={"csrf_token": csrf(pro, "/pro/persons")},
    )
    code_text = re.search(rb'id="recovery-code"><code>([A-Z0-9-]+)<', issued.data).group(1)
    anon = app.test_client()
    done = anon.post(
        "/recover",
        data={
            "username": "alice",
            "code": code_text.decode(),
            "new_password": "new password 1",
            "csrf_token": csrf(anon, "/recover"),
        },
    )
    assert done.status_code == 302
    assert alice.get("/accompaniment").status_code == 302  # the old session has ended
    sign_in(alice, "alice", "new password 1")
    notice = alice.get("/accompaniment").data.decode()
    assert (
        "Mme Martin" in notice and "CHRS Les Lilas" in notice and 'id="sharing-notices"' in notice
    )
    assert PASSWORD not in notice
