"""Who acts, and what the services act with: one value handed to every service call.

Where a transaction commits (one rule): an audit record of a decision goes through
`session_factory`, committed at once whatever happens next; everything else a service
changes goes in `session`, and the caller (a view, a command, a test) commits once the
whole request has succeeded, so a failure leaves nothing half-done. The one exception is a
service that also writes or deletes objects in the store (upload, delete, purge): it
commits itself, so that the database and the store agree before it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session, sessionmaker

from crypto.keyring import Keyring
from locker.actors import Actor, Clock
from locker.audit import AuditEvent, record_event
from locker.storage import ObjectStore


@dataclass(frozen=True)
class RequestContext:
    """One request's (or command's) collaborators and the actor it acts for."""

    session: Session
    session_factory: sessionmaker[Session]
    store: ObjectStore
    keyring: Keyring
    clock: Clock
    actor: Actor
    # Whether the actor, a professional, passed their second factor within the last
    # minutes (LOCKER_FRESH_FACTOR_MINUTES): the sensitive acts of `sharing.guard` need it.
    # Never fresh unless the caller says so (the web layer reads it from the sign-in).
    fresh_factor: bool = False

    def acting(self, actor: Actor) -> RequestContext:
        """The same context for another actor (the actor under a mandate, say)."""
        return replace(self, actor=actor)

    def record_denied(
        self,
        action: str,
        reason: str,
        *,
        person_id: str | None = None,
        document_id: str | None = None,
    ) -> None:
        """Commit the record of the actor's refused `action` at once (see `record_event`)."""
        event = AuditEvent(action, "denied", reason, self.actor, person_id, document_id)
        record_event(self.session_factory, self.clock, event)
