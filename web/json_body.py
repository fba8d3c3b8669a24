"""The one way the API reads a JSON body: an object whose text is valid Unicode, or nothing."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest


class InvalidText(BadRequest):
    """A JSON body carried text no database can store (a lone surrogate, a NUL)."""


def _valid(value: object) -> bool:
    if isinstance(value, str):
        # A lone surrogate ("\ud800" in JSON) cannot be encoded; PostgreSQL refuses NUL.
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return "\x00" not in value
    if isinstance(value, dict):
        return all(_valid(key) and _valid(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_valid(item) for item in value)
    return True


def json_object() -> dict[str, Any] | None:
    """The request's JSON object, None when the body is no object; InvalidText on bad text."""
    body = request.get_json(silent=True)
    if not _valid(body):
        raise InvalidText()
    return body if isinstance(body, dict) else None
