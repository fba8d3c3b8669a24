"""API routes of the uploads feature: thumbnails and the trash (under /api/v1)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from sharing import documents as docs
from sharing.trash import list_trash_for, restore_document_for
from web.api import document_json
from web.auth import api_auth, current_actor
from web.context import db, services
from web.responses import document_response

api_uploads = Blueprint("api_uploads", __name__, url_prefix="/api/v1")


@api_uploads.get("/documents/<document_id>/thumbnail")
@api_auth
def get_thumbnail(document_id: str) -> Response:
    found = services()
    opened = docs.open_document_for(
        db(),
        found.session_factory,
        found.store,
        found.keyring,
        found.clock,
        actor=current_actor(),
        document_id=document_id,
        part="thumbnail",
    )
    return document_response(opened, inline=True)


@api_uploads.get("/persons/<person_id>/trash")
@api_auth
def list_trash(person_id: str) -> Any:
    found = services()
    views = list_trash_for(
        db(),
        found.session_factory,
        found.keyring,
        found.clock,
        actor=current_actor(),
        person_id=person_id,
    )
    return jsonify([document_json(v) for v in views])


@api_uploads.post("/documents/<document_id>/restore")
@api_auth
def restore_document(document_id: str) -> Any:
    found = services()
    restore_document_for(
        db(), found.session_factory, found.clock, actor=current_actor(), document_id=document_id
    )
    return "", 204
