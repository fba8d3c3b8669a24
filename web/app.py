"""The Flask application factory: configuration in layers, collaborators, blueprints."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from typing import IO, Any

from flask import Flask, Request, Response, current_app, g
from flask_compress import Compress
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import SQLAlchemyError

from locker.actors import Clock, utc_now
from locker.audit import appended, reset_appended
from locker.checkpoints import checkpoint_if_due
from locker.db import make_engine, make_session_factory
from locker.documents import ReceivedFile
from locker.key_provider import open_keyring
from locker.parts import open_object_store, open_s3_witness
from locker.reminders import expires_in
from locker.sanitize.confine import sandbox_ids
from locker.scratch import sweep_orphans
from locker.service import Closure, closure
from locker.settings import MIB, Settings, load_settings
from locker.storage import ObjectStore
from web import auth, context, errors, i18n, observe, ops
from web.json_body import check_form_text
from web.proxies import TrustedProxyFix
from web.throttle import SignInThrottle

HSTS = "max-age=63072000; includeSubDomains"

# Pages: everything from our own origin, no inline script, no framing, no third party.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", PAGE_CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(), microphone=(), camera=(self)")
    # Every page is about someone's papers: nothing is kept by the browser or a proxy.
    headers.setdefault("Cache-Control", "no-store")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        # Secure cookies mean the service is reached over HTTPS: the browser must never
        # try plain HTTP again, where the first request could be intercepted.
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _checkpoint_if_due(response: Response) -> Response:
    # The service signs its own checkpoints as records come in (every 100, or after 5
    # minutes): the witness then holds what a database rewrite would have to match. A
    # request that appended nothing is checked only once a minute a process, for the age.
    if context.is_probe():
        return response
    found = context.services()
    now, last = found.clock(), current_app.extensions.get(_LAST_CHECK)
    if not appended() and last is not None and now - last < CHECK_AGE_EVERY:
        return response
    current_app.extensions[_LAST_CHECK] = now
    checkpoint_if_due(
        found.session_factory,
        found.keyring.audit_signing_key(),
        found.clock,
        origin=found.settings.audit_origin,
        witness_dir=found.settings.audit_witness_dir,
        s3_witness=found.s3_witness,
    )
    return response


_LAST_CHECK = "locker.checkpoint_checked_at"
CHECK_AGE_EVERY = timedelta(minutes=1)


def _announced_closure() -> Closure | None:
    """The closing day the operator announced, shown on every page (read once a request).

    Every page, the "database unavailable" page first, must still render when the
    database does not answer: the notice then waits for the next page that can read it.
    """
    if "closure" not in g:
        try:
            g.closure = closure(context.db())
        except SQLAlchemyError:
            context.db().rollback()
            g.closure = None
    announced: Closure | None = g.closure
    return announced


def _interface_words() -> dict[str, Any]:
    """What every template may use: the language of this request, and the pictogram and form
    macros (taken once from their templates, so that no page needs an import line)."""
    env = current_app.jinja_env
    icons = env.get_template("_icons.html").module
    return {
        "language": i18n.current_language(),
        "closure": (announced := _announced_closure()),
        "closed": announced is not None and announced.closed(context.services().clock()),
        "expires_in": partial(expires_in, today=context.services().clock().date()),
        "icon": icons.icon,  # type: ignore[attr-defined]
        "picto": icons.picto,  # type: ignore[attr-defined]
        "kind": icons.kind,  # type: ignore[attr-defined]
        "kind_icon": icons.kind_icon,  # type: ignore[attr-defined]
        "f": env.get_template("_form.html").module,
    }


class _Request(Request):
    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        # Each uploaded file goes straight to a private file the upload can take over.
        return ReceivedFile()


def create_app(
    settings: Settings | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    clock: Clock = utc_now,
    store: ObjectStore | None = None,
) -> Flask:
    """Build the application: defaults, then LOCKER_* settings, then a test override."""
    settings = settings if settings is not None else load_settings()
    # Uploads left half-received by a process that was killed are removed at start.
    sweep_orphans()
    # Who parses uploads, decided (and a child that must keep root, warned of) at start.
    sandbox_ids(settings.sandbox_user)
    app = Flask(__name__)
    app.request_class = _Request
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # The body may carry a little form data around the file itself.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + MIB,
        # The most one text field may hold (werkzeug counts fields only, never files).
        MAX_FORM_MEMORY_SIZE=256 * 1024,
        MAX_FORM_PARTS=50,
        SESSION_COOKIE_NAME="__Host-locker" if settings.cookie_secure else "locker",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=settings.session_hours * 3600,
        WTF_CSRF_TIME_LIMIT=settings.session_hours * 3600,
        WTF_CSRF_SSL_STRICT=settings.cookie_secure,
        JSON_SORT_KEYS=False,
        # Pages, styles and JSON go compressed (phones on slow links). Papers are images
        # and PDFs, already compressed; streamed answers (exports) stay as they are made.
        # BREACH needs the victim's cookie on a cross-site request: SameSite=Lax withholds it.
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "text/javascript",
            "application/json",
            "image/svg+xml",
        ],
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_STREAMS=False,
    )
    if config:
        app.config.update(config)
    engine = make_engine(settings.database_url)
    context.init_app(
        app,
        context.Services(
            settings=settings,
            engine=engine,
            session_factory=make_session_factory(engine),
            store=store if store is not None else open_object_store(settings),
            keyring=open_keyring(settings),
            clock=clock,
            throttle=SignInThrottle(settings.throttle_storage_url),
            s3_witness=open_s3_witness(settings, clock),
        ),
    )
    if settings.proxy_hops:
        # The client's address (for sign-in throttling) and scheme, as the proxies saw them.
        app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, settings.proxy_hops, settings.trusted_proxies
        )
    # Each request's id, log line and latency (web/observe.py); its route noted first.
    app.wsgi_app = observe.RequestObserver(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(reset_appended)
    app.before_request(observe.note_route)
    # Text no database stores is refused with a clear message before any view reads it.
    app.before_request(check_form_text)
    csrf = CSRFProtect(app)
    auth.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)

    from web import openapi
    from web.domains import DOMAINS

    ops.init_app(app)
    app.register_blueprint(openapi.api)
    csrf.exempt(openapi.api)
    for domain in DOMAINS:
        csrf.exempt(domain.api)  # bearer tokens only: a browser's cookie never signs the API
        app.register_blueprint(domain.api)
        app.register_blueprint(domain.pages)
    Compress(app)
    app.after_request(_security_headers)
    app.after_request(_checkpoint_if_due)
    app.jinja_env.globals.update(
        languages=i18n.LANGUAGES,
        category_label=i18n.category_label,
        pictograms=i18n.PICTOGRAMS,
        scope_names=i18n.SCOPE_NAMES,
        human_size=i18n.human_size,
    )
    app.context_processor(_interface_words)
    logging.getLogger("locker").setLevel(logging.INFO)
    return app
