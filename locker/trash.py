"""The trash: a deleted document stays restorable for 30 days, then is purged for good.

Purging deletes the row (and with it the wrapped data key: without it the ciphertext is
noise, backups of the bucket included), then the object, its thumbnail and its preview.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crypto.keyring import Keyring
from locker.actors import Actor, Clock
from locker.documents import DocumentView, describe_document, discard_object, document_keys
from locker.editing import record_document_act
from locker.errors import NotFound
from locker.models import Document, Person
from locker.storage import ObjectStore

RETENTION = timedelta(days=30)


def _commit_with_event(
    session: Session, clock: Clock, actor: Actor, action: str, document: Document, reason: str
) -> None:
    record_document_act(session, clock, actor, action, document, reason)
    try:
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        raise


def trash_document(
    session: Session, clock: Clock, *, actor: Actor, document: Document, reason: str
) -> None:
    """Move a document to the trash (committed with its audit record); its objects stay."""
    if document.deleted_at is not None:
        raise NotFound("document")
    document.deleted_at = clock()
    _commit_with_event(session, clock, actor, "document:trash", document, reason)


def restore_document(
    session: Session, clock: Clock, *, actor: Actor, document: Document, reason: str
) -> None:
    """Take a document out of the trash if it is still within the 30 days (else NotFound)."""
    if document.deleted_at is None or document.deleted_at + RETENTION <= clock():
        raise NotFound("document")
    document.deleted_at = None
    _commit_with_event(session, clock, actor, "document:restore", document, reason)


def list_trash(session: Session, keyring: Keyring, person: Person) -> list[DocumentView]:
    """The person's trashed documents, most recently deleted first; the caller asked the policy."""
    rows = session.scalars(
        select(Document)
        .where(Document.person_id == person.id, Document.deleted_at.is_not(None))
        .order_by(Document.deleted_at.desc(), Document.id)
    )
    return [describe_document(session, keyring, row) for row in rows]


@dataclass(frozen=True)
class PurgeReport:
    """How many documents were purged, and how many objects the store kept (for reconcile)."""

    purged: int
    objects_left: int


def purge_trash(session: Session, store: ObjectStore, clock: Clock) -> PurgeReport:
    """Purge every document trashed more than 30 days ago: row first, then its objects.

    Each purge commits with its audit record before its objects go, so a failure leaves
    at worst an orphan object for `storage reconcile`, never a row pointing at nothing.
    """
    cutoff = clock() - RETENTION
    due = list(
        session.scalars(
            select(Document).where(Document.deleted_at.is_not(None), Document.deleted_at <= cutoff)
        )
    )
    purged = left = 0
    for document in due:
        keys = document_keys(document)
        session.delete(document)
        _commit_with_event(session, clock, Actor.system(), "document:purge", document, "retention")
        purged += 1
        left += sum(not discard_object(store, key) for key in keys)
    return PurgeReport(purged=purged, objects_left=left)
