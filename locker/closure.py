"""Closing a person's account: nothing of theirs stays stored, nothing of theirs decrypts.

The audit log keeps its records (it must still verify): they name the person by an opaque
id that, once the row is stripped here, leads to no name, username or key.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from locker.accounts import end_all_sessions
from locker.actors import Actor, Clock
from locker.audit import append_allowed
from locker.documents import document_keys
from locker.models import Document, Person

# Not an argon2 hash: no password ever verifies against it.
CLOSED = "!closed"


def close_person(session: Session, clock: Clock, *, person: Person, actor: Actor) -> list[str]:
    """In the caller's transaction: the closure recorded, every session and token ended,
    every paper's row removed, and the person's row stripped to its id (name, username,
    password, language gone; the wrapped person key destroyed, so no copy of a paper's key
    unwraps again). Returns the object keys to delete from the store once this commits.

    The caller removes first its own rows that name the person (lists, grants, mandates).
    """
    end_all_sessions(session, clock, person)
    documents = session.scalars(select(Document).where(Document.person_id == person.id)).all()
    keys = [key for document in documents for key in document_keys(document)]
    for document in documents:
        session.delete(document)
    person.username = f"closed-{person.id}"  # frees the name; unique like the id
    person.display_name = ""
    person.password_hash = CLOSED
    person.wrapped_person_key = b""
    person.language = None
    person.created_by_professional_id = None  # who opened it would tie the id to them
    person.must_change_password = False
    person.closed_at = clock()
    session.flush()
    # Recorded last, like every service: the log's one counter row is locked until commit,
    # so taking it before these rows could deadlock with a request of theirs holding one.
    append_allowed(session, clock, "account:close", "self", actor, person_id=person.id)
    return keys
