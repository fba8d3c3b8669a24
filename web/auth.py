"""Sign-in for pages (flask-login over server-side sessions) and for the API (bearer tokens)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, abort, g, jsonify, redirect, request, session, url_for
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)

from locker.accounts import SignedIn, actor_for, resolve_session
from locker.actors import Actor
from locker.models import Person, Professional
from sharing.second_factor import factor_pending
from web.context import db, is_probe, services
from web.errors import error_response

F = TypeVar("F", bound=Callable[..., Any])


class WebUser(UserMixin):  # type: ignore[misc]
    """The flask-login user: its id is the server-side session token, revocable at will."""

    def __init__(self, token: str, signed_in: SignedIn) -> None:
        self.token = token
        self.signed_in = signed_in

    def get_id(self) -> str:
        return self.token

    @property
    def actor(self) -> Actor:
        return actor_for(self.signed_in.user)

    @property
    def is_person(self) -> bool:
        return isinstance(self.signed_in.user, Person)

    @property
    def factor_pending(self) -> bool:
        """A professional's session that has not passed its second factor yet."""
        return factor_pending(self.signed_in)

    @property
    def display_name(self) -> str:
        return self.signed_in.user.display_name


def _load_user(token: str) -> WebUser | None:
    found = services()
    idle = {
        "person": timedelta(minutes=found.settings.person_idle_minutes),
        "professional": timedelta(minutes=found.settings.professional_idle_minutes),
    }
    signed_in = resolve_session(db(), found.clock, token, "web", idle)
    db().commit()  # the last activity, or the end of an idle sign-in
    return WebUser(token, signed_in) if signed_in is not None else None


def sign_in_browser(token: str, signed_in: SignedIn) -> None:
    """Start a fresh browser session (a new cookie: nothing from before sign-in survives)."""
    session.clear()
    login_user(WebUser(token, signed_in), remember=False)


def sign_out_browser() -> None:
    """Forget the browser session; the caller has revoked the server-side row."""
    logout_user()
    session.clear()


def web_user() -> WebUser | None:
    """The signed-in browser user, if any (never on the probes: they open no session)."""
    if is_probe():
        return None
    user = current_user
    if user is not None and getattr(user, "is_authenticated", False):
        return cast(WebUser, user._get_current_object())
    return None


def current_actor() -> Actor:
    """The actor of this request: API token, browser session, or anonymous."""
    actor = g.get("api_actor")
    if isinstance(actor, Actor):
        return actor
    user = web_user()
    return user.actor if user is not None else Actor.anonymous()


def current_sign_in() -> SignedIn | None:
    """The sign-in behind this request: its API token's, or its browser session's."""
    signed_in = g.get("api_signed_in")
    if isinstance(signed_in, SignedIn):
        return signed_in
    user = web_user()
    return user.signed_in if user is not None else None


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer` header, if well-formed."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def api_auth(view: F) -> F:
    """Require a live API token; the API never accepts the browser's cookie (no CSRF path)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        signed_in = resolve_session(db(), services().clock, token, "api") if token else None
        if signed_in is None:
            response = error_response("unauthorized", 401)
            response.headers["WWW-Authenticate"] = 'Bearer realm="locker"'
            return response
        if must_change_password(signed_in) and request.endpoint not in (
            OPEN_BEFORE_PASSWORD_CHANGE
        ):
            # Exactly this body (stable interface): the client knows what to ask for.
            response = jsonify({"error": "password_change_required"})
            response.status_code = 403
            return response
        if factor_pending(signed_in) and request.endpoint not in OPEN_BEFORE_SECOND_FACTOR:
            # Exactly this body (stable interface): enrol (or sign in again with the code).
            response = jsonify({"error": "second_factor_required"})
            response.status_code = 403
            return response
        g.api_actor = actor_for(signed_in.user)
        g.api_signed_in = signed_in
        return view(*args, **kwargs)

    return cast(F, wrapper)


# What a person whose password someone else chose may still do over the API: read
# whether they must change it, change it, and sign out.
OPEN_BEFORE_PASSWORD_CHANGE = frozenset(
    {"accounts_api.me", "accounts_api.change_password", "accounts_api.delete_token"}
)


# What a professional's token that has not passed the second factor opens: enrolling it,
# reading who they are, and signing out.
OPEN_BEFORE_SECOND_FACTOR = frozenset(
    {
        "accounts_api.me",
        "accounts_api.begin_totp",
        "accounts_api.confirm_totp",
        "accounts_api.delete_token",
        "accounts_api.delete_tokens",
    }
)


def must_change_password(signed_in: SignedIn) -> bool:
    """Whether the signed-in user still holds a password someone else chose."""
    user = signed_in.user
    return isinstance(user, Person) and bool(user.must_change_password)


def _resolve_sign_in() -> None:
    web_user()


def init_app(app: Flask) -> None:
    """Configure flask-login: no remember-me cookie, server-side revocation instead."""
    manager = LoginManager()
    manager.login_view = "accounts.sign_in"
    manager.session_protection = None  # mobile networks change addresses; rows are revocable
    manager.user_loader(_load_user)

    @manager.unauthorized_handler  # type: ignore[untyped-decorator]
    def _unauthorized() -> Any:
        # Back to the page asked for once signed in (a scanned QR code's link, for one).
        wanted = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("accounts.sign_in", next=wanted))

    manager.init_app(app)
    # The sign-in is resolved before any view runs, so the loader's commit (its last
    # activity) never carries a view's half-done changes with it.
    app.before_request(_resolve_sign_in)


# flask-login's own check (its exempt methods, its answer to the signed-out), without a view.
_signed_in_or_away = login_required(lambda: None)


def pages_for_signed_in(pages: Blueprint, *open_endpoints: str) -> None:
    """Every page of `pages` but the `open_endpoints` sends a signed-out browser to sign in
    first: flask-login's `login_required`, once for the whole blueprint."""

    def check() -> Any:
        return None if request.endpoint in open_endpoints else _signed_in_or_away()

    pages.before_request(check)


def person_id_or_404() -> str:
    """The signed-in person's id, for pages only a person has; anyone else gets a 404."""
    user = web_user()
    if user is None or not user.is_person:
        abort(404)
    return user.signed_in.user.id


def professional_signed_in() -> tuple[Professional, SignedIn]:
    """The signed-in professional and their sign-in, for pages only a professional has;
    anyone else gets a 404."""
    user = web_user()
    if user is None or user.is_person:
        abort(404)
    found = user.signed_in.user
    assert isinstance(found, Professional)
    return found, user.signed_in


def professional_or_404() -> Professional:
    """The signed-in professional, for pages only a professional has; anyone else gets a 404."""
    return professional_signed_in()[0]
