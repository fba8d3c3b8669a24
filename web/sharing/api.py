"""The sharing part of the JSON API: members, referent, grants, mandates, recovery.

Only the named fields of a body are read: `owner`, `role`, `person_id`... are ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.datastructures import FileStorage

from locker.errors import InvalidInput
from sharing import grants, mandates, members, notices, professionals, recovery
from sharing.grants import GrantView
from sharing.mandates import MandateView
from sharing.members import MemberView
from web.auth import api_auth
from web.context import db, request_context, services
from web.documents.uploads import upload_request
from web.errors import error_response
from web.json_body import json_object, text_field
from web.responses import document_json
from web.throttle import redeem_with_throttle

api = Blueprint("sharing_api", __name__, url_prefix="/api/v1")


def _body() -> dict[str, Any]:
    return json_object() or {}


def _expiry(body: dict[str, Any]) -> datetime | None:
    value = body.get("expires_at")
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput("expires_at", field="expires_at")
    return parsed


def member_json(view: MemberView) -> dict[str, Any]:
    """The public shape of a list entry."""
    return {
        "id": view.id,
        "professional_id": view.professional_id,
        "display_name": view.display_name,
        "organization": view.organization,
        "mission": view.mission,
        "status": view.status,
        "referent": view.referent,
    }


def grant_json(view: GrantView) -> dict[str, Any]:
    """The public shape of a grant."""
    return {
        "id": view.id,
        "member_id": view.member_id,
        "document_id": view.document_id,
        "category": view.category,
        "origin": view.origin,
        "created_at": view.created_at.isoformat(),
        "expires_at": view.expires_at.isoformat() if view.expires_at else None,
        "live": view.live,
    }


def mandate_json(view: MandateView) -> dict[str, Any]:
    """The public shape of a mandate."""
    return {
        "id": view.id,
        "member_id": view.member_id,
        "scopes": view.scopes,
        "created_at": view.created_at.isoformat(),
        "expires_at": view.expires_at.isoformat(),
        "live": view.live,
    }


def _member_out(person_id: str, member_id: str) -> dict[str, Any]:
    found = [m for m in members.member_views(db(), person_id) if m.id == member_id]
    return member_json(found[0])


@api.get("/persons/<person_id>/members")
@api_auth
def list_members(person_id: str) -> Any:
    views = members.list_members(request_context(), person_id=person_id)
    return jsonify([member_json(v) for v in views])


@api.post("/persons/<person_id>/members")
@api_auth
def add_member(person_id: str) -> Any:
    body = _body()
    member = members.add_member(
        request_context(),
        person_id=person_id,
        professional_code=text_field(body, "professional_code") or "",
        mission=text_field(body, "mission") or "",
    )
    db().commit()
    return jsonify(_member_out(member.person_id, member.id)), 201


@api.post("/persons/<person_id>/members/<member_id>/accept")
@api_auth
def accept_member(person_id: str, member_id: str) -> Any:
    member = members.accept_member(request_context(), person_id=person_id, member_id=member_id)
    db().commit()
    return jsonify(_member_out(member.person_id, member.id))


@api.delete("/persons/<person_id>/members/<member_id>")
@api_auth
def remove_member(person_id: str, member_id: str) -> Any:
    members.remove_member(request_context(), person_id=person_id, member_id=member_id)
    db().commit()
    return "", 204


@api.put("/persons/<person_id>/referent")
@api_auth
def set_referent(person_id: str) -> Any:
    body = json_object()
    if not isinstance(body, dict) or "member_id" not in body:
        return error_response("bad_request", 400)
    member_id = body["member_id"]
    if member_id is not None and not isinstance(member_id, str):
        return error_response("bad_request", 400)
    members.set_referent(request_context(), person_id=person_id, member_id=member_id)
    db().commit()
    return jsonify({"member_id": member_id})


@api.post("/join-requests")
@api_auth
def request_to_join() -> Any:
    body = _body()
    members.request_to_join(
        request_context(),
        username=text_field(body, "username") or "",
        mission=text_field(body, "mission") or "",
    )
    db().commit()
    return jsonify({"status": "sent"}), 202


@api.get("/documents/<document_id>/grants")
@api_auth
def list_document_grants(document_id: str) -> Any:
    views = grants.list_document_grants(request_context(), document_id=document_id)
    return jsonify([grant_json(v) for v in views])


@api.post("/documents/<document_id>/grants")
@api_auth
def create_grant(document_id: str) -> Any:
    body, found = _body(), services()
    grant = grants.create_grant(
        request_context(),
        document_id=document_id,
        member_id=body.get("member_id"),
        expires_at=_expiry(body),
    )
    db().commit()
    return jsonify(grant_json(grants.grant_view(grant, found.clock()))), 201


@api.get("/persons/<person_id>/grants")
@api_auth
def list_person_grants(person_id: str) -> Any:
    views = grants.list_person_grants(request_context(), person_id=person_id)
    return jsonify([grant_json(v) for v in views])


@api.post("/persons/<person_id>/grants")
@api_auth
def create_category_grant(person_id: str) -> Any:
    body, found = _body(), services()
    grant = grants.create_category_grant(
        request_context(),
        person_id=person_id,
        member_id=body.get("member_id"),
        category=body.get("category"),
        expires_at=_expiry(body),
    )
    db().commit()
    return jsonify(grant_json(grants.grant_view(grant, found.clock()))), 201


@api.delete("/grants/<grant_id>")
@api_auth
def revoke_grant(grant_id: str) -> Any:
    grants.revoke_grant(request_context(), grant_id=grant_id)
    db().commit()
    return "", 204


@api.get("/professionals/me/persons")
@api_auth
def my_persons() -> Any:
    rows = professionals.my_persons(request_context())
    return jsonify(
        [
            {
                "person_id": row.person_id,
                "display_name": row.display_name,
                "member_id": row.member_id,
                "mission": row.mission,
                "status": row.status,
                "referent": row.referent,
                "documents": [document_json(v) for v in row.documents],
            }
            for row in rows
        ]
    )


@api.post("/persons/<person_id>/deposits")
@api_auth
def deposit_document(person_id: str) -> Any:
    upload = request.files.get("file")
    if not isinstance(upload, FileStorage):
        return error_response("no_file", 422)
    view = professionals.deposit_document(
        request_context(),
        person_id=person_id,
        upload=upload_request(
            [upload], request.form.get("title", ""), request.form.get("category", "other")
        ),
    )
    db().commit()
    return jsonify(document_json(view)), 201


@api.get("/persons/<person_id>/mandates")
@api_auth
def list_mandates(person_id: str) -> Any:
    views = mandates.list_mandates(request_context(), person_id=person_id)
    return jsonify([mandate_json(v) for v in views])


@api.post("/persons/<person_id>/mandates")
@api_auth
def create_mandate(person_id: str) -> Any:
    body, found = _body(), services()
    mandate = mandates.create_mandate(
        request_context(),
        person_id=person_id,
        member_id=body.get("member_id"),
        scopes=body.get("scopes"),
        duration=body.get("duration"),
        password=text_field(body, "password") or "",
    )
    db().commit()
    return jsonify(mandate_json(mandates.mandate_view(mandate, found.clock()))), 201


@api.post("/persons/<person_id>/desk-mandates")
@api_auth
def create_mandate_at_desk(person_id: str) -> Any:
    body, found = _body(), services()
    mandate = mandates.create_mandate_at_desk(
        request_context(),
        person_id=person_id,
        scopes=body.get("scopes"),
        duration=body.get("duration"),
        username=text_field(body, "username") or "",
        password=text_field(body, "password") or "",
    )
    db().commit()
    return jsonify(mandate_json(mandates.mandate_view(mandate, found.clock()))), 201


@api.delete("/mandates/<mandate_id>")
@api_auth
def revoke_mandate(mandate_id: str) -> Any:
    mandates.revoke_mandate(request_context(), mandate_id=mandate_id)
    db().commit()
    return "", 204


@api.post("/persons/<person_id>/recovery-codes")
@api_auth
def issue_recovery_code(person_id: str) -> Any:
    code, expires_at = recovery.issue_recovery_code(request_context(), person_id=person_id)
    db().commit()
    return jsonify({"code": code, "expires_at": expires_at.isoformat()}), 201


@api.post("/persons/<person_id>/recovery-card")
@api_auth
def print_recovery_card(person_id: str) -> Any:
    codes = recovery.print_recovery_card(request_context(), person_id=person_id)
    db().commit()
    return jsonify({"codes": codes}), 201


@api.post("/recovery")
def redeem_recovery_code() -> Any:
    body = _body()
    redeem_with_throttle(
        text_field(body, "username") or "",
        text_field(body, "code") or "",
        text_field(body, "new_password") or "",
    )
    return "", 204


@api.get("/persons/<person_id>/notices")
@api_auth
def list_notices(person_id: str) -> Any:
    resets, deposits = notices.person_notices(request_context(), person_id=person_id)
    return jsonify(
        {
            "password_resets": [
                {
                    "id": r.id,
                    "at": r.at.isoformat(),
                    "locked_until": r.locked_until.isoformat() if r.locked_until else None,
                    "disputed": r.disputed,
                    "by": r.by,
                    "organization": r.organization,
                    "kind": r.kind,
                }
                for r in resets
            ],
            "deposits": [
                {"member_id": d.member_id, "document_id": d.document_id} for d in deposits
            ],
        }
    )


@api.post("/persons/<person_id>/notices/<notice_id>/not-me")
@api_auth
def dispute_reset(person_id: str, notice_id: str) -> Any:
    # The person must name their own account and a reset of it (else 404, recorded).
    notices.person_notices(request_context(), person_id=person_id)
    recovery.dispute_reset(request_context(), notice_id=notice_id)
    db().commit()
    return "", 204
