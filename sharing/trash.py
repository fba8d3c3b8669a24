"""The trash as seen by an actor: moving to it, restoring from it, listing it."""

from __future__ import annotations

from collections.abc import Callable

from locker import documents as core
from locker import trash
from locker.context import RequestContext
from locker.documents import DocumentView
from sharing.decisions import Action
from sharing.guard import record_read, require, require_person
from sharing.policy import acting_as


def trash_document_for(ctx: RequestContext, *, document_id: str) -> None:
    """Move a document to the trash if the actor may; 404 otherwise (recorded either way)."""
    _move(ctx, document_id, Action.DOCUMENT_TRASH, trash.trash_document, in_trash=False)


def restore_document_for(ctx: RequestContext, *, document_id: str) -> None:
    """Take a document out of the trash if the actor may; 404 otherwise."""
    _move(ctx, document_id, Action.DOCUMENT_RESTORE, trash.restore_document, in_trash=True)


def _move(
    ctx: RequestContext,
    document_id: str,
    action: Action,
    move: Callable[..., None],
    *,
    in_trash: bool,
) -> None:
    document = core.find_document(ctx.session, document_id)
    if document is not None and (document.deleted_at is not None) != in_trash:
        document = None  # on the other side of the trash: the same answer as missing
    decision = require(ctx, action, document)
    assert document is not None
    move(
        ctx.session,
        ctx.clock,
        actor=acting_as(decision, ctx.actor, document.person_id),
        document=document,
        reason=decision.reason,
    )


def list_trash_for(ctx: RequestContext, *, person_id: str) -> list[DocumentView]:
    """The person's trash if the actor may list their documents; 404 otherwise."""
    person, decision = require_person(
        ctx,
        Action.PERSON_LIST_DOCUMENTS,
        person_id,
    )
    record_read(ctx, Action.PERSON_LIST_DOCUMENTS, decision, person.id)
    return trash.list_trash(ctx.session, ctx.keyring, person)
