"""Per-application collaborators and the per-request database session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crypto.keyring import Keyring
from locker.actors import Clock
from locker.context import RequestContext
from locker.settings import Settings
from locker.storage import ObjectStore
from locker.witness import S3Witness
from sharing.second_factor import is_fresh

if TYPE_CHECKING:
    from web.throttle import SignInThrottle


@dataclass
class Services:
    """What the services need, built once per application (never module-level)."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    store: ObjectStore
    keyring: Keyring
    clock: Clock
    throttle: SignInThrottle
    # The S3 Object Lock witness of audit checkpoints, when LOCKER_AUDIT_WITNESS_URL is set.
    s3_witness: S3Witness | None = None


# The blueprint of the operator's probes and metrics (web/ops.py).
OPS_BLUEPRINT = "ops"


def is_probe() -> bool:
    """True for the probes and metrics: no sign-in, no session, no checkpoint on the way
    (a liveness probe must answer with the database down)."""
    return request.blueprint == OPS_BLUEPRINT


def services() -> Services:
    """The current application's collaborators."""
    found = current_app.extensions["locker"]
    assert isinstance(found, Services)
    return found


def db() -> Session:
    """The request's database session, opened on first use and closed on teardown."""
    if "db" not in g:
        g.db = services().session_factory()
    session = g.db
    assert isinstance(session, Session)
    return session


def _close_db(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def init_app(app: Flask, found: Services) -> None:
    """Attach the collaborators and the teardown that closes the request's session."""
    app.extensions["locker"] = found
    app.teardown_appcontext(_close_db)


def request_context() -> RequestContext:
    """This request's context for the services: its session, the app's collaborators, the
    signed-in actor (anonymous when nobody is) and whether their second factor is fresh."""
    from web.auth import current_actor, current_sign_in  # web.auth builds on this module

    found = services()
    signed_in = current_sign_in()
    return RequestContext(
        session=db(),
        session_factory=found.session_factory,
        store=found.store,
        keyring=found.keyring,
        clock=found.clock,
        actor=current_actor(),
        fresh_factor=signed_in is not None
        and is_fresh(signed_in, found.clock(), found.settings.fresh_factor_minutes),
    )
