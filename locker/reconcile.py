"""Comparing the object store with the database: orphaned objects and missing objects."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from locker.documents import discard_object
from locker.models import Document
from locker.storage import ObjectStore


@dataclass(frozen=True)
class ReconcileReport:
    """Keys no row names, and documents (ids) whose object, thumbnail or preview is absent."""

    orphans: list[str]
    missing: list[str]
    removed: list[str]


def referenced_keys(session: Session) -> dict[str, str]:
    """Every object key a document row names (file, thumbnail, preview), to its document id."""
    keys: dict[str, str] = {}
    for document_id, *named in session.execute(
        select(Document.id, Document.object_key, Document.thumbnail_key, Document.preview_key)
    ):
        keys.update((key, document_id) for key in named if key is not None)
    return keys


def reconcile_storage(
    session: Session, store: ObjectStore, *, fix: bool = False, grace_seconds: float = 0.0
) -> ReconcileReport:
    """Report orphans and missing objects; with `fix`, delete the orphans.

    An upload in flight stores its objects before its row commits, so with `fix` the
    orphans are looked up again after `grace_seconds` and only those still unnamed go.
    """
    stored = set(store.list_keys())
    referenced = referenced_keys(session)
    orphans = sorted(stored - referenced.keys())
    missing = sorted({doc for key, doc in referenced.items() if key not in stored})
    removed: list[str] = []
    if fix and orphans:
        time.sleep(grace_seconds)
        session.expire_all()
        session.rollback()  # a fresh snapshot: rows committed during the grace count
        still = set(orphans) - referenced_keys(session).keys()
        removed = [key for key in orphans if key in still and discard_object(store, key)]
    return ReconcileReport(orphans=orphans, missing=missing, removed=removed)
