"""Document services as seen by an actor: every entry point asks the policy first."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from crypto.keyring import Keyring
from locker import documents as core
from locker.actors import Actor, Clock
from locker.context import RequestContext
from locker.documents import DocumentView, OpenedDocument, UploadRequest
from locker.editing import categorise_document, rename_document
from locker.models import Document
from sharing.decisions import Action, Decision, deny
from sharing.guard import record_read, require, require_person
from sharing.policy import acting_as, decide, decide_move


def list_documents_for(ctx: RequestContext, *, person_id: str) -> list[DocumentView]:
    """The documents of a person the actor may list; 404 otherwise."""
    session, session_factory, keyring, clock, actor = (
        ctx.session,
        ctx.session_factory,
        ctx.keyring,
        ctx.clock,
        ctx.actor,
    )
    person, decision = require_person(
        session, session_factory, clock, actor, Action.PERSON_LIST_DOCUMENTS, person_id
    )
    # One record per list shown (not one per row): the person's log stays readable. It is
    # committed before any title is decrypted.
    record_read(session_factory, clock, actor, Action.PERSON_LIST_DOCUMENTS, decision, person.id)
    return core.list_documents(session, keyring, person)


def upload_document_for(
    ctx: RequestContext,
    *,
    person_id: str,
    upload: UploadRequest,
) -> DocumentView:
    """Upload into a person's locker if the actor may; all-or-nothing, audited."""
    session, session_factory, store, keyring, clock, actor = (
        ctx.session,
        ctx.session_factory,
        ctx.store,
        ctx.keyring,
        ctx.clock,
        ctx.actor,
    )
    person, decision = require_person(
        session, session_factory, clock, actor, Action.PERSON_UPLOAD, person_id
    )
    return core.upload_document(
        session,
        store,
        keyring,
        clock,
        actor=acting_as(decision, actor, person.id),
        person=person,
        upload=upload,
    )


def describe_document_for(ctx: RequestContext, *, document_id: str) -> DocumentView:
    """A document's description (title included) if the actor may see it; 404 otherwise."""
    session, session_factory, keyring, clock, actor = (
        ctx.session,
        ctx.session_factory,
        ctx.keyring,
        ctx.clock,
        ctx.actor,
    )
    document = core.find_document(session, document_id)
    if document is not None and document.deleted_at is not None:
        document = None  # in the trash: described only by the trash listing
    decision = require(session, session_factory, clock, actor, Action.DOCUMENT_DESCRIBE, document)
    assert document is not None
    return _described(session, session_factory, keyring, clock, actor, decision, document)


def _described(
    session: Session,
    session_factory: sessionmaker[Session],
    keyring: Keyring,
    clock: Clock,
    actor: Actor,
    decision: Decision,
    document: Document,
) -> DocumentView:
    """The description, once a reader other than the person is on the log (committed)."""
    record_read(
        session_factory,
        clock,
        actor,
        Action.DOCUMENT_DESCRIBE,
        decision,
        document.person_id,
        document.id,
    )
    return core.describe_document(session, keyring, document)


def open_document_for(
    ctx: RequestContext, *, document_id: str, part: str = "content"
) -> OpenedDocument:
    """The plaintext of a document (or its thumbnail), through the core's one door."""
    session, clock, actor = ctx.session, ctx.clock, ctx.actor
    action = Action.DOCUMENT_THUMBNAIL if part == "thumbnail" else Action.DOCUMENT_READ
    document = core.find_document(session, document_id)
    decision = deny("not_found")  # the door records an unknown id itself
    if document is not None:  # under a mandate, the log records both identities
        decision = decide(session, actor, action, document, now=clock())
        actor = acting_as(decision, actor, document.person_id)
    return core.open_document(
        ctx.acting(actor), document_id=document_id, decision=decision, action=action, part=part
    )


def delete_document_for(ctx: RequestContext, *, document_id: str) -> None:
    """Delete a document if the actor may; 404 otherwise (recorded either way)."""
    session, session_factory, store, clock, actor = (
        ctx.session,
        ctx.session_factory,
        ctx.store,
        ctx.clock,
        ctx.actor,
    )
    document = core.find_document(session, document_id)
    decision = require(session, session_factory, clock, actor, Action.DOCUMENT_DELETE, document)
    assert document is not None
    core.delete_document(
        session, store, clock, actor=actor, document=document, reason=decision.reason
    )


def edit_document_for(
    ctx: RequestContext, *, document_id: str, title: str | None = None, category: str | None = None
) -> DocumentView:
    """Rename and/or re-file a document if the actor may organise it; 404 otherwise.

    Each change asks the policy for its own action, so a refusal names exactly what was
    refused in the log; the caller commits.
    """
    session, session_factory, keyring, clock, actor = (
        ctx.session,
        ctx.session_factory,
        ctx.keyring,
        ctx.clock,
        ctx.actor,
    )
    document = core.find_document(session, document_id)
    if document is not None and document.deleted_at is not None:
        document = None  # in the trash: restore it first
    if title is not None:
        decision = require(session, session_factory, clock, actor, Action.DOCUMENT_RENAME, document)
        assert document is not None
        rename_document(
            session,
            keyring,
            clock,
            actor=acting_as(decision, actor, document.person_id),
            document=document,
            title=title,
            reason=decision.reason,
        )
    if category is not None:
        moved = (
            decide_move(session, actor, document, category, now=clock())
            if document is not None and isinstance(category, str)
            else None
        )
        decision = require(
            session, session_factory, clock, actor, Action.DOCUMENT_CATEGORISE, document, moved
        )
        assert document is not None
        categorise_document(
            session,
            clock,
            actor=acting_as(decision, actor, document.person_id),
            document=document,
            category=category,
            reason=decision.reason,
        )
    if title is None and category is None:
        decision = require(
            session, session_factory, clock, actor, Action.DOCUMENT_DESCRIBE, document
        )
        assert document is not None
        return _described(session, session_factory, keyring, clock, actor, decision, document)
    assert document is not None
    return core.describe_document(session, keyring, document)
