"""OpenAPI description of the uploads feature's routes (thumbnails, trash)."""

from __future__ import annotations

from typing import Any


def uploads_paths() -> dict[str, Any]:
    """OpenAPI paths of these routes (appended to FEATURE_PATHS)."""
    document_id = {
        "name": "document_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
    not_found = {"404": {"description": "No such document, or not yours (same answer)"}}
    return {
        "/documents/{document_id}/thumbnail": {
            "get": {
                "summary": "A small JPEG of the document (first page), decrypted on the fly",
                "parameters": [document_id],
                "responses": {
                    "200": {
                        "description": "The thumbnail",
                        "content": {"image/jpeg": {"schema": {"type": "string"}}},
                    },
                    **not_found,
                },
            }
        },
        "/documents/{document_id}/restore": {
            "post": {
                "summary": "Take a document out of the trash (within 30 days of deleting it)",
                "parameters": [document_id],
                "responses": {"204": {"description": "Restored"}, **not_found},
            }
        },
        "/persons/{person_id}/trash": {
            "get": {
                "summary": "The person's trashed documents (purged 30 days after deletion)",
                "parameters": [
                    {
                        "name": "person_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ],
                "responses": {
                    "200": {"description": "Documents, with deleted_at"},
                    "404": {"description": "No such person, or not yours"},
                },
            }
        },
    }
