"""The JSON API under /api/v1 (stable interface; described by /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from locker import accounts
from locker.documents import DocumentView
from locker.errors import WrongCurrentPassword
from locker.models import Person, Professional
from sharing import documents as docs
from sharing.accounts import change_own_password, create_person_with_card
from sharing.members import share_code_for
from sharing.trash import trash_document_for
from web.auth import api_auth, bearer_token, current_actor
from web.context import db, services
from web.errors import error_response
from web.json_body import json_object
from web.openapi import openapi_document
from web.responses import document_response
from web.throttle import sign_in_allowed, sign_in_failed
from web.uploads import parse_valid_until, upload_options, uploaded_files

api = Blueprint("api", __name__, url_prefix="/api/v1")


def _json_body() -> dict[str, Any] | None:
    return json_object()


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    return value if isinstance(value, str) else None


def document_json(view: DocumentView) -> dict[str, Any]:
    """The public shape of a document's description."""
    return {
        "id": view.id,
        "person_id": view.person_id,
        "title": view.title,
        "filename": view.filename,
        "category": view.category,
        "content_type": view.content_type,
        "size": view.size,
        "created_at": view.created_at.isoformat(),
        "page_count": view.page_count,
        "valid_until": view.valid_until.isoformat() if view.valid_until else None,
        "has_thumbnail": view.has_thumbnail,
        "deleted_at": view.deleted_at.isoformat() if view.deleted_at else None,
    }


@api.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@api.post("/auth/token")
def create_token() -> Any:
    body = _json_body()
    password = _text(body, "password") if body else None
    username = _text(body, "username") if body else None
    email = _text(body, "email") if body else None
    identifier = email if email is not None else username
    if body is None or password is None or identifier is None:
        return error_response("bad_request", 400)
    if username is not None and "@" in username:
        identifier = ""  # a username never holds "@": never let it reach the e-mail lookup
    if not sign_in_allowed(identifier):
        return error_response("too_many_attempts", 429)
    found = services()
    result = accounts.sign_in(
        db(),
        found.clock,
        identifier=identifier,
        password=password,
        channel="api",
        hours=found.settings.token_hours,
    )
    db().commit()
    if result is None:
        sign_in_failed(identifier)
        return error_response("bad_credentials", 401)
    token, signed_in = result
    return jsonify(
        {"token": token, "expires_at": signed_in.auth_session.expires_at.isoformat()}
    ), 201


@api.delete("/auth/token")
@api_auth
def delete_token() -> Any:
    token = bearer_token()
    assert token is not None
    accounts.sign_out(db(), services().clock, token, current_actor())
    db().commit()
    return "", 204


@api.get("/me")
@api_auth
def me() -> Any:
    user = g.api_signed_in.user
    if isinstance(user, Person):
        return jsonify(
            {
                "id": user.id,
                "kind": "person",
                "username": user.username,
                "display_name": user.display_name,
                "must_change_password": bool(user.must_change_password),
            }
        )
    assert isinstance(user, Professional)
    share_code = share_code_for(db(), services().clock, user)
    db().commit()
    return jsonify(
        {
            "id": user.id,
            "kind": "professional",
            "email": user.email,
            "display_name": user.display_name,
            "organization_id": user.organization_id,
            "role": user.role,
            "share_code": share_code,
            "must_change_password": False,
        }
    )


@api.post("/me/password")
@api_auth
def change_password() -> Any:
    body = _json_body()
    current = _text(body, "current_password") if body else None
    new = _text(body, "new_password") if body else None
    if current is None or new is None:
        return error_response("bad_request", 400)
    signed_in = g.api_signed_in
    identifier = _identifier(signed_in.user)
    # A stolen token must not become a way to guess the password: the sign-in counters.
    if not sign_in_allowed(identifier):
        return error_response("too_many_attempts", 429)
    found = services()
    try:
        # No card here (a 204 has no body): the card shown at creation stops working,
        # and the person prints a new one with POST /persons/{id}/recovery-card.
        change_own_password(
            db(),
            found.clock,
            signed_in,
            current_password=current,
            new_password=new,
            fresh_card=False,
        )
    except WrongCurrentPassword:
        db().rollback()
        sign_in_failed(identifier)
        raise
    db().commit()
    return "", 204


def _identifier(user: Person | Professional) -> str:
    return user.username if isinstance(user, Person) else user.email


@api.post("/persons")
@api_auth
def create_person() -> Any:
    body = _json_body()
    if body is None:
        return error_response("bad_request", 400)
    found = services()
    # Only the named fields are read: `owner`, `role`, `id`... in the body are ignored.
    person, codes = create_person_with_card(
        db(),
        found.keyring,
        found.clock,
        actor=current_actor(),
        username=_text(body, "username") or "",
        display_name=_text(body, "display_name") or "",
        password=_text(body, "password") or "",
    )
    db().commit()
    # The recovery card's codes, shown this once (only their hashes are kept).
    return jsonify({"id": person.id, "username": person.username, "recovery_codes": codes}), 201


@api.get("/persons/<person_id>/documents")
@api_auth
def list_documents(person_id: str) -> Any:
    found = services()
    views = docs.list_documents_for(
        db(),
        found.session_factory,
        found.keyring,
        found.clock,
        actor=current_actor(),
        person_id=person_id,
    )
    return jsonify([document_json(v) for v in views])


@api.post("/persons/<person_id>/documents")
@api_auth
def upload_document(person_id: str) -> Any:
    files = uploaded_files(request.files)
    if not files:
        return error_response("no_file", 422)
    upload = files[0]
    found = services()
    view = docs.upload_document_for(
        db(),
        found.session_factory,
        found.store,
        found.keyring,
        found.clock,
        actor=current_actor(),
        person_id=person_id,
        source=upload.stream,
        filename=upload.filename or "",
        title=request.form.get("title", ""),
        category=request.form.get("category", "other"),
        more_sources=[f.stream for f in files[1:]],
        valid_until=parse_valid_until(request.form.get("valid_until")),
        **upload_options(),
    )
    return jsonify(document_json(view)), 201


@api.get("/documents/<document_id>")
@api_auth
def get_document(document_id: str) -> Any:
    found = services()
    view = docs.describe_document_for(
        db(),
        found.session_factory,
        found.keyring,
        found.clock,
        actor=current_actor(),
        document_id=document_id,
    )
    return jsonify(document_json(view))


@api.get("/documents/<document_id>/content")
@api_auth
def get_document_content(document_id: str) -> Response:
    found = services()
    opened = docs.open_document_for(
        db(),
        found.session_factory,
        found.store,
        found.keyring,
        found.clock,
        actor=current_actor(),
        document_id=document_id,
    )
    return document_response(opened)


@api.delete("/documents/<document_id>")
@api_auth
def delete_document(document_id: str) -> Any:
    # Deleting moves to the trash: restorable for 30 days, then purged.
    found = services()
    trash_document_for(
        db(), found.session_factory, found.clock, actor=current_actor(), document_id=document_id
    )
    return "", 204


@api.patch("/documents/<document_id>")
@api_auth
def edit_document(document_id: str) -> Any:
    body = _json_body()
    if body is None:
        return error_response("bad_request", 400)
    found = services()
    # Only `title` and `category` are read; `owner`, `person_id`... in the body are ignored.
    view = docs.edit_document_for(
        db(),
        found.session_factory,
        found.keyring,
        found.clock,
        actor=current_actor(),
        document_id=document_id,
        title=_text(body, "title"),
        category=_text(body, "category"),
    )
    db().commit()
    return jsonify(document_json(view))
