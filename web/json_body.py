"""The one way the API reads a JSON body (an object whose text is valid Unicode, or
nothing), and the same check on form fields and query strings."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest


class InvalidText(BadRequest):
    """A body or query carried text no database can store (a lone surrogate, a NUL)."""


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


def check_form_text() -> None:
    """InvalidText when a query parameter or form field (name or value) holds such text:
    PostgreSQL would refuse it deep in a service, as a server error."""
    fields = [*request.args.items(multi=True)]
    if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        fields += request.form.items(multi=True)
    if not _valid([text for pair in fields for text in pair]):
        raise InvalidText()


def text_field(body: dict[str, Any], name: str) -> str | None:
    """The field `name` of a JSON object when it is a string, else None."""
    value = body.get(name)
    return value if isinstance(value, str) else None
