"""Signing in with ProConnect (OpenID Connect) and signing out there too (docs/proconnect.md).

Off (every route a 404, no button) while LOCKER_PROCONNECT_ISSUER is unset. The state is
kept twice: in the browser's session (the callback must come back to the browser that
left) and as a database row deleted on its first return (a replayed cookie finds nothing).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from locker.errors import LockerError
from locker.oidc import OidcError, RelyingParty
from sharing import proconnect
from sharing.errors import ProConnectRefused
from web.auth import sign_in_browser, web_user
from web.context import db, services
from web.forms import Problem, SignInForm
from web.i18n import message
from web.throttle import proconnect_start_allowed

STATE_KEY = "proconnect_state"
LOGOUT_STATE_KEY = "proconnect_logout_state"
# Pages a signed-out browser (or a session waiting for its code) reaches.
OPEN_ENDPOINTS = frozenset(
    {"accounts.proconnect_start", "accounts.proconnect_callback", "accounts.proconnect_signed_out"}
)


def relying_party() -> RelyingParty | None:
    """This app's ProConnect client (its discovery cached), or None when it is off."""
    found = services()
    if found.settings.proconnect is None:
        return None
    client = current_app.extensions.get("proconnect")
    if not isinstance(client, RelyingParty):
        client = RelyingParty(found.settings.proconnect, found.clock)
        current_app.extensions["proconnect"] = client
    return client


def _url(setting: str, endpoint: str) -> str:
    # The URI registered at ProConnect, or this request's own address for the page.
    return setting or url_for(endpoint, _external=True)


def _relying_party_or_404() -> RelyingParty:
    client = relying_party()
    if client is None:
        abort(404)
    return client


def _sign_in_again(text: str, status: int) -> Any:
    """The sign-in page again, saying why in the person's words; nobody is signed in."""
    problems = [Problem(None, text)]
    return render_template("sign_in.html", form=SignInForm(), problems=problems), status


def _refused(reason: str) -> Any:
    db().commit()  # the refusal's record
    return _sign_in_again(message(f"proconnect_{reason}"), 503 if reason == "unreachable" else 403)


def start() -> Any:
    """Send the browser to ProConnect with a fresh state, nonce and PKCE challenge."""
    client = _relying_party_or_404()
    if not proconnect_start_allowed():
        return _sign_in_again(message("too_many_attempts"), 429)
    try:
        asked = client.authorization(
            _url(client.settings.redirect_uri, "accounts.proconnect_callback")
        )
    except OidcError:
        return _refused("unreachable")
    proconnect.begin_attempt(
        db(),
        services().clock,
        state=asked.state,
        nonce=asked.nonce,
        code_verifier=asked.code_verifier,
    )
    db().commit()
    session[STATE_KEY] = asked.state
    return redirect(asked.url)


def callback() -> Any:
    """Back from ProConnect: the state once, the code redeemed, the identity verified, the
    professional matched; signed in, or told why not."""
    client = _relying_party_or_404()
    found = services()
    state = request.args.get("state", "")
    expected = session.pop(STATE_KEY, None)
    attempt = proconnect.take_attempt(db(), found.clock, state)
    db().commit()  # used up, whatever follows
    same_browser = isinstance(expected, str) and secrets.compare_digest(expected, state)
    if attempt is None or not same_browser:
        proconnect.refuse(db(), found.clock, "expired")
        return _refused("expired")
    issuer = request.args.get("iss")
    code = request.args.get("code")
    try:
        if request.args.get("error") or not code:
            # The professional cancelled at ProConnect, or it could not sign them in.
            raise OidcError("the provider sent no code", reason="cancelled")
        if issuer is not None and issuer != client.settings.issuer:
            # RFC 9207: an answer from another provider (a mix-up attack).
            raise OidcError("iss", reason="failed")
        identity = client.identify(
            code=code,
            redirect_uri=_url(client.settings.redirect_uri, "accounts.proconnect_callback"),
            nonce=attempt.nonce,
            code_verifier=attempt.code_verifier,
        )
        hours = min(found.settings.session_hours, found.settings.professional_session_hours)
        token, signed_in = proconnect.sign_in_with_proconnect(
            db(),
            found.clock,
            claims=identity.claims,
            userinfo=identity.userinfo,
            id_token=identity.id_token,
            acr_values=client.settings.acr_values,
            hours=hours,
        )
    except OidcError as failure:
        reason = str(failure.params.get("reason", "failed"))
        proconnect.refuse(db(), found.clock, reason)
        # The log keeps which check failed; the page says only that it did.
        return _refused(reason if reason in {"unreachable", "cancelled"} else "failed")
    except ProConnectRefused as refusal:
        return _refused(str(refusal.params["reason"]))
    db().commit()
    sign_in_browser(token, signed_in)
    # Without a second factor at ProConnect, the TOTP code's page comes next.
    return redirect(url_for("accounts.home"))


def end_at_provider(id_token: str) -> Any:
    """After this service's sign-out: on to the provider's sign-out, coming back with a
    state. A page that goes on by itself (and a link), not a redirect: the sign-out form's
    page allows forms to post to this service only (CSP form-action), and browsers hold
    the redirects that follow a form to that too."""
    client = relying_party()
    if client is None:
        return None
    state = secrets.token_urlsafe(32)
    try:
        target = client.end_session_url(
            id_token,
            _url(client.settings.post_logout_redirect_uri, "accounts.proconnect_signed_out"),
            state,
        )
    except LockerError:
        return None
    session[LOGOUT_STATE_KEY] = state
    return render_template("proconnect_sign_out.html", target=target)


def signed_out() -> Any:
    """Back from the provider's sign-out (post_logout_redirect_uri)."""
    _relying_party_or_404()
    expected = session.pop(LOGOUT_STATE_KEY, None)
    state = request.args.get("state", "")
    if web_user() is None and isinstance(expected, str) and secrets.compare_digest(expected, state):
        flash(message("proconnect_signed_out"), "info")
    return redirect(url_for("accounts.sign_in"))


def register(pages: Blueprint) -> None:
    """The ProConnect pages, on the accounts blueprint, and whether pages show its button."""
    pages.app_context_processor(lambda: {"proconnect_on": relying_party() is not None})
    pages.add_url_rule("/sign-in/proconnect", "proconnect_start", start)
    pages.add_url_rule("/sign-in/proconnect/callback", "proconnect_callback", callback)
    pages.add_url_rule("/sign-out/proconnect", "proconnect_signed_out", signed_out)
