"""OpenAPI paths of the audit-log routes (web/audit/api.py), merged by web/openapi.py."""

from __future__ import annotations

from typing import Any

from web.api_doc import NOT_FOUND, UNAUTHORIZED, error, json_answer

S = {"type": "string"}
B64 = {"type": "string", "contentEncoding": "base64"}
NULLABLE = {"type": ["string", "null"]}


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/plain": {"schema": S}}}


def _query(name: str, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": "integer"}}


BAD = error("A parameter is missing or not a whole number")
ENTRY = {
    "type": "object",
    "required": ["seq", "at", "action", "actor", "on_behalf_of", "document_id", "outcome"],
    "properties": {
        "seq": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "action": S,
        "actor": {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": S, "name": NULLABLE, "organization": NULLABLE, "id": NULLABLE},
        },
        "on_behalf_of": NULLABLE,
        "document_id": NULLABLE,
        "person_id": NULLABLE,
        "outcome": {"type": "string", "enum": ["allowed", "denied"]},
    },
}
PAGE = [_query("before", False), _query("limit", False)]
PUBLIC: list[dict[str, list[str]]] = []  # no token needed: no record content is shown


def audit_paths() -> dict[str, Any]:
    """The audit routes' descriptions (stable interface: outside verifiers rely on it)."""
    return {
        "/audit/checkpoint": {
            "get": {
                "summary": "The latest signed checkpoint (C2SP tlog-checkpoint signed note)",
                "security": PUBLIC,
                "responses": {"200": _text("origin, tree size, base64 root, blank, signature")},
            }
        },
        "/audit/public-key": {
            "get": {
                "summary": "The C2SP verifier key: <name>+<hex key hash>+<base64(0x01 ‖ key)>",
                "security": PUBLIC,
                "responses": {"200": _text("the verifier key")},
            }
        },
        "/audit/proofs/inclusion": {
            "get": {
                "summary": "RFC 9162 inclusion proof of one record (auditor or its person)",
                "parameters": [_query("index"), _query("tree_size")],
                "responses": {
                    "200": json_answer(
                        "The record's canonical bytes, leaf hash and inclusion path",
                        {
                            "type": "object",
                            "required": ["leaf", "leaf_hash", "hashes"],
                            "properties": {
                                "leaf": B64,
                                "leaf_hash": B64,
                                "hashes": {"type": "array", "items": B64},
                            },
                        },
                    ),
                    "400": BAD,
                    "401": UNAUTHORIZED,
                    "404": NOT_FOUND,
                },
            }
        },
        "/audit/proofs/consistency": {
            "get": {
                "summary": "RFC 9162 consistency proof between two tree sizes",
                "security": PUBLIC,
                "parameters": [_query("first"), _query("second")],
                "responses": {
                    "200": json_answer(
                        "The consistency proof",
                        {
                            "type": "object",
                            "required": ["hashes"],
                            "properties": {"hashes": {"type": "array", "items": B64}},
                        },
                    ),
                    "400": BAD,
                    "404": error("A size is beyond the tree"),
                },
            }
        },
        "/persons/{person_id}/access-log": {
            "get": {
                "summary": "Who did what to the person's papers, newest first (the person only)",
                "parameters": [
                    {"name": "person_id", "in": "path", "required": True, "schema": S},
                    {"name": "document_id", "in": "query", "required": False, "schema": S},
                    *PAGE,
                ],
                "responses": {
                    "200": json_answer("Entries, newest first", {"type": "array", "items": ENTRY}),
                    "401": UNAUTHORIZED,
                    "404": NOT_FOUND,
                },
            }
        },
        "/audit/my-actions": {
            "get": {
                "summary": "A professional's own recorded actions, newest first (ids only)",
                "parameters": PAGE,
                "responses": {
                    "200": json_answer("Entries, newest first", {"type": "array", "items": ENTRY}),
                    "401": UNAUTHORIZED,
                    "403": error("Not a professional"),
                },
            }
        },
        "/audit/export": {
            "get": {
                "summary": "The whole log for an auditor, as JSON or CSV (ids only, no content)",
                "parameters": [
                    {
                        "name": "format",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["json", "csv"]},
                    },
                    _query("start", False),
                    _query("end", False),
                ],
                "responses": {
                    "200": {
                        "description": "Records in leaf order",
                        "content": {"application/json": {}, "text/csv": {}},
                    },
                    "401": UNAUTHORIZED,
                    "403": error("Not an auditor"),
                },
            }
        },
    }
