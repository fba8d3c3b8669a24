"""The accounts part of the JSON API: tokens, the signed-in user, their password, new persons."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify

from locker import accounts
from locker.errors import WrongCurrentPassword
from locker.models import Person, Professional
from sharing.accounts import change_own_password, create_person_with_card
from sharing.members import share_code_for
from web.auth import api_auth, bearer_token, current_actor
from web.context import db, services
from web.errors import error_response
from web.json_body import json_object, text_field
from web.throttle import sign_in_allowed, sign_in_failed

api = Blueprint("accounts_api", __name__, url_prefix="/api/v1")


@api.post("/auth/token")
def create_token() -> Any:
    body = json_object()
    password = text_field(body, "password") if body else None
    username = text_field(body, "username") if body else None
    email = text_field(body, "email") if body else None
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
    body = json_object()
    current = text_field(body, "current_password") if body else None
    new = text_field(body, "new_password") if body else None
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
    body = json_object()
    if body is None:
        return error_response("bad_request", 400)
    found = services()
    # Only the named fields are read: `owner`, `role`, `id`... in the body are ignored.
    person, codes = create_person_with_card(
        db(),
        found.keyring,
        found.clock,
        actor=current_actor(),
        username=text_field(body, "username") or "",
        display_name=text_field(body, "display_name") or "",
        password=text_field(body, "password") or "",
    )
    db().commit()
    # The recovery card's codes, shown this once (only their hashes are kept).
    return jsonify({"id": person.id, "username": person.username, "recovery_codes": codes}), 201
