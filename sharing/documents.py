"""Document services as seen by an actor: every entry point asks the policy first."""

from __future__ import annotations

from datetime import date

from locker import documents as core
from locker.context import RequestContext
from locker.documents import DocumentView, OpenedDocument, UploadRequest
from locker.editing import categorise_document, date_document, rename_document
from locker.models import Document, Person
from locker.sanitize import SanitizeLimits
from sharing.decisions import Action, Decision, deny
from sharing.guard import record_read, require, require_person
from sharing.policy import acting_as, decide, decide_move
from sharing.rights import readers_by_document

# A page of the person's list: a whole shelf for nearly everyone (about 20 papers each),
# and the cost of a page stays flat for the few who keep hundreds.
PAGE_SIZE = 50


def list_documents_for(ctx: RequestContext, *, person_id: str) -> list[DocumentView]:
    """The documents of a person the actor may list; 404 otherwise."""
    return core.list_documents(ctx.session, ctx.keyring, listed_person(ctx, person_id))


def page_documents_for(
    ctx: RequestContext, *, person_id: str, after: str | None = None, limit: int = PAGE_SIZE
) -> core.DocumentPage:
    """A page of the documents of a person the actor may list (newest first); 404 otherwise."""
    person = listed_person(ctx, person_id)
    return core.page_documents(ctx.session, ctx.keyring, person, after=after, limit=limit)


def listed_person(ctx: RequestContext, person_id: str) -> Person:
    """The person whose papers the actor may list, the listing on their log; else a 404."""
    person, decision = require_person(ctx, Action.PERSON_LIST_DOCUMENTS, person_id)
    # One record per list shown (not one per row): the person's log stays readable. It is
    # committed before any title is decrypted.
    record_read(ctx, Action.PERSON_LIST_DOCUMENTS, decision, person.id)
    return person


def find_document_for(
    ctx: RequestContext, document_id: str, *, in_trash: bool = False
) -> Document | None:
    """The document on this side of the trash, or None: the other side answers as missing."""
    document = core.find_document(ctx.session, document_id)
    if document is not None and (document.deleted_at is not None) != in_trash:
        return None
    return document


def readers_of_papers(
    ctx: RequestContext, *, person_id: str, papers: list[DocumentView]
) -> dict[str, int]:
    """How many professionals may open each of these papers of the person, now."""
    person, _ = require_person(ctx, Action.PERSON_LIST_DOCUMENTS, person_id)
    found = readers_by_document(
        ctx.session, person.id, [(paper.id, paper.category) for paper in papers], ctx.clock()
    )
    return {document_id: len(members) for document_id, members in found.items()}


def upload_document_for(
    ctx: RequestContext,
    *,
    person_id: str,
    upload: UploadRequest,
) -> DocumentView:
    """Upload into a person's locker if the actor may; all-or-nothing, audited."""
    person, decision = require_person(ctx, Action.PERSON_UPLOAD, person_id)
    return core.upload_document(
        ctx.session,
        ctx.store,
        ctx.keyring,
        ctx.clock,
        actor=acting_as(decision, ctx.actor, person.id),
        person=person,
        upload=upload,
    )


def describe_document_for(ctx: RequestContext, *, document_id: str) -> DocumentView:
    """A document's description (title included) if the actor may see it; 404 otherwise."""
    # A document in the trash is described only by the trash listing.
    document = find_document_for(ctx, document_id)
    decision = require(ctx, Action.DOCUMENT_DESCRIBE, document)
    assert document is not None
    return _described(ctx, decision, document)


def _described(
    ctx: RequestContext,
    decision: Decision,
    document: Document,
) -> DocumentView:
    """The description, once a reader other than the person is on the log (committed)."""
    record_read(ctx, Action.DOCUMENT_DESCRIBE, decision, document.person_id, document.id)
    return core.describe_document(ctx.session, ctx.keyring, document)


# What reading each part of a document is recorded as: the person's log tells a paper
# looked at on screen ("preview") from one taken away ("content").
PART_ACTIONS = {
    "content": Action.DOCUMENT_READ,
    "thumbnail": Action.DOCUMENT_THUMBNAIL,
    "preview": Action.DOCUMENT_PREVIEW,
}


def open_document_for(
    ctx: RequestContext,
    *,
    document_id: str,
    part: str = "content",
    limits: SanitizeLimits | None = None,
) -> OpenedDocument:
    """The plaintext of a document (or its thumbnail, or its preview, drawn within
    `limits` if it has none yet), through the core's one door."""
    actor = ctx.actor
    action = PART_ACTIONS.get(part, Action.DOCUMENT_READ)
    document = core.find_document(ctx.session, document_id)
    decision = deny("not_found")  # the door records an unknown id itself
    if document is not None:  # under a mandate, the log records both identities
        decision = decide(ctx.session, actor, action, document, now=ctx.clock())
        actor = acting_as(decision, actor, document.person_id)
    return core.open_document(
        ctx.acting(actor),
        document_id=document_id,
        decision=decision,
        action=action,
        part=part,
        limits=limits,
    )


def delete_document_for(ctx: RequestContext, *, document_id: str) -> None:
    """Delete a document if the actor may; 404 otherwise (recorded either way)."""
    document = core.find_document(ctx.session, document_id)
    decision = require(ctx, Action.DOCUMENT_DELETE, document)
    assert document is not None
    core.delete_document(
        ctx.session,
        ctx.store,
        ctx.clock,
        actor=ctx.actor,
        document=document,
        reason=decision.reason,
    )


# `valid_until` left as it is (None clears the date).
UNCHANGED = object()


def edit_document_for(
    ctx: RequestContext,
    *,
    document_id: str,
    title: str | None = None,
    category: str | None = None,
    valid_until: date | object | None = UNCHANGED,
) -> DocumentView:
    """Rename, re-file and/or re-date a document if the actor may organise it; 404 otherwise.

    Each change asks the policy for its own action, so a refusal names exactly what was
    refused in the log; the caller commits.
    """
    document = find_document_for(ctx, document_id)  # one in the trash: restore it first
    if title is not None:
        decision = require(ctx, Action.DOCUMENT_RENAME, document)
        assert document is not None
        rename_document(
            ctx.session,
            ctx.keyring,
            ctx.clock,
            actor=acting_as(decision, ctx.actor, document.person_id),
            document=document,
            title=title,
            reason=decision.reason,
        )
    if category is not None:
        moved = (
            decide_move(ctx.session, ctx.actor, document, category, now=ctx.clock())
            if document is not None and isinstance(category, str)
            else None
        )
        decision = require(ctx, Action.DOCUMENT_CATEGORISE, document, moved)
        assert document is not None
        categorise_document(
            ctx.session,
            ctx.clock,
            actor=acting_as(decision, ctx.actor, document.person_id),
            document=document,
            category=category,
            reason=decision.reason,
        )
    if valid_until is not UNCHANGED:
        decision = require(ctx, Action.DOCUMENT_VALIDITY, document)
        assert document is not None and (valid_until is None or isinstance(valid_until, date))
        date_document(
            ctx.session,
            ctx.clock,
            actor=acting_as(decision, ctx.actor, document.person_id),
            document=document,
            valid_until=valid_until,
            reason=decision.reason,
        )
    if title is None and category is None and valid_until is UNCHANGED:
        decision = require(ctx, Action.DOCUMENT_DESCRIBE, document)
        assert document is not None
        return _described(ctx, decision, document)
    assert document is not None
    return core.describe_document(ctx.session, ctx.keyring, document)
