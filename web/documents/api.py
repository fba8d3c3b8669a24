"""The documents part of the JSON API: a person's papers, their content, thumbnail,
preview and trash."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, url_for

from sharing import documents as docs
from sharing.trash import list_trash_for, restore_document_for, trash_document_for
from web.context import request_context
from web.documents.export import export_response
from web.documents.schemas import Document, Documents, DocumentsQuery, Edit, Upload
from web.documents.uploads import sanitize_limits, upload_request, uploaded_files
from web.errors import error_response
from web.openapi import MALFORMED, Answers, Error, operation
from web.responses import document_response

api = Blueprint("documents_api", __name__, url_prefix="/api/v1")
UNAUTHENTIC_OBJECT = (Error, "The stored object failed authentication")
NO_BYTES = (Error, "Audit log or storage unavailable: no bytes")


@operation(
    api.get,
    "/persons/<person_id>/documents",
    query=DocumentsQuery,
    resp=Answers(
        HTTP_200=(Documents, "A page of the documents (see `Link` for the next)"),
        HTTP_422=(Error, "`after` is not one of this person's papers"),
    ),
)
def list_documents(person_id: str, query: DocumentsQuery) -> Any:
    """The person's documents, newest first, a page at a time"""
    page = docs.page_documents_for(
        request_context(), person_id=person_id, after=query.after, limit=query.limit
    )
    headers = {}
    if page.next_after is not None:
        following = url_for(
            "documents_api.list_documents",
            person_id=person_id,
            after=page.next_after,
            limit=query.limit,
        )
        headers["Link"] = f'<{following}>; rel="next"'
    return page.documents, 200, headers


@operation(
    api.get,
    "/persons/<person_id>/export",
    fresh_factor=True,
    resp=Answers(
        HTTP_200=(
            None,
            "application/zip, streamed: every paper, their list, the access log "
            "and what verifies it, and a note in the person's language",
        ),
        HTTP_503=(Error, "Audit log unavailable: nothing is sent"),
    ),
)
def export_person(person_id: str) -> Response:
    """Everything the locker keeps for the person, in one ZIP (the person, or a helper
    under a mandate with the scope "export")"""
    return export_response(person_id)


# The file streams into private storage as it arrives (uploads.py): no schema reads it here.
@operation(
    api.post,
    "/persons/<person_id>/documents",
    form=Upload,
    fresh_factor=True,
    skip_validation=True,
    resp=Answers(
        HTTP_201=(Document, "Stored"),
        HTTP_413=(Error, "Too large, or over the person's quota"),
        HTTP_415=(Error, "Not an accepted kind of file, or bytes and parse disagree"),
        HTTP_422=(Error, "Empty, damaged, encrypted or too complex file"),
        HTTP_503=(Error, "Storage unavailable: nothing was stored, try again"),
    ),
)
def upload_document(person_id: str) -> Any:
    """Upload a document (type decided from the bytes)"""
    files = uploaded_files(request.files)
    if not files:
        return error_response("no_file", 422)
    form = request.form
    upload = upload_request(
        files, form.get("title", ""), form.get("category", "other"), form.get("valid_until")
    )
    view = docs.upload_document_for(request_context(), person_id=person_id, upload=upload)
    # Shaped here: this route skips spectree's checks, which would otherwise shape it.
    return Document.model_validate(view), 201


@operation(api.get, "/documents/<document_id>", resp=Answers(HTTP_200=(Document, "The document")))
def get_document(document_id: str) -> Any:
    """A document's description"""
    return docs.describe_document_for(request_context(), document_id=document_id)


@operation(
    api.get,
    "/documents/<document_id>/content",
    resp=Answers(
        HTTP_200=(None, "Authenticated plaintext, as an attachment"),
        HTTP_502=UNAUTHENTIC_OBJECT,
        HTTP_503=NO_BYTES,
    ),
)
def get_document_content(document_id: str) -> Response:
    """The document's bytes (recorded in the access log first)"""
    return document_response(docs.open_document_for(request_context(), document_id=document_id))


@operation(api.delete, "/documents/<document_id>", resp=Answers(HTTP_204=(None, "In the trash")))
def delete_document(document_id: str) -> Any:
    """Move a document to the trash (restorable for 30 days)"""
    trash_document_for(request_context(), document_id=document_id)
    return "", 204


@operation(
    api.patch,
    "/documents/<document_id>",
    resp=Answers(
        HTTP_200=(Document, "The document as it is now"),
        HTTP_400=MALFORMED,
        HTTP_422=(Error, "Empty or too long title, unknown category, implausible date"),
    ),
)
def edit_document(document_id: str, json: Edit) -> Any:
    """Rename, re-file and/or re-date a document (owner, or a helper with the organise scope)"""
    dated = "valid_until" in json.model_fields_set
    return docs.edit_document_for(
        request_context(),
        document_id=document_id,
        title=json.title,
        category=json.category,
        valid_until=json.valid_until if dated else docs.UNCHANGED,
    )


@operation(
    api.get,
    "/documents/<document_id>/thumbnail",
    resp=Answers(HTTP_200=(None, "The thumbnail, a JPEG")),
)
def get_thumbnail(document_id: str) -> Response:
    """A small JPEG of the document (first page), decrypted on the fly"""
    opened = docs.open_document_for(request_context(), document_id=document_id, part="thumbnail")
    return document_response(opened, inline=True)


@operation(
    api.get,
    "/documents/<document_id>/preview",
    resp=Answers(
        HTTP_200=(None, "The preview, a JPEG at most 1600 px on its long side, shown inline"),
        HTTP_422=(Error, "No preview could be drawn from this paper's file"),
        HTTP_502=UNAUTHENTIC_OBJECT,
        HTTP_503=NO_BYTES,
    ),
)
def get_preview(document_id: str) -> Response:
    """The photo, or the PDF's first page, as an image (recorded in the access log first)"""
    opened = docs.open_document_for(
        request_context(), document_id=document_id, part="preview", limits=sanitize_limits()
    )
    return document_response(opened, inline=True)


@operation(
    api.get,
    "/persons/<person_id>/trash",
    resp=Answers(HTTP_200=(Documents, "Documents, with deleted_at")),
)
def list_trash(person_id: str) -> Any:
    """The person's trashed documents (purged 30 days after deletion)"""
    return list_trash_for(request_context(), person_id=person_id)


@operation(api.post, "/documents/<document_id>/restore", resp=Answers(HTTP_204=(None, "Restored")))
def restore_document(document_id: str) -> Any:
    """Take a document out of the trash (within 30 days of deleting it)"""
    restore_document_for(request_context(), document_id=document_id)
    return "", 204
