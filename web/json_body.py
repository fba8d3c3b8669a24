"""Text no database can store, refused before any view reads a query, a form or a JSON body."""

from __future__ import annotations

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


def check_form_text() -> None:
    """InvalidText when a query parameter, form field or JSON body (names or values) holds
    such text: PostgreSQL would refuse it deep in a service, as a server error."""
    fields = [*request.args.items(multi=True)]
    if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        fields += request.form.items(multi=True)
    if not _valid([text for pair in fields for text in pair]):
        raise InvalidText()
    if request.is_json and not _valid(request.get_json(silent=True)):
        raise InvalidText()
