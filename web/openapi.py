"""The OpenAPI 3.1 description of /api/v1.

Written by hand on purpose: it is the stable contract integrations rely on, so it changes
only when we decide it does; a test checks that every API route appears here and that
every path here is served.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from locker.documents import CATEGORIES
from web.api_doc import DOCUMENT, NOT_FOUND, UNAUTHORIZED, error, json_answer
from web.audit.openapi import audit_paths
from web.documents.openapi import uploads_paths
from web.sharing.openapi import sharing_paths

BAD_REQUEST = error("A body or query the route cannot read, or text with a NUL byte")
PERSON_ID = {"name": "person_id", "in": "path", "required": True, "schema": {"type": "string"}}
DOCUMENT_ID = {"name": "document_id", "in": "path", "required": True, "schema": {"type": "string"}}


def openapi_document() -> dict[str, Any]:
    """The whole description, as a JSON-ready dict (core paths plus each feature's own)."""
    document = _core_document()
    for feature_paths in FEATURE_PATHS:
        for path, item in feature_paths().items():
            assert path not in document["paths"], f"{path} described twice"
            document["paths"][path] = item
    for item in document["paths"].values():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            # Every route refuses a body or a query it cannot read (bad JSON, a NUL byte,
            # a value of the wrong kind) with 400; a route that needs a token, a request
            # without a valid one with 401.
            responses = operation["responses"]
            responses.setdefault("400", BAD_REQUEST)
            if operation.get("security", document["security"]):
                responses.setdefault("401", UNAUTHORIZED)
    return document


# Each feature module describes its own routes next to them and is listed here.
FEATURE_PATHS: list[Callable[[], dict[str, Any]]] = []
FEATURE_PATHS.append(sharing_paths)
FEATURE_PATHS.append(audit_paths)
FEATURE_PATHS.append(uploads_paths)


def _core_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Digital locker API",
            "version": "1",
            "description": "Encrypted papers of people without a home, shared on their terms.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string", "description": "stable code"},
                        "message": {"type": "string", "description": "in the caller's language"},
                    },
                },
                "Document": {
                    "type": "object",
                    "required": ["id", "title", "category", "content_type", "size", "created_at"],
                    "properties": {
                        "id": {"type": "string"},
                        "person_id": {"type": "string"},
                        "title": {"type": "string"},
                        "filename": {"type": "string"},
                        "category": {
                            "type": "string",
                            "enum": list(CATEGORIES),
                        },
                        "content_type": {"type": "string"},
                        "size": {"type": "integer"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "page_count": {"type": "integer"},
                        "valid_until": {"type": ["string", "null"], "format": "date"},
                        "has_thumbnail": {"type": "boolean"},
                        "deleted_at": {"type": ["string", "null"], "format": "date-time"},
                    },
                },
            },
        },
        "paths": {
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI document"}},
                }
            },
            "/auth/token": {
                "post": {
                    "summary": "Sign in and get a bearer token",
                    "security": [],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["password"],
                                    "properties": {
                                        "username": {"type": "string"},
                                        "email": {"type": "string"},
                                        "password": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": json_answer(
                            "A new token",
                            {
                                "type": "object",
                                "required": ["token", "expires_at"],
                                "properties": {
                                    "token": {"type": "string"},
                                    "expires_at": {"type": "string", "format": "date-time"},
                                },
                            },
                        ),
                        "400": error("Malformed body"),
                        "401": error("Wrong credentials (same answer whichever part)"),
                        "429": error(
                            "Too many failed sign-ins for this account or from this address "
                            "(10 per account, 50 per address, in 15 minutes)"
                        ),
                    },
                },
                "delete": {
                    "summary": "Revoke the token used for this request",
                    "responses": {"204": {"description": "Revoked"}, "401": UNAUTHORIZED},
                },
            },
            "/me": {
                "get": {
                    "summary": "Who I am",
                    "responses": {
                        "200": json_answer(
                            "The signed-in account",
                            {
                                "type": "object",
                                "required": ["id", "kind"],
                                "properties": {
                                    "id": {"type": "string"},
                                    "kind": {"type": "string", "enum": ["person", "professional"]},
                                    "display_name": {"type": "string"},
                                    "username": {"type": "string"},
                                    "email": {"type": "string"},
                                    "organization_id": {"type": "string"},
                                    "role": {"type": "string"},
                                    "share_code": {"type": ["string", "null"]},
                                    # Someone else chose the password: until the person
                                    # changes it, every other route answers 403
                                    # {"error": "password_change_required"}.
                                    "must_change_password": {"type": "boolean"},
                                },
                            },
                        ),
                        "401": UNAUTHORIZED,
                    },
                }
            },
            "/me/password": {
                "post": {
                    "summary": "Change my own password; every other session and token ends "
                    "(not this one). A person's recovery card shown at account creation "
                    "stops working: print a new one with POST /persons/{id}/recovery-card",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["current_password", "new_password"],
                                    "properties": {
                                        "current_password": {"type": "string"},
                                        "new_password": {"type": "string", "minLength": 8},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "204": {"description": "Changed"},
                        "400": error("Missing field"),
                        "401": UNAUTHORIZED,
                        "403": error("The current password is wrong"),
                        "422": error("The new password is too short or the current one"),
                        "429": error("Too many wrong passwords lately"),
                    },
                }
            },
            "/persons": {
                "post": {
                    "summary": "A professional creates a person's account",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["username", "display_name", "password"],
                                    "properties": {
                                        "username": {"type": "string"},
                                        "display_name": {"type": "string"},
                                        "password": {"type": "string", "minLength": 8},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": json_answer(
                            "Created",
                            {
                                "type": "object",
                                "required": ["id", "username", "recovery_codes"],
                                "properties": {
                                    "id": {"type": "string"},
                                    "username": {"type": "string"},
                                    # The person's recovery card, shown once (kept hashed).
                                    "recovery_codes": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                    },
                                },
                            },
                        ),
                        "400": error("Malformed body"),
                        "401": UNAUTHORIZED,
                        "403": error("Only professionals create persons"),
                        "409": error("Username taken"),
                        "422": error("A field is not valid"),
                    },
                }
            },
            "/persons/{person_id}/documents": {
                "parameters": [PERSON_ID],
                "get": {
                    "summary": "The person's documents, newest first",
                    "responses": {
                        "200": json_answer("Documents", {"type": "array", "items": DOCUMENT}),
                        "401": UNAUTHORIZED,
                        "404": NOT_FOUND,
                    },
                },
                "post": {
                    "summary": "Upload a document (type decided from the bytes)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {
                                        "file": {
                                            "description": "one file, or several photos "
                                            "(repeat the part) that become one PDF",
                                            "oneOf": [
                                                {"type": "string", "format": "binary"},
                                                {
                                                    "type": "array",
                                                    "items": {"type": "string", "format": "binary"},
                                                },
                                            ],
                                        },
                                        "title": {"type": "string"},
                                        "category": {"type": "string"},
                                        "valid_until": {"type": "string", "format": "date"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": json_answer("Stored", DOCUMENT),
                        "401": UNAUTHORIZED,
                        "404": NOT_FOUND,
                        "413": error("Too large, or over the person's quota"),
                        "415": error("Not an accepted kind of file, or bytes and parse disagree"),
                        "422": error("Empty, damaged, encrypted or too complex file"),
                        "503": error("Storage unavailable: nothing was stored, try again"),
                    },
                },
            },
            "/documents/{document_id}": {
                "parameters": [DOCUMENT_ID],
                "get": {
                    "summary": "A document's description",
                    "responses": {
                        "200": json_answer("The document", DOCUMENT),
                        "401": UNAUTHORIZED,
                        "404": NOT_FOUND,
                    },
                },
                "patch": {
                    "summary": "Rename and/or re-file a document (owner, or a helper with "
                    "the organise scope)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "title": {"type": "string", "maxLength": 200},
                                        "category": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": json_answer("The document as it is now", DOCUMENT),
                        "400": error("Malformed body"),
                        "401": UNAUTHORIZED,
                        "404": NOT_FOUND,
                        "422": error("Empty or too long title, unknown category"),
                    },
                },
                "delete": {
                    "summary": "Move a document to the trash (restorable for 30 days)",
                    "responses": {
                        "204": {"description": "In the trash"},
                        "401": UNAUTHORIZED,
                        "404": NOT_FOUND,
                    },
                },
            },
            "/documents/{document_id}/content": {
                "parameters": [DOCUMENT_ID],
                "get": {
                    "summary": "The document's bytes (recorded in the access log first)",
                    "responses": {
                        "200": {
                            "description": "Authenticated plaintext, as an attachment",
                            "content": {"application/octet-stream": {}},
                        },
                        "401": UNAUTHORIZED,
                        "404": NOT_FOUND,
                        "502": error("The stored object failed authentication"),
                        "503": error("Audit log or storage unavailable: no bytes"),
                    },
                },
            },
        },
    }


if __name__ == "__main__":
    # The committed copy (web/openapi.json), which a test keeps equal to this.
    import json

    print(json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True))
