"""Account actions that need the policy: a professional opening a person's locker."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crypto.keyring import Keyring
from locker import accounts
from locker.actors import Actor, Clock
from locker.audit import AuditEvent, append_event
from locker.errors import LockerError
from locker.models import Person
from sharing.policy import decide
from sharing.recovery import new_card


class AccessDenied(LockerError):
    """The actor may not do this at all (no resource id is involved, so this is a 403)."""

    code = "forbidden"


def create_person_by(
    session: Session,
    keyring: Keyring,
    clock: Clock,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    password: str,
) -> Person:
    """A professional creates a person's account; recorded; the caller commits."""
    decision = decide(session, actor, "person:create")
    if not decision.allowed:
        raise AccessDenied(decision.reason)
    person = accounts.create_person(
        session,
        keyring,
        clock,
        username=username,
        display_name=display_name,
        password=password,
        created_by=actor.id,
    )
    append_event(
        session,
        clock,
        AuditEvent(
            action="person:create",
            outcome="allowed",
            reason=decision.reason,
            actor=actor,
            person_id=person.id,
        ),
    )
    return person


def create_person_with_card(
    session: Session,
    keyring: Keyring,
    clock: Clock,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    password: str,
    card: bool = True,
) -> tuple[Person, list[str]]:
    """A professional creates a person's account and, in the same transaction and unless
    declined, their recovery card: single-use codes, shown once, stored hashed; recorded."""
    person = create_person_by(
        session,
        keyring,
        clock,
        actor=actor,
        username=username,
        display_name=display_name,
        password=password,
    )
    if not card:
        return person, []
    codes = new_card(session, clock, person)
    append_event(
        session,
        clock,
        AuditEvent(
            action="recovery:card",
            outcome="allowed",
            reason="account_creation",
            actor=actor,
            person_id=person.id,
        ),
    )
    return person, codes
