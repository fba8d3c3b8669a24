"""A fresh second factor before a professional's sensitive acts: the attacks that must fail.

A professional's browser session or API token whose factor passed more than
LOCKER_FRESH_FACTOR_MINUTES ago (stolen, or left open) cannot issue a recovery code,
deposit a paper, prepare a mandate at the desk or export a locker without a code typed
again; a code of a step already used is refused; wrong codes are throttled; persons are
never asked. Routes, pages and services alike (sharing/guard.py, web/fresh_factor.py).
"""

from __future__ import annotations

import inspect
import io
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from locker.actors import Actor
from locker.errors import NotFound
from locker.models import AuditRecord
from sharing import mandates, professionals, recovery
from sharing.errors import FreshFactorRequired
from sharing.guard import FRESH_FACTOR_ACTIONS
from sharing.models import RecoveryCode
from tests.conftest import PASSWORD, bearer, token_for
from tests.factories import (
    PNG,
    Clock,
    add_mandate,
    add_member,
    context,
    new_organization,
    new_person,
    new_professional,
    second_factor_code,
)
from web.documents.uploads import upload_request
from web.fresh_factor import HEADER, MARK

HELPER = "aidant@inclusion.example"
STALE = {"minutes": 16}  # past the default window of 15 minutes


@dataclass
class Desk:
    alice_id: str
    helper_id: str
    stranger_id: str


@pytest.fixture
def desk(app: Flask) -> Desk:
    """Alice, whose referent is a helper of a digital-inclusion organisation holding a
    mandate to upload and export for her; and a professional who is not on her list."""
    found = app.extensions["locker"]
    clock = found.clock
    with found.session_factory() as session:
        org = new_organization(session, clock, "Espace numérique", digital_inclusion=True)
        alice = new_person(session, found.keyring, clock, "alice")
        helper = new_professional(session, clock, org, "aidant", email=HELPER)
        stranger = new_professional(session, clock, org, "autre", email="autre@inclusion.example")
        member = add_member(session, clock, alice, helper, referent=True)
        add_mandate(session, clock, member, "upload export")
        session.commit()
        return Desk(alice.id, helper.id, stranger.id)


def raw(app: Flask) -> FlaskClient:
    """A client that adds no code by itself: the test says exactly what is sent."""
    client = app.test_client()
    client.auto_second_factor = False  # type: ignore[attr-defined]
    return client


def _file() -> dict[str, Any]:
    return {"file": (io.BytesIO(PNG), "scan.png"), "title": "Attestation", "category": "other"}


# The four acts over the API: (method, path, body), the status of a success.
def api_acts(person_id: str) -> list[tuple[str, str, dict[str, Any], int]]:
    base = f"/api/v1/persons/{person_id}"
    mandate = {"scopes": ["view"], "duration": "1d", "username": "alice", "password": PASSWORD}
    return [
        ("POST", f"{base}/recovery-codes", {}, 201),
        ("POST", f"{base}/deposits", {"data": "file"}, 201),
        ("POST", f"{base}/documents", {"data": "file"}, 201),  # under the mandate
        ("POST", f"{base}/desk-mandates", {"json": mandate}, 201),
        ("GET", f"{base}/export", {}, 200),
    ]


def call(client: FlaskClient, act: tuple[str, str, dict[str, Any], int], headers: Any) -> Any:
    method, path, body, _ = act
    kwargs: dict[str, Any] = {"headers": headers}
    if "json" in body:
        kwargs["json"] = body["json"]
    if "data" in body:
        kwargs["data"], kwargs["content_type"] = _file(), "multipart/form-data"
    return client.open(path, method=method, **kwargs)


def stale_records(app: Flask) -> list[str]:
    with app.extensions["locker"].session_factory() as session:
        rows = session.scalars(
            select(AuditRecord.action).where(AuditRecord.reason == "stale_second_factor")
        )
        return list(rows)


def issued_codes(app: Flask) -> int:
    with app.extensions["locker"].session_factory() as session:
        return session.scalar(select(func.count()).select_from(RecoveryCode)) or 0


# --- the API ---


def test_a_stale_token_does_nothing_sensitive_without_a_code(
    app: Flask, desk: Desk, clock: Clock
) -> None:
    token = token_for(app.test_client(), HELPER)
    clock.advance(**STALE)
    client = raw(app)
    for act in api_acts(desk.alice_id):
        answer = call(client, act, bearer(token))
        assert answer.status_code == 403, act
        assert answer.get_json()["error"] == "fresh_second_factor_required", act
    assert issued_codes(app) == 0
    # Every refusal is in the log, naming the act.
    assert sorted(stale_records(app)) == sorted(
        [
            "recovery:issue",
            "person:deposit",
            "person:upload",
            "mandate:prepare",
            "person:export",
        ]
    )
    # One current code in the header: the act is done, and the token is fresh again.
    first, *others = api_acts(desk.alice_id)
    code = second_factor_code(app, desk.helper_id)
    assert call(client, first, {**bearer(token), HEADER: code}).status_code == 201
    for act in others:
        assert call(client, act, bearer(token)).status_code == act[3], act
    # ...for the window's length only.
    clock.advance(**STALE)
    assert call(client, first, bearer(token)).status_code == 403


def test_within_the_window_no_code_is_asked(app: Flask, desk: Desk, clock: Clock) -> None:
    token = token_for(app.test_client(), HELPER)
    clock.advance(minutes=14)
    for act in api_acts(desk.alice_id):
        assert call(raw(app), act, bearer(token)).status_code == act[3], act


def test_a_code_of_a_step_already_used_is_refused(app: Flask, desk: Desk, clock: Clock) -> None:
    stolen = token_for(app.test_client(), HELPER)
    own = token_for(app.test_client(), HELPER)
    clock.advance(**STALE)
    client = raw(app)
    act = api_acts(desk.alice_id)[0]
    code = second_factor_code(app, desk.helper_id)
    assert call(client, act, {**bearer(own), HEADER: code}).status_code == 201
    # The code seen over the shoulder, replayed with the stolen token.
    replayed = call(client, act, {**bearer(stolen), HEADER: code})
    assert replayed.status_code == 403
    assert replayed.get_json()["error"] == "bad_second_factor_code"
    assert call(client, act, bearer(stolen)).status_code == 403  # still stale
    assert issued_codes(app) == 1


def test_wrong_codes_in_the_header_are_throttled(app: Flask, desk: Desk, clock: Clock) -> None:
    token = token_for(app.test_client(), HELPER)
    clock.advance(**STALE)
    client = raw(app)
    act = api_acts(desk.alice_id)[0]
    for _ in range(10):
        wrong = call(client, act, {**bearer(token), HEADER: "000000"})
        assert wrong.status_code == 403
        assert wrong.get_json()["error"] == "bad_second_factor_code"
    right = call(client, act, {**bearer(token), HEADER: second_factor_code(app, desk.helper_id)})
    assert right.status_code == 429
    assert issued_codes(app) == 0
    with app.extensions["locker"].session_factory() as session:
        denied = session.scalar(
            select(func.count()).where(
                AuditRecord.action == "second_factor:use", AuditRecord.outcome == "denied"
            )
        )
    assert denied == 10


def test_a_stranger_learns_nothing_from_the_fresh_factor(
    app: Flask, desk: Desk, clock: Clock
) -> None:
    """Not on the list: the same 404 as before, fresh or not (the check comes after)."""
    token = token_for(app.test_client(), "autre@inclusion.example")
    clock.advance(**STALE)
    for act in api_acts(desk.alice_id):
        assert call(raw(app), act, bearer(token)).status_code == 404, act


def test_persons_are_never_asked(app: Flask, desk: Desk, clock: Clock) -> None:
    token = token_for(app.test_client(), "alice")
    clock.advance(hours=2)
    client = raw(app)
    assert (
        client.get(f"/api/v1/persons/{desk.alice_id}/export", headers=bearer(token)).status_code
        == 200
    )
    uploaded = client.post(
        f"/api/v1/persons/{desk.alice_id}/documents",
        headers=bearer(token),
        data=_file(),
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201
    assert stale_records(app) == []


# --- the pages ---


def _sign_in(app: Flask, identifier: str) -> FlaskClient:
    client = app.test_client()  # passes the code at sign-in by itself
    answer = client.post("/sign-in", data={"identifier": identifier, "password": PASSWORD})
    assert answer.status_code == 302
    client.auto_second_factor = False  # type: ignore[attr-defined]
    return client


@pytest.mark.no_csrf
def test_a_stale_browser_session_is_sent_to_the_code_and_back(
    app: Flask, desk: Desk, clock: Clock
) -> None:
    browser = _sign_in(app, HELPER)
    person = f"/pro/persons/{desk.alice_id}"
    assert browser.get(f"{person}/mandate").status_code == 200
    clock.advance(**STALE)
    confirm = f"/account/confirm-code?next={person}"
    for method, path, data, back in [
        ("POST", f"{person}/recovery-code", {}, person),
        ("POST", f"{person}/deposit", _file(), person),
        ("GET", f"{person}/mandate", None, f"{person}/mandate"),
        ("POST", f"{person}/mandate", {"scopes": "view", "duration": "1d"}, f"{person}/mandate"),
    ]:
        answer = browser.open(path, method=method, data=data)
        assert answer.status_code == 302, path
        assert answer.headers["Location"] == f"/account/confirm-code?next={back}", path
    assert issued_codes(app) == 0
    page = browser.get(confirm)
    assert page.status_code == 200
    assert "Pour cette action, entrez à nouveau le code" in page.get_data(as_text=True)
    assert browser.post(confirm, data={"code": "000000"}).status_code == 403
    right = browser.post(confirm, data={"code": second_factor_code(app, desk.helper_id)})
    assert right.status_code == 302 and right.headers["Location"] == person
    # Fresh again: the acts are done.
    assert browser.post(f"{person}/recovery-code").status_code == 200
    assert browser.post(f"{person}/deposit", data=_file()).status_code == 302
    assert browser.get(f"{person}/mandate").status_code == 200
    assert issued_codes(app) == 1


@pytest.mark.no_csrf
def test_the_code_page_leads_only_to_this_service(app: Flask, desk: Desk, clock: Clock) -> None:
    browser = _sign_in(app, HELPER)
    clock.advance(**STALE)
    for away in ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]:
        code = second_factor_code(app, desk.helper_id)
        answer = browser.post(
            "/account/confirm-code", query_string={"next": away}, data={"code": code}
        )
        assert answer.status_code == 302
        assert answer.headers["Location"] == "/", away
        clock.advance(**STALE)


@pytest.mark.no_csrf
def test_wrong_codes_on_the_confirm_page_are_throttled(
    app: Flask, desk: Desk, clock: Clock
) -> None:
    browser = _sign_in(app, HELPER)
    clock.advance(**STALE)
    for _ in range(10):
        assert browser.post("/account/confirm-code", data={"code": "999999"}).status_code == 403
    code = second_factor_code(app, desk.helper_id)
    assert browser.post("/account/confirm-code", data={"code": code}).status_code == 429
    assert browser.post(f"/pro/persons/{desk.alice_id}/recovery-code").status_code == 302
    assert issued_codes(app) == 0


@pytest.mark.no_csrf
def test_a_person_has_no_code_page(app: Flask, desk: Desk) -> None:
    browser = _sign_in(app, "alice")
    assert browser.get("/account/confirm-code").status_code == 404


# --- the services: the check cannot be bypassed by a route ---


def test_the_services_refuse_a_stale_professional(app: Flask, desk: Desk) -> None:
    found = app.extensions["locker"]
    helper = Actor(kind="professional", id=desk.helper_id, role="professional")
    with app.test_request_context(), found.session_factory() as session:
        stale = context(found, session, helper, fresh_factor=False)
        with pytest.raises(FreshFactorRequired):
            recovery.issue_recovery_code(stale, person_id=desk.alice_id)
        with pytest.raises(FreshFactorRequired):
            professionals.deposit_document(
                stale,
                person_id=desk.alice_id,
                upload=upload_request([_storage()], "Attestation", "other"),
            )
        with pytest.raises(FreshFactorRequired):
            mandates.prepare_desk_mandate(stale, person_id=desk.alice_id)
        # Someone else's: still the same 404 as for anyone.
        stranger = Actor(kind="professional", id=desk.stranger_id, role="professional")
        with pytest.raises(NotFound):
            recovery.issue_recovery_code(
                context(found, session, stranger, fresh_factor=False), person_id=desk.alice_id
            )
        fresh = context(found, session, helper)
        assert recovery.issue_recovery_code(fresh, person_id=desk.alice_id)[0]


def _storage() -> Any:
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(PNG), filename="scan.png", content_type="image/png")


# --- every sensitive route carries the mark ---

SENSITIVE_ENDPOINTS = {
    "sharing_api.issue_recovery_code",
    "sharing_api.deposit_document",
    "sharing_api.create_mandate_at_desk",
    "documents_api.export_person",
    "documents_api.upload_document",
    "sharing.issue_recovery_code",
    "sharing.deposit",
    "sharing.desk_mandate",
    # Not a person's: adding or removing one's own passkey (a stolen session must neither
    # plant a lasting factor of the thief's nor strip the owner's).
    "accounts_api.passkey_registration_options",
    "accounts_api.add_passkey",
    "accounts_api.remove_passkey",
    "accounts.passkeys",
    "accounts.remove_passkey",
}


# The services of those acts, as views call them; views a person alone reaches call some too.
SENSITIVE_CALLS = (
    "issue_recovery_code(",
    "deposit_document(",
    "create_mandate_at_desk(",
    "prepare_desk_mandate(",
    "export_response(",
    "export_locker(",
    "upload_document_for(",
)
PERSONS_ONLY = {"accounts.export_mine"}


def _innermost(view: Any) -> Any:
    while hasattr(view, "__wrapped__"):
        view = view.__wrapped__
    return view


def test_a_view_calling_a_sensitive_service_carries_the_mark(app: Flask) -> None:
    """A new route calling one of these services without the mark fails here (and the
    service would refuse its stale professionals anyway)."""
    for name, view in app.view_functions.items():
        try:
            source = inspect.getsource(_innermost(view))
        except (OSError, TypeError):
            continue
        if any(call in source for call in SENSITIVE_CALLS) and name not in PERSONS_ONLY:
            assert getattr(view, MARK, False), name


def test_every_sensitive_route_offers_the_code(app: Flask) -> None:
    """A route that does one of the acts of FRESH_FACTOR_ACTIONS is listed here and carries
    the mark (the services refuse it anyway; the mark gives the way back: the header, or
    the code's page). A new sensitive route added without the mark fails here."""
    marked = {name for name, view in app.view_functions.items() if getattr(view, MARK, False)}
    assert marked == SENSITIVE_ENDPOINTS
    assert {a.value for a in FRESH_FACTOR_ACTIONS} == {
        "recovery:issue",
        "person:deposit",
        "person:upload",
        "mandate:prepare",
        "mandate:create",
        "person:export",
    }
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    with_header = {
        op["operationId"]
        for item in document["paths"].values()
        for op in item.values()
        if any(p.get("name") == HEADER for p in op.get("parameters", []))
    }
    assert with_header == {name.split(".", 1)[1] for name in marked if "_api." in name}
    for item in document["paths"].values():
        for op in item.values():
            if op["operationId"] in with_header:
                assert "fresh_second_factor_required" in op["responses"]["403"]["description"]
                assert "429" in op["responses"]
