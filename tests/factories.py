"""Values the tests build again and again, made one way."""

from __future__ import annotations

from sqlalchemy.orm import Session

from locker.actors import Actor, Clock
from locker.context import RequestContext
from web.context import Services


def context(
    found: Services, session: Session, actor: Actor, clock: Clock | None = None
) -> RequestContext:
    """What a service call needs: the app's collaborators, `session`, and who acts."""
    return RequestContext(
        session=session,
        session_factory=found.session_factory,
        store=found.store,
        keyring=found.keyring,
        clock=clock or found.clock,
        actor=actor,
    )
