"""The sharing part of the JSON API: members, referent, grants, mandates, recovery.

Only the named fields of a body are read: `owner`, `role`, `person_id`... are ignored.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from werkzeug.datastructures import FileStorage

from sharing import grants, mandates, members, notices, professionals, recovery
from sharing.models import AccompanimentMember
from web.context import db, request_context, services
from web.documents.schemas import Document
from web.documents.uploads import upload_request
from web.errors import error_response
from web.openapi import INVALID, NOT_A_PROFESSIONAL, Answers, Error, operation
from web.sharing.schemas import (
    Deposit,
    DeskMandate,
    Grant,
    Grants,
    JoinRequest,
    Mandate,
    Mandates,
    Member,
    Members,
    MyPersons,
    NewCategoryGrant,
    NewGrant,
    NewMandate,
    NewMember,
    Notices,
    RecoveryCard,
    RecoveryCode,
    Redeem,
    Referent,
    Sent,
)
from web.throttle import redeem_with_throttle

api = Blueprint("sharing_api", __name__, url_prefix="/api/v1")
NOT_CONFIRMED = (Error, "Password not confirmed")


def _member(member: AccompanimentMember) -> Any:
    return next(m for m in members.member_views(db(), member.person_id) if m.id == member.id)


@operation(api.get, "/persons/<person_id>/members", resp=Answers(HTTP_200=(Members, "Members")))
def list_members(person_id: str) -> Any:
    """The person's accompaniment list (person, or helper with `share`)"""
    return members.list_members(request_context(), person_id=person_id)


@operation(
    api.post,
    "/persons/<person_id>/members",
    resp=Answers(
        HTTP_201=(Member, "Added"), HTTP_409=(Error, "Already on the list"), HTTP_422=INVALID
    ),
)
def add_member(person_id: str, json: NewMember) -> Any:
    """The person adds a professional by share code"""
    member = members.add_member(
        request_context(),
        person_id=person_id,
        professional_code=json.professional_code,
        mission=json.mission,
    )
    return _member(member), 201


@operation(
    api.post,
    "/persons/<person_id>/members/<member_id>/accept",
    resp=Answers(HTTP_200=(Member, "Member")),
)
def accept_member(person_id: str, member_id: str) -> Any:
    """The person accepts a request to join"""
    ctx = request_context()
    return _member(members.accept_member(ctx, person_id=person_id, member_id=member_id))


@operation(
    api.delete, "/persons/<person_id>/members/<member_id>", resp=Answers(HTTP_204=(None, "Removed"))
)
def remove_member(person_id: str, member_id: str) -> Any:
    """The person removes a member (or refuses a request), or the professional leaves; every
    grant and mandate of theirs ends"""
    members.remove_member(request_context(), person_id=person_id, member_id=member_id)
    return "", 204


@operation(
    api.put,
    "/persons/<person_id>/referent",
    resp=Answers(HTTP_200=(Referent, "Chosen"), HTTP_400=(Error, "Malformed")),
)
def set_referent(person_id: str, json: Referent) -> Any:
    """The person picks a referent among active members, or none (null)"""
    members.set_referent(request_context(), person_id=person_id, member_id=json.member_id)
    return json


@operation(
    api.post,
    "/join-requests",
    resp=Answers(HTTP_202=(Sent, "Sent"), HTTP_403=NOT_A_PROFESSIONAL),
)
def request_to_join(json: JoinRequest) -> Any:
    """A professional asks to join a person's list (same answer whoever it names)"""
    members.request_to_join(request_context(), username=json.username, mission=json.mission)
    return Sent(status="sent"), 202


@operation(api.get, "/documents/<document_id>/grants", resp=Answers(HTTP_200=(Grants, "Grants")))
def list_document_grants(document_id: str) -> Any:
    """Unrevoked grants showing this document (its own and its category's)"""
    return grants.list_document_grants(request_context(), document_id=document_id)


@operation(
    api.post,
    "/documents/<document_id>/grants",
    resp=Answers(HTTP_201=(Grant, "Created"), HTTP_422=INVALID),
)
def create_grant(document_id: str, json: NewGrant) -> Any:
    """Let one member see this document (person, or helper with `share`)"""
    grant = grants.create_grant(
        request_context(),
        document_id=document_id,
        member_id=json.member_id,
        expires_at=json.expires_at,
    )
    return grants.grant_view(grant, services().clock()), 201


@operation(api.get, "/persons/<person_id>/grants", resp=Answers(HTTP_200=(Grants, "Grants")))
def list_person_grants(person_id: str) -> Any:
    """Every unrevoked grant of the person"""
    return grants.list_person_grants(request_context(), person_id=person_id)


@operation(
    api.post,
    "/persons/<person_id>/grants",
    resp=Answers(HTTP_201=(Grant, "Created"), HTTP_422=INVALID),
)
def create_category_grant(person_id: str, json: NewCategoryGrant) -> Any:
    """Share a whole category (later papers too) with one member"""
    grant = grants.create_category_grant(
        request_context(),
        person_id=person_id,
        member_id=json.member_id,
        category=json.category,
        expires_at=json.expires_at,
    )
    return grants.grant_view(grant, services().clock()), 201


@operation(api.delete, "/grants/<grant_id>", resp=Answers(HTTP_204=(None, "Revoked")))
def revoke_grant(grant_id: str) -> Any:
    """Revoke a grant, at once"""
    grants.revoke_grant(request_context(), grant_id=grant_id)
    return "", 204


@operation(
    api.get,
    "/professionals/me/persons",
    resp=Answers(HTTP_200=(MyPersons, "Persons"), HTTP_403=(Error, "Org admins have no persons")),
)
def my_persons() -> Any:
    """The persons whose list I am on, with the documents shared with me"""
    return professionals.my_persons(request_context())


# The file streams into private storage as it arrives (uploads.py): no schema reads it here.
@operation(
    api.post,
    "/persons/<person_id>/deposits",
    form=Deposit,
    fresh_factor=True,
    skip_validation=True,
    resp=Answers(
        HTTP_201=(Document, "Stored"),
        HTTP_413=(Error, "Too large"),
        HTTP_415=(Error, "Not accepted"),
        HTTP_422=INVALID,
    ),
)
def deposit_document(person_id: str) -> Any:
    """A member deposits a paper: the person's, who is told; the depositor keeps a grant"""
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
    # Shaped here: this route skips spectree's checks, which would otherwise shape it.
    return Document.model_validate(view), 201


@operation(api.get, "/persons/<person_id>/mandates", resp=Answers(HTTP_200=(Mandates, "Mandates")))
def list_mandates(person_id: str) -> Any:
    """The person's unrevoked mandates"""
    return mandates.list_mandates(request_context(), person_id=person_id)


@operation(
    api.post,
    "/persons/<person_id>/mandates",
    resp=Answers(HTTP_201=(Mandate, "Created"), HTTP_403=NOT_CONFIRMED, HTTP_422=INVALID),
)
def create_mandate(person_id: str, json: NewMandate) -> Any:
    """The person gives a member a mandate, confirmed with their own password"""
    mandate = mandates.create_mandate(
        request_context(),
        person_id=person_id,
        member_id=json.member_id,
        scopes=json.scopes,
        duration=json.duration,
        password=json.password,
    )
    return mandates.mandate_view(mandate, services().clock()), 201


@operation(
    api.post,
    "/persons/<person_id>/desk-mandates",
    fresh_factor=True,
    resp=Answers(
        HTTP_201=(Mandate, "Created"),
        HTTP_403=NOT_CONFIRMED,
        HTTP_422=INVALID,
        HTTP_429=(Error, "Too many wrong passwords"),
    ),
)
def create_mandate_at_desk(person_id: str, json: DeskMandate) -> Any:
    """At the helper's desk: a helper of a digital-inclusion organisation on the person's
    list prepares a mandate for themselves; the person, beside them, confirms by typing their
    own username and password (wrong: 403, recorded; too many: 429)"""
    mandate = mandates.create_mandate_at_desk(
        request_context(),
        person_id=person_id,
        scopes=json.scopes,
        duration=json.duration,
        username=json.username,
        password=json.password,
    )
    return mandates.mandate_view(mandate, services().clock()), 201


@operation(api.delete, "/mandates/<mandate_id>", resp=Answers(HTTP_204=(None, "Revoked")))
def revoke_mandate(mandate_id: str) -> Any:
    """The person revokes a mandate"""
    mandates.revoke_mandate(request_context(), mandate_id=mandate_id)
    return "", 204


@operation(
    api.post,
    "/persons/<person_id>/recovery-codes",
    fresh_factor=True,
    resp=Answers(HTTP_201=(RecoveryCode, "The code (shown once)")),
)
def issue_recovery_code(person_id: str) -> Any:
    """The person's chosen referent, or a helper whose live mandate has the scope `recovery`,
    issues a one-time code (15 minutes); recorded with the issuer"""
    code, expires_at = recovery.issue_recovery_code(request_context(), person_id=person_id)
    return RecoveryCode(code=code, expires_at=expires_at), 201


@operation(
    api.post,
    "/persons/<person_id>/recovery-card",
    resp=Answers(
        HTTP_201=(RecoveryCard, "The codes (shown once)"),
        HTTP_403=(Error, "A reset by code less than 7 days ago: the card stays"),
    ),
)
def print_recovery_card(person_id: str) -> Any:
    """The person prints a new card of single-use recovery codes (refused for 7 days after a
    reset by someone else's code: the card in hand stays valid)"""
    codes = recovery.print_recovery_card(request_context(), person_id=person_id)
    return RecoveryCard(codes=codes), 201


@operation(
    api.post,
    "/recovery",
    token=False,
    resp=Answers(
        HTTP_204=(None, "Password set"),
        HTTP_422=(Error, "Wrong, used or expired code (one answer)"),
        HTTP_429=(
            Error,
            "Too many wrong codes lately for this username from this address, or from this "
            "address (the same for every username)",
        ),
    ),
)
def redeem_recovery_code(json: Redeem) -> Any:
    """Set a new password with a recovery code; every session and token ends"""
    redeem_with_throttle(json.username, json.code, json.new_password)
    return "", 204


@operation(api.get, "/persons/<person_id>/notices", resp=Answers(HTTP_200=(Notices, "Notices")))
def list_notices(person_id: str) -> Any:
    """Unread notices: who reset my password (and from where, when), deposits; a reset by
    someone else's code stays listed 7 days (`locked_until`)"""
    resets, deposits = notices.person_notices(request_context(), person_id=person_id)
    return Notices.model_validate({"password_resets": resets, "deposits": deposits})


@operation(
    api.post,
    "/persons/<person_id>/notices/<notice_id>/not-me",
    resp=Answers(HTTP_204=(None, "Done; sign in again")),
)
def dispute_reset(person_id: str, notice_id: str) -> Any:
    """ "Ce n'était pas moi": every session and token of the account ends (this one too) and
    the code's issuer may never issue one for this person again"""
    # The person must name their own account and a reset of it (else 404, recorded).
    notices.person_notices(request_context(), person_id=person_id)
    recovery.dispute_reset(request_context(), notice_id=notice_id)
    return "", 204
