"""The accounts part of the JSON API: tokens, the signed-in user, their password, new persons."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, g, jsonify

from locker import accounts
from locker.errors import InvalidInput
from locker.models import Person, Professional
from sharing import passkeys, second_factor
from sharing.accounts import change_own_password, correct_own_account, create_person_with_card
from sharing.members import share_code_for
from web.accounts import INFORMATION_VERSION
from web.accounts.closure import close_account
from web.accounts.passkeys import relying_party
from web.accounts.schemas import (
    BackupCodes,
    Closing,
    Information,
    Me,
    MeCorrection,
    NewPasskey,
    NewPassword,
    NewPerson,
    Passkey,
    Passkeys,
    PersonCreated,
    SignIn,
    Token,
    TotpCode,
    TotpEnrolment,
)
from web.auth import bearer_token, current_actor
from web.context import db, request_context, services
from web.errors import error_response
from web.fresh_factor import stale
from web.openapi import INVALID, MALFORMED, Answers, Error, operation
from web.throttle import factor_guarded, password_guarded, sign_in_allowed, sign_in_failed

api = Blueprint("accounts_api", __name__, url_prefix="/api/v1")
WRONG_CODE = (Error, "A wrong code, or not a professional")
TOO_MANY_WRONG_CODES = (Error, "Too many wrong codes or passwords lately")
TOO_MANY_WRONG_PASSWORDS = (Error, "Too many wrong passwords lately")
NOT_PASSKEY_HOLDER = (Error, "Only professionals have passkeys")


@operation(
    api.post,
    "/auth/token",
    token=False,
    resp=Answers(
        HTTP_201=(Token, "A new token"),
        HTTP_400=MALFORMED,
        HTTP_401=(
            Error,
            "Wrong credentials (same answer whichever part): the password, or a "
            "professional's second factor (`totp`: missing, wrong or of a step already used; "
            "a used backup code)",
        ),
        HTTP_429=(
            Error,
            "Too many failed sign-ins for this account or from this address "
            "(10 per account, 50 per address, in 15 minutes)",
        ),
    ),
)
def create_token(json: SignIn) -> Any:
    """Sign in and get a bearer token. A professional with a second factor sends `totp`
    (the app's current code, or a backup code; `backup_code` is read too); one without
    gets a token that opens only POST /me/totp, POST /me/totp/confirm and GET /me"""
    identifier = json.email if json.email is not None else json.username or ""
    if json.username is not None and "@" in json.username:
        identifier = ""  # a username never holds "@": never let it reach the e-mail lookup
    if not sign_in_allowed(identifier):
        return error_response("too_many_attempts", 429)
    found = services()
    result = accounts.sign_in(
        db(),
        found.clock,
        identifier=identifier,
        password=json.password,
        channel="api",
        hours=found.settings.token_hours,
        professional_hours=found.settings.professional_session_hours,
        second_factor=lambda professional: second_factor.check(
            db(),
            found.keyring,
            found.clock,
            professional,
            code=json.totp,
            backup_code=json.backup_code,
        ),
    )
    db().commit()
    if result is None:
        sign_in_failed(identifier)
        return error_response("bad_credentials", 401)
    token, signed_in = result
    return Token(token=token, expires_at=signed_in.auth_session.expires_at), 201


@operation(api.delete, "/auth/token", resp=Answers(HTTP_204=(None, "Revoked")))
def delete_token() -> Any:
    """Revoke the token used for this request"""
    token = bearer_token()
    assert token is not None
    accounts.sign_out(db(), services().clock, token, current_actor())
    return "", 204


@operation(api.delete, "/auth/tokens", resp=Answers(HTTP_204=(None, "Every sign-in ended")))
def delete_tokens() -> Any:
    """Sign out everywhere: every session and token of mine ends, this one included"""
    token = bearer_token()
    assert token is not None
    signed_in = g.api_signed_in
    accounts.sign_out(db(), services().clock, token, current_actor(), everywhere=signed_in.user)
    return "", 204


@operation(
    api.post,
    "/me/totp",
    resp=Answers(
        HTTP_200=(TotpEnrolment, "The secret to type or scan, and ten backup codes"),
        HTTP_403=(Error, "Only professionals have a second factor"),
        HTTP_409=(Error, "A factor is already confirmed (the operator resets a lost one)"),
    ),
)
def begin_totp() -> Any:
    """Start (or start again) enrolling my second factor (a professional): a TOTP secret,
    its otpauth:// URI, and ten backup codes shown this once"""
    found = services()
    made = second_factor.begin_enrolment(db(), found.keyring, found.clock, g.api_signed_in.user)
    return TotpEnrolment(
        secret=made.secret, otpauth_uri=made.otpauth_uri, backup_codes=made.backup_codes
    )


@operation(
    api.post,
    "/me/totp/confirm",
    resp=Answers(
        HTTP_204=(None, "Confirmed: this token opens everything; every other one ended"),
        HTTP_403=WRONG_CODE,
        HTTP_409=(Error, "No enrolment started, or a factor already confirmed"),
        HTTP_429=TOO_MANY_WRONG_CODES,
    ),
)
def confirm_totp(json: TotpCode) -> Any:
    """Confirm my second factor with a current code of the app"""
    found, signed_in = services(), g.api_signed_in
    with factor_guarded(signed_in.user):
        second_factor.confirm_enrolment(
            db(), found.keyring, found.clock, signed_in, json.code, fresh_codes=False
        )
    return "", 204


@operation(
    api.post,
    "/me/totp/backup-codes",
    resp=Answers(
        HTTP_200=(BackupCodes, "Ten new backup codes; the earlier ones no longer work"),
        HTTP_403=WRONG_CODE,
        HTTP_409=(Error, "No confirmed factor"),
        HTTP_429=TOO_MANY_WRONG_CODES,
    ),
)
def renew_backup_codes(json: TotpCode) -> Any:
    """New backup codes, against a current code of the app; every other sign-in ends"""
    found, signed_in = services(), g.api_signed_in
    with factor_guarded(signed_in.user):
        codes = second_factor.renew_backup_codes(
            db(), found.keyring, found.clock, signed_in, json.code
        )
    return BackupCodes(backup_codes=codes)


@operation(
    api.post,
    "/me/passkeys/registration-options",
    fresh_factor=True,
    resp=Answers(
        HTTP_200=(
            None,
            "PublicKeyCredentialCreationOptionsJSON (WebAuthn): its challenge is kept for this "
            "token, used once, for 5 minutes; user verification required; my passkeys excluded",
        ),
        HTTP_403=NOT_PASSKEY_HOLDER,
    ),
)
def passkey_registration_options() -> Any:
    """Options to add a passkey (a professional, in addition to the app's code)"""
    found = services()
    options = passkeys.registration_options(
        db(), found.clock, g.api_signed_in, relying_party(), fresh=not stale(g.api_signed_in)
    )
    return Response(options, mimetype="application/json")


@operation(
    api.post,
    "/me/passkeys",
    fresh_factor=True,
    resp=Answers(
        HTTP_201=(Passkey, "Added"),
        HTTP_403=(
            Error,
            "bad_passkey: the answer does not hold (no pending challenge or an expired or used "
            "one, another origin, user not verified, a credential already registered); or not "
            "a professional",
        ),
        HTTP_429=TOO_MANY_WRONG_CODES,
    ),
)
def add_passkey(json: NewPasskey) -> Any:
    """Add a passkey: the browser's answer to the registration options"""
    found, signed_in = services(), g.api_signed_in
    with factor_guarded(signed_in.user):
        key = passkeys.add_passkey(
            db(),
            found.clock,
            signed_in,
            relying_party(),
            _json_text(json.credential),
            json.name,
            fresh=not stale(signed_in),
        )
    return Passkey.model_validate(key), 201


def _json_text(value: dict[str, Any]) -> str:
    return json.dumps(value)


@operation(
    api.get,
    "/me/passkeys",
    resp=Answers(
        HTTP_200=(Passkeys, "My passkeys, oldest first"),
        HTTP_403=NOT_PASSKEY_HOLDER,
    ),
)
def list_passkeys() -> Any:
    """My passkeys"""
    views = passkeys.described(db(), g.api_signed_in.user)
    return Passkeys([Passkey.model_validate(view) for view in views])


@operation(
    api.delete,
    "/me/passkeys/<passkey_id>",
    fresh_factor=True,
    resp=Answers(HTTP_204=(None, "Removed"), HTTP_403=(Error, "Only professionals")),
)
def remove_passkey(passkey_id: str) -> Any:
    """Remove one of my passkeys (the app's code still works)"""
    passkeys.remove_passkey(request_context(), g.api_signed_in, passkey_id)
    return "", 204


@operation(
    api.patch,
    "/me",
    resp=Answers(
        HTTP_200=(Me, "The account as it is now"),
        HTTP_409=(Error, "That username is taken"),
        HTTP_422=(Error, "Empty or too long name; a username outside a-z 0-9 . _ - (3 to 64)"),
    ),
)
def correct_me(json: MeCorrection) -> Any:
    """Correct my name, or (a person) my username"""
    correct_own_account(
        db(),
        services().clock,
        g.api_signed_in,
        display_name=json.display_name,
        username=json.username,
        expiry_reminders=json.expiry_reminders,
    )
    db().commit()
    return _described(g.api_signed_in.user)


@operation(
    api.post,
    "/me/close",
    resp=Answers(
        HTTP_202=(None, "Closed: every paper deleted, every key destroyed, every sign-in ended"),
        HTTP_403=(Error, "The password is wrong"),
        HTTP_422=(Error, "Not a person's account"),
        HTTP_429=TOO_MANY_WRONG_PASSWORDS,
    ),
)
def close_me(json: Closing) -> Any:
    """Close my account for good (a person): export first with GET /persons/{id}/export"""
    signed_in = g.api_signed_in
    with password_guarded(signed_in.user):
        close_account(signed_in, json.password)
    return "", 202


@operation(
    api.post,
    "/me/information",
    resp=Answers(
        HTTP_200=(Me, "Accepted"),
        HTTP_403=(Error, "Only a person accepts the information page"),
        HTTP_422=(Error, "Not the current version of the information page"),
    ),
)
def accept_information(json: Information) -> Any:
    """Record that the person read and accepted this version of the information page
    (GET /information shows it; clients of the API show the same text themselves)"""
    user = g.api_signed_in.user
    if not isinstance(user, Person):
        return error_response("forbidden", 403)
    if json.version != INFORMATION_VERSION:
        raise InvalidInput("not the current information version", field="version")
    accounts.accept_information(db(), services().clock, user, json.version)
    db().commit()
    return _described(user)


@operation(api.get, "/me", resp=Answers(HTTP_200=(Me, "The signed-in account")))
def me() -> Any:
    """Who I am"""
    return _described(g.api_signed_in.user)


def _described(user: Person | Professional) -> Any:
    if isinstance(user, Person):
        return jsonify(
            id=user.id,
            kind="person",
            username=user.username,
            display_name=user.display_name,
            must_change_password=bool(user.must_change_password),
            information_accepted_version=user.information_version,
            expiry_reminders=bool(user.expiry_reminders),
        )
    assert isinstance(user, Professional)
    share_code = share_code_for(db(), services().clock, user)
    db().commit()
    return jsonify(
        id=user.id,
        kind="professional",
        email=user.email,
        display_name=user.display_name,
        organization_id=user.organization_id,
        role=user.role,
        share_code=share_code,
        must_change_password=False,
    )


@operation(
    api.post,
    "/me/password",
    resp=Answers(
        HTTP_204=(None, "Changed"),
        HTTP_400=(Error, "Missing field"),
        HTTP_403=(Error, "The current password is wrong"),
        HTTP_422=(Error, "The new password is too short or the current one"),
        HTTP_429=TOO_MANY_WRONG_PASSWORDS,
    ),
)
def change_password(json: NewPassword) -> Any:
    """Change my own password; every other session and token ends (not this one). A
    person's recovery card shown at account creation stops working: print a new one with
    POST /persons/{id}/recovery-card"""
    signed_in = g.api_signed_in
    with password_guarded(signed_in.user):
        # No card here (a 204 has no body): the card shown at creation stops working,
        # and the person prints a new one with POST /persons/{id}/recovery-card.
        change_own_password(
            db(),
            services().clock,
            signed_in,
            current_password=json.current_password,
            new_password=json.new_password,
            fresh_card=False,
        )
    return "", 204


@operation(
    api.post,
    "/persons",
    resp=Answers(
        HTTP_201=(PersonCreated, "Created"),
        HTTP_400=MALFORMED,
        HTTP_403=(Error, "Only professionals create persons"),
        HTTP_409=(Error, "Username taken"),
        HTTP_422=INVALID,
    ),
)
def create_person(json: NewPerson) -> Any:
    """A professional creates a person's account"""
    found = services()
    # Only the named fields are read: `owner`, `role`, `id`... in the body are ignored.
    person, codes = create_person_with_card(
        db(),
        found.keyring,
        found.clock,
        actor=current_actor(),
        username=json.username,
        display_name=json.display_name,
        password=json.password,
    )
    return PersonCreated(id=person.id, username=person.username, recovery_codes=codes), 201
