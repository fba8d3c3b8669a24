"""OpenAPI paths of the sharing routes (web/sharing/api.py), merged by web/openapi.py."""

from __future__ import annotations

from typing import Any

from web.api_doc import DOCUMENT, NOT_FOUND, UNAUTHORIZED, error, json_answer


def _param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _body(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


S = {"type": "string"}
DT = {"type": ["string", "null"], "format": "date-time"}
INVALID = error("A field is not valid")
MEMBER = {
    "type": "object",
    "required": ["id", "professional_id", "mission", "status", "referent"],
    "properties": {
        "id": S,
        "professional_id": S,
        "display_name": S,
        "organization": S,
        "mission": S,
        "status": {"type": "string", "enum": ["requested", "active"]},
        "referent": {"type": "boolean"},
    },
}
GRANT = {
    "type": "object",
    "required": ["id", "member_id", "origin", "live"],
    "properties": {
        "id": S,
        "member_id": S,
        "document_id": {"type": ["string", "null"]},
        "category": {"type": ["string", "null"]},
        "origin": {"type": "string", "enum": ["person", "mandate", "deposit"]},
        "created_at": {"type": "string", "format": "date-time"},
        "expires_at": DT,
        "live": {"type": "boolean"},
    },
}
MANDATE = {
    "type": "object",
    "required": ["id", "member_id", "scopes", "expires_at", "live"],
    "properties": {
        "id": S,
        "member_id": S,
        "scopes": {
            "type": "array",
            # "recovery": the helper may issue a one-time recovery code for the person.
            "items": {"enum": ["upload", "organise", "share", "view", "recovery"]},
        },
        "created_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": "string", "format": "date-time"},
        "live": {"type": "boolean"},
    },
}


def _op(summary: str, responses: dict[str, Any], body: dict[str, Any] | None = None) -> Any:
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = body
    return operation


def sharing_paths() -> dict[str, Any]:
    """The sharing routes' descriptions, keyed by path (relative to /api/v1)."""
    std = {"401": UNAUTHORIZED, "404": NOT_FOUND}
    return {
        "/persons/{person_id}/members": {
            "parameters": [_param("person_id")],
            "get": _op(
                "The person's accompaniment list (person, or helper with `share`)",
                {"200": json_answer("Members", {"type": "array", "items": MEMBER}), **std},
            ),
            "post": _op(
                "The person adds a professional by share code",
                {
                    "201": json_answer("Added", MEMBER),
                    "409": error("Already on the list"),
                    "422": INVALID,
                    **std,
                },
                _body(["professional_code"], {"professional_code": S, "mission": S}),
            ),
        },
        "/persons/{person_id}/members/{member_id}": {
            "parameters": [_param("person_id"), _param("member_id")],
            "delete": _op(
                "The person removes a member (or refuses a request), or the professional "
                "leaves; every grant and mandate of theirs ends",
                {"204": {"description": "Removed"}, **std},
            ),
        },
        "/persons/{person_id}/members/{member_id}/accept": {
            "parameters": [_param("person_id"), _param("member_id")],
            "post": _op(
                "The person accepts a request to join",
                {"200": json_answer("Member", MEMBER), **std},
            ),
        },
        "/persons/{person_id}/referent": {
            "parameters": [_param("person_id")],
            "put": _op(
                "The person picks a referent among active members, or none (null)",
                {
                    "200": json_answer("Chosen", {"type": "object"}),
                    "400": error("Malformed"),
                    **std,
                },
                _body(["member_id"], {"member_id": {"type": ["string", "null"]}}),
            ),
        },
        "/join-requests": {
            "post": _op(
                "A professional asks to join a person's list (same answer whoever it names)",
                {
                    "202": json_answer("Sent", {"type": "object"}),
                    "401": UNAUTHORIZED,
                    "403": error("Not a professional"),
                },
                _body(["username"], {"username": S, "mission": S}),
            )
        },
        "/documents/{document_id}/grants": {
            "parameters": [_param("document_id")],
            "get": _op(
                "Unrevoked grants showing this document (its own and its category's)",
                {"200": json_answer("Grants", {"type": "array", "items": GRANT}), **std},
            ),
            "post": _op(
                "Let one member see this document (person, or helper with `share`)",
                {"201": json_answer("Created", GRANT), "422": INVALID, **std},
                _body(["member_id"], {"member_id": S, "expires_at": DT}),
            ),
        },
        "/persons/{person_id}/grants": {
            "parameters": [_param("person_id")],
            "get": _op(
                "Every unrevoked grant of the person",
                {"200": json_answer("Grants", {"type": "array", "items": GRANT}), **std},
            ),
            "post": _op(
                "Share a whole category (later papers too) with one member",
                {"201": json_answer("Created", GRANT), "422": INVALID, **std},
                _body(["member_id", "category"], {"member_id": S, "category": S, "expires_at": DT}),
            ),
        },
        "/grants/{grant_id}": {
            "parameters": [_param("grant_id")],
            "delete": _op("Revoke a grant, at once", {"204": {"description": "Revoked"}, **std}),
        },
        "/professionals/me/persons": {
            "get": _op(
                "The persons whose list I am on, with the documents shared with me",
                {
                    "200": json_answer(
                        "Persons",
                        {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "person_id": S,
                                    "display_name": S,
                                    "member_id": S,
                                    "mission": S,
                                    "status": S,
                                    "referent": {"type": "boolean"},
                                    "documents": {"type": "array", "items": DOCUMENT},
                                },
                            },
                        },
                    ),
                    "401": UNAUTHORIZED,
                    "403": error("Org admins have no persons"),
                },
            )
        },
        "/persons/{person_id}/deposits": {
            "parameters": [_param("person_id")],
            "post": _op(
                "A member deposits a paper: the person's, who is told; the depositor keeps a grant",
                {
                    "201": json_answer("Stored", DOCUMENT),
                    "413": error("Too large"),
                    "415": error("Not accepted"),
                    "422": INVALID,
                    **std,
                },
                {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "title": S,
                                    "category": S,
                                },
                            }
                        }
                    },
                },
            ),
        },
        "/persons/{person_id}/mandates": {
            "parameters": [_param("person_id")],
            "get": _op(
                "The person's unrevoked mandates",
                {"200": json_answer("Mandates", {"type": "array", "items": MANDATE}), **std},
            ),
            "post": _op(
                "The person gives a member a mandate, confirmed with their own password",
                {
                    "201": json_answer("Created", MANDATE),
                    "403": error("Password not confirmed"),
                    "422": INVALID,
                    **std,
                },
                _body(
                    ["member_id", "scopes", "duration", "password"],
                    {
                        "member_id": S,
                        "scopes": MANDATE["properties"]["scopes"],  # type: ignore[index]
                        "duration": {"type": "string", "enum": ["1d", "1m", "6m", "1y"]},
                        "password": S,
                    },
                ),
            ),
        },
        "/persons/{person_id}/desk-mandates": {
            "parameters": [_param("person_id")],
            "post": _op(
                "At the helper's desk: a helper of a digital-inclusion organisation on the "
                "person's list prepares a mandate for themselves; the person, beside them, "
                "confirms by typing their own username and password (wrong: 403, recorded; "
                "too many: 429)",
                {
                    "201": json_answer("Created", MANDATE),
                    "403": error("Password not confirmed"),
                    "422": INVALID,
                    "429": error("Too many wrong passwords"),
                    **std,
                },
                _body(
                    ["scopes", "duration", "username", "password"],
                    {
                        "scopes": MANDATE["properties"]["scopes"],  # type: ignore[index]
                        "duration": {"type": "string", "enum": ["1d", "1m", "6m", "1y"]},
                        "username": S,
                        "password": S,
                    },
                ),
            ),
        },
        "/mandates/{mandate_id}": {
            "parameters": [_param("mandate_id")],
            "delete": _op(
                "The person revokes a mandate", {"204": {"description": "Revoked"}, **std}
            ),
        },
        "/persons/{person_id}/recovery-codes": {
            "parameters": [_param("person_id")],
            "post": _op(
                "The person's chosen referent, or a helper whose live mandate has the scope "
                "`recovery`, issues a one-time code (15 minutes); recorded with the issuer",
                {
                    "201": json_answer(
                        "The code (shown once)",
                        {"type": "object", "properties": {"code": S, "expires_at": DT}},
                    ),
                    **std,
                },
            ),
        },
        "/persons/{person_id}/recovery-card": {
            "parameters": [_param("person_id")],
            "post": _op(
                "The person prints a new card of single-use recovery codes (refused for 7 "
                "days after a reset by someone else's code: the card in hand stays valid)",
                {
                    "201": json_answer(
                        "The codes (shown once)",
                        {"type": "object", "properties": {"codes": {"type": "array", "items": S}}},
                    ),
                    "403": error("A reset by code less than 7 days ago: the card stays"),
                    **std,
                },
            ),
        },
        "/recovery": {
            "post": {
                **_op(
                    "Set a new password with a recovery code; every session and token ends",
                    {
                        "204": {"description": "Password set"},
                        "422": error("Wrong, used or expired code (one answer)"),
                        "429": error(
                            "Too many wrong codes lately for this username from this "
                            "address, or from this address (the same for every username)"
                        ),
                    },
                    _body(
                        ["username", "code", "new_password"],
                        {"username": S, "code": S, "new_password": S},
                    ),
                ),
                "security": [],
            }
        },
        "/persons/{person_id}/notices": {
            "parameters": [_param("person_id")],
            "get": _op(
                "Unread notices: who reset my password (and from where, when), deposits; "
                "a reset by someone else's code stays listed 7 days (`locked_until`)",
                {"200": json_answer("Notices", {"type": "object"}), **std},
            ),
        },
        "/persons/{person_id}/notices/{notice_id}/not-me": {
            "parameters": [_param("person_id"), _param("notice_id")],
            "post": _op(
                '"Ce n\'était pas moi": every session and token of the account ends (this '
                "one too) and the code's issuer may never issue one for this person again",
                {"204": {"description": "Done; sign in again"}, **std},
            ),
        },
    }
