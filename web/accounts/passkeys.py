"""Passkeys on the pages: adding and removing them (settings), and using one at the second
factor's step or to make a sign-in fresh again (sharing/passkeys.py says why it holds).

The browser part is static/passkey.js (no inline script: the page CSP forbids it). It asks
for options as JSON (a POST with the CSRF header), lets the browser talk to the
authenticator, and posts the answer in an ordinary form. Without JavaScript these forms stay
hidden and the TOTP code works as before.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from sharing import passkeys
from sharing.passkeys import RelyingParty
from sharing.second_factor import factor_pending
from web.accounts.second_factor import code_form_sent, local
from web.auth import professional_signed_in
from web.context import db, request_context, services
from web.forms import NewPasskeyForm, PasskeyForm, asks_first, done
from web.fresh_factor import fresh_factor_page, stale
from web.i18n import message


def relying_party() -> RelyingParty:
    """The site passkeys are bound to: LOCKER_WEBAUTHN_RP_ID and LOCKER_WEBAUTHN_ORIGIN,
    or this request's own origin and host name."""
    settings = services().settings
    origin = settings.webauthn_origin or request.host_url.rstrip("/")
    return RelyingParty(settings.webauthn_rp_id or urlsplit(origin).hostname or "", origin)


def _json(options: str) -> Response:
    return Response(options, mimetype="application/json")


def use_options_page() -> Any:
    """Options for `navigator.credentials.get()`, for this sign-in (JSON)."""
    _, signed_in = professional_signed_in()
    options = passkeys.authentication_options(db(), services().clock, signed_in, relying_party())
    db().commit()
    return _json(options)


def use_page() -> Any:
    """The browser's answer: the second factor passed (after the password, or again before
    a sensitive act), counted like codes; then where the professional was going."""
    professional, signed_in = professional_signed_in()
    found = services()
    pending = factor_pending(signed_in)
    form = PasskeyForm()
    onward = local(request.args.get("next"))
    passed, _, problems, status = code_form_sent(
        form,
        professional,
        lambda: passkeys.use_passkey(
            db(), found.clock, signed_in, relying_party(), form.credential.data or ""
        ),
        field=None,  # said above the forms: the passkey has no field of its own
    )
    if passed:
        return redirect(onward or url_for("accounts.home"))
    if pending and status == 403:
        status = 401  # as a wrong code after the password
    page = "accounts.second_factor" if pending else "accounts.confirm_code"
    return (
        render_template(
            "second_factor.html",
            form=form,
            problems=problems,
            confirm=None if pending else url_for(page, next=onward),
            intro=None if pending else message("fresh_second_factor_required"),
            passkey=True,
        ),
        status,
    )


def registration_options_page() -> Any:
    """Options for `navigator.credentials.create()`, for this sign-in (JSON)."""
    _, signed_in = professional_signed_in()
    options = passkeys.registration_options(
        db(), services().clock, signed_in, relying_party(), fresh=not stale(signed_in)
    )
    db().commit()
    return _json(options)


@fresh_factor_page("accounts.passkeys")
def passkeys_page() -> Any:
    """The professional's passkeys, and the form that adds one (after a fresh factor: a
    stolen session must not plant a passkey of the thief's, nor strip the owner's)."""
    professional, signed_in = professional_signed_in()
    found = services()
    form = NewPasskeyForm()
    passed, _, problems, status = code_form_sent(
        form,
        professional,
        lambda: passkeys.add_passkey(
            db(),
            found.clock,
            signed_in,
            relying_party(),
            form.credential.data or "",
            form.name.data or "",
            fresh=not stale(signed_in),
        ),
        field=None,
    )
    if passed:
        return done("passkey_added", "accounts.passkeys")
    keys = passkeys.described(db(), professional)
    return render_template("passkeys.html", form=form, problems=problems, keys=keys), status


@fresh_factor_page("accounts.passkeys")
@asks_first(
    _l("Retirer cette clé d'accès ?"),
    _l("Elle ne permettra plus de vous connecter. Le code de l'application marche toujours."),
    _l("Oui, retirer la clé"),
    "accounts.passkeys",
)
def remove_page(passkey_id: str) -> Any:
    """One of the professional's passkeys removed, once confirmed, with a fresh factor."""
    _, signed_in = professional_signed_in()
    passkeys.remove_passkey(request_context(), signed_in, passkey_id)
    return done("passkey_removed", "accounts.passkeys")


def register(pages: Blueprint) -> None:
    """The passkeys' pages, on the accounts blueprint."""
    pages.add_url_rule(
        "/sign-in/passkey/options", "passkey_use_options", use_options_page, methods=["POST"]
    )
    pages.add_url_rule("/sign-in/passkey", "passkey_use", use_page, methods=["POST"])
    pages.add_url_rule("/account/passkeys", "passkeys", passkeys_page, methods=["GET", "POST"])
    pages.add_url_rule(
        "/account/passkeys/options",
        "passkey_registration_options",
        registration_options_page,
        methods=["POST"],
    )
    pages.add_url_rule(
        "/account/passkeys/<passkey_id>/remove",
        "remove_passkey",
        remove_page,
        methods=["POST"],
    )
