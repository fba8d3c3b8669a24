"""Sharing pages with CSRF on, as a browser without JavaScript uses them."""

from __future__ import annotations

import io
import re
import uuid

import segno
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
    assert b'<li class="paper-card referent">' in alice.get("/accompaniment").data

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
        f"/papers/{paper_id}/sharing",
        data={"member_id": member_id, "csrf_token": csrf(alice, f"/papers/{paper_id}/sharing")},
    )
    assert pro.get(f"/papers/{paper_id}").status_code == 200
    persons = pro.get("/pro/persons")
    assert b"CNI" not in persons.data and b'<tr class="person referent">' in persons.data
    assert b"CNI" in pro.get(f"/pro/persons/{world.alice.id}").data
    # The switch off takes effect for the professional's open session at once.
    alice.post(  # nothing ticked: the paper is taken away from the referent
        f"/papers/{paper_id}/sharing",
        data={"csrf_token": csrf(alice, f"/papers/{paper_id}/sharing")},
    )
    assert pro.get(f"/papers/{paper_id}").status_code == 200, "asked first, not yet stopped"
    alice.post(
        f"/papers/{paper_id}/sharing",
        data={
            "confirmed": "1",
            "csrf_token": csrf(alice, f"/papers/{paper_id}/sharing"),
        },
    )
    assert pro.get(f"/papers/{paper_id}").status_code == 404

    # A ticked id that is not on the person's list is no one: nothing is shared.
    stray = alice.post(
        f"/papers/{paper_id}/sharing",
        data={"member_id": [str(uuid.uuid4())], "csrf_token": csrf(alice, "/papers")},
    )
    assert stray.status_code == 302 and pro.get(f"/papers/{paper_id}").status_code == 404
    # Seen through a shared kind of papers: shown ticked and fixed; saving keeps it.
    alice.post(
        "/accompaniment/category",
        data={"member_id": member_id, "category": "identity", "csrf_token": csrf(alice, "/papers")},
    )
    page = alice.get(f"/papers/{paper_id}/sharing").data.decode()
    assert re.search(rf'<input type="checkbox" checked disabled id="reader-{member_id}"', page)
    kept = alice.post(f"/papers/{paper_id}/sharing", data={"csrf_token": csrf(alice, "/papers")})
    assert kept.status_code == 302, "nothing taken away: nothing asked"
    assert pro.get(f"/papers/{paper_id}").status_code == 200

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


def test_the_qr_code_opens_the_list_with_the_code_filled_even_signed_out(
    app: Flask, world: Actors
) -> None:
    pro = app.test_client()
    sign_in(pro, "martin@lilas.example")
    code = _code(pro)
    link = f"http://localhost/accompaniment?code={code}"
    expected = io.BytesIO()
    segno.make(link, error="m").save(expected, kind="svg", scale=6, border=2)
    assert pro.get("/pro/share-code.svg").data == expected.getvalue()  # it encodes the link

    phone = app.test_client()  # the person's camera opened the link, not signed in yet
    asked = phone.get(f"/accompaniment?code={code}")
    assert asked.status_code == 302
    sign_in_page = asked.headers["Location"]
    assert sign_in_page.startswith("/sign-in?next=")
    token = csrf(phone, sign_in_page)
    done = phone.post(
        sign_in_page, data={"identifier": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert done.status_code == 302 and done.headers["Location"] == f"/accompaniment?code={code}"
    page = phone.get(done.headers["Location"]).get_data(as_text=True)
    assert 'id="professional_code" name="professional_code"' in page
    assert f'value="{code}"' in page


def test_signing_in_never_sends_anyone_to_another_site(app: Flask, world: Actors) -> None:
    for elsewhere in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "evil"):
        phone = app.test_client()
        token = csrf(phone, "/sign-in")
        done = phone.post(
            "/sign-in",
            query_string={"next": elsewhere},
            data={"identifier": "alice", "password": PASSWORD, "csrf_token": token},
        )
        assert done.status_code == 302 and done.headers["Location"] == "/", elsewhere
