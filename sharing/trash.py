"""The trash as seen by an actor: moving to it, restoring from it, listing it."""

from __future__ import annotations

from collections.abc import Callable

from locker import trash
from locker.context import RequestContext
from locker.documents import DocumentView
from sharing.decisions import Action
from sharing.documents import find_document_for, listed_person
from sharing.guard import require
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
    document = find_document_for(ctx, document_id, in_trash=in_trash)
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
    return trash.list_trash(ctx.session, ctx.keyring, listed_person(ctx, person_id))
