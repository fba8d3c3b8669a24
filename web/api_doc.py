"""The pieces every domain's part of the API document is made of (web/openapi.py merges
them): references to the shared schemas, and the shapes of a JSON or error answer."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}
DOCUMENT = {"$ref": "#/components/schemas/Document"}
STRING = {"type": "string"}


def error(description: str) -> dict[str, Any]:
    """An answer with the Error body (a stable code and a message in the caller's language)."""
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def json_answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An answer with a JSON body of `schema`."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


NOT_FOUND = error("No such resource, or not yours: the same answer for both")
UNAUTHORIZED = error("Missing, expired or revoked token")
