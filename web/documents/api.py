"""The documents part of the JSON API: a person's papers, their content, thumbnail and trash."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from sharing import documents as docs
from sharing.trash import list_trash_for, restore_document_for, trash_document_for
from web.auth import api_auth
from web.context import db, request_context
from web.documents.uploads import upload_request, uploaded_files
from web.errors import error_response
from web.json_body import json_object, text_field
from web.responses import document_json, document_response

api = Blueprint("documents_api", __name__, url_prefix="/api/v1")


@api.get("/persons/<person_id>/documents")
@api_auth
def list_documents(person_id: str) -> Any:
    views = docs.list_documents_for(request_context(), person_id=person_id)
    return jsonify([document_json(v) for v in views])


@api.post("/persons/<person_id>/documents")
@api_auth
def upload_document(person_id: str) -> Any:
    files = uploaded_files(request.files)
    if not files:
        return error_response("no_file", 422)
    form = request.form
    upload = upload_request(
        files, form.get("title", ""), form.get("category", "other"), form.get("valid_until")
    )
    view = docs.upload_document_for(request_context(), person_id=person_id, upload=upload)
    return jsonify(document_json(view)), 201


@api.get("/documents/<document_id>")
@api_auth
def get_document(document_id: str) -> Any:
    view = docs.describe_document_for(request_context(), document_id=document_id)
    return jsonify(document_json(view))


@api.get("/documents/<document_id>/content")
@api_auth
def get_document_content(document_id: str) -> Response:
    opened = docs.open_document_for(request_context(), document_id=document_id)
    return document_response(opened)


@api.delete("/documents/<document_id>")
@api_auth
def delete_document(document_id: str) -> Any:
    # Deleting moves to the trash: restorable for 30 days, then purged.
    trash_document_for(request_context(), document_id=document_id)
    return "", 204


@api.patch("/documents/<document_id>")
@api_auth
def edit_document(document_id: str) -> Any:
    body = json_object()
    if body is None:
        return error_response("bad_request", 400)
    # Only `title` and `category` are read; `owner`, `person_id`... in the body are ignored.
    view = docs.edit_document_for(
        request_context(),
        document_id=document_id,
        title=text_field(body, "title"),
        category=text_field(body, "category"),
    )
    db().commit()
    return jsonify(document_json(view))


@api.get("/documents/<document_id>/thumbnail")
@api_auth
def get_thumbnail(document_id: str) -> Response:
    opened = docs.open_document_for(request_context(), document_id=document_id, part="thumbnail")
    return document_response(opened, inline=True)


@api.get("/persons/<person_id>/trash")
@api_auth
def list_trash(person_id: str) -> Any:
    views = list_trash_for(request_context(), person_id=person_id)
    return jsonify([document_json(v) for v in views])


@api.post("/documents/<document_id>/restore")
@api_auth
def restore_document(document_id: str) -> Any:
    restore_document_for(request_context(), document_id=document_id)
    return "", 204
