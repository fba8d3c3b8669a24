"""Organising a document: a new title (encrypted like the first), another category, or
another valid-until date."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from crypto.keyring import Keyring
from crypto.keys import encrypt_field
from locker.actors import Actor, Clock
from locker.audit import append_allowed
from locker.documents import (
    CATEGORIES,
    MAX_TITLE,
    _clean_text,
    _data_key,
    _field_aad,
    check_valid_until,
)
from locker.errors import InvalidInput
from locker.models import Document, Person


def record_document_act(
    session: Session, clock: Clock, actor: Actor, action: str, document: Document, reason: str
) -> None:
    """Append the "allowed" record of an act on `document`, in the caller's transaction."""
    append_allowed(
        session, clock, action, reason, actor, person_id=document.person_id, document_id=document.id
    )


def rename_document(
    session: Session,
    keyring: Keyring,
    clock: Clock,
    *,
    actor: Actor,
    document: Document,
    title: str,
    reason: str,
) -> None:
    """Give a document a new title, encrypted under its data key; recorded; caller commits."""
    cleaned = _clean_text(title, MAX_TITLE, "title")
    if not cleaned:
        raise InvalidInput("empty title", field="title")
    person = session.get(Person, document.person_id)
    assert person is not None
    data_key = _data_key(keyring, person, document)
    document.title_ciphertext = encrypt_field(
        data_key, cleaned.encode(), _field_aad("title", document.id)
    )
    record_document_act(session, clock, actor, "document:rename", document, reason)
    session.flush()


def categorise_document(
    session: Session, clock: Clock, *, actor: Actor, document: Document, category: str, reason: str
) -> None:
    """File a document under another category; recorded; the caller commits."""
    if category not in CATEGORIES:
        raise InvalidInput("category", field="category")
    if category == document.category:
        return
    document.category = category
    record_document_act(session, clock, actor, "document:categorise", document, reason)
    session.flush()


def date_document(
    session: Session,
    clock: Clock,
    *,
    actor: Actor,
    document: Document,
    valid_until: date | None,
    reason: str,
) -> None:
    """Set (or clear, with None) the date until which a paper is valid; recorded; the
    caller commits."""
    if check_valid_until(valid_until) == document.valid_until:
        return
    document.valid_until = valid_until
    record_document_act(session, clock, actor, "document:validity", document, reason)
    session.flush()
