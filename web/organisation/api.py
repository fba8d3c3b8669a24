"""The organisation part of the JSON API: an admin's professionals, invitations, and the
person's choice after a departure. Only the named fields of a body are read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for

from sharing import departures, invitations, staff
from web.context import db, request_context, services
from web.openapi import INVALID, Answers, Error, operation
from web.organisation.schemas import (
    Acceptance,
    Accepted,
    Deactivation,
    Departures,
    HandedOver,
    Invited,
    NewProfessional,
    Professional,
    Professionals,
    RoleChange,
)

api = Blueprint("organisation_api", __name__, url_prefix="/api/v1")
NOT_ADMIN = (Error, "Not an admin of an organisation")
LAST_ADMIN = (Error, "The organisation's last active admin cannot step down or be deactivated")


def invitation_url(token: str) -> str:
    """The page where the invited professional chooses their password (the secret in the
    query: the access log writes no query string)."""
    return url_for("organisation.invitation", token=token, _external=True)


def _invited(made: invitations.Invited) -> Invited:
    return Invited.model_validate(
        {
            **staff_fields(made.professional),
            "invitation_url": invitation_url(made.token),
            "invitation_expires_at": made.expires_at,
        }
    )


def staff_fields(member: staff.StaffMember) -> dict[str, Any]:
    return Professional.model_validate(member).model_dump()


@operation(
    api.get,
    "/organizations/<organization_id>/professionals",
    resp=Answers(HTTP_200=(Professionals, "The organisation's professionals"), HTTP_403=NOT_ADMIN),
)
def list_professionals(organization_id: str) -> Any:
    """The organisation's professionals (its admin only; another organisation reads as
    missing)"""
    return staff.list_staff(request_context(), organization_id=organization_id)


@operation(
    api.post,
    "/organizations/<organization_id>/professionals",
    resp=Answers(
        HTTP_201=(Invited, "Invited: hand them the invitation URL"),
        HTTP_403=NOT_ADMIN,
        HTTP_409=(Error, "That e-mail has an account already"),
        HTTP_422=INVALID,
    ),
)
def invite_professional(organization_id: str, json: NewProfessional) -> Any:
    """The admin invites a professional; the answer holds their single-use link (7 days)"""
    made = invitations.invite_professional(
        request_context(),
        organization_id=organization_id,
        email=json.email,
        name=json.name,
        role=json.role,
    )
    return _invited(made), 201


@operation(
    api.patch,
    "/professionals/<professional_id>",
    resp=Answers(
        HTTP_200=(Professional, "The professional, as now"),
        HTTP_403=NOT_ADMIN,
        HTTP_409=LAST_ADMIN,
        HTTP_422=(Error, '"helper" outside a digital-inclusion organisation'),
    ),
)
def set_role(professional_id: str, json: RoleChange) -> Any:
    """The admin sets a professional's role"""
    return staff.set_role(request_context(), professional_id=professional_id, role=json.role)


@operation(
    api.post,
    "/professionals/<professional_id>/deactivate",
    query=Deactivation,
    resp=Answers(
        HTTP_204=(None, "Deactivated: their sessions and tokens ended, their persons told"),
        HTTP_403=NOT_ADMIN,
        HTTP_409=LAST_ADMIN,
        HTTP_422=(
            Error,
            "The proposed colleague is not an active professional of the same organisation",
        ),
    ),
)
def deactivate_professional(professional_id: str, query: Deactivation) -> Any:
    """The admin switches a professional off at once (optionally proposing a colleague,
    `?successor_id=`, to whom each person may hand what they shared)"""
    departures.deactivate_professional(
        request_context(), professional_id=professional_id, successor_id=query.successor_id
    )
    return "", 204


@operation(
    api.post,
    "/professionals/<professional_id>/invitation",
    resp=Answers(
        HTTP_201=(Invited, "A new link; the earlier one stops working"),
        HTTP_403=NOT_ADMIN,
        HTTP_422=(Error, "They already chose a password, or were deactivated"),
    ),
)
def reinvite_professional(professional_id: str) -> Any:
    """The admin makes a new invitation link for a professional who has not answered"""
    made = invitations.reissue_invitation(request_context(), professional_id=professional_id)
    return _invited(made), 201


@operation(
    api.post,
    "/invitations/accept",
    token=False,
    resp=Answers(
        HTTP_200=(Accepted, "The password is set: sign in with the e-mail"),
        HTTP_422=(Error, "Unknown, used, expired or withdrawn link, or too short a password"),
    ),
)
def accept_invitation(json: Acceptance) -> Any:
    """The invited professional chooses their password with the link's secret (once)"""
    professional = invitations.accept_invitation(
        db(), services().clock, token=json.token, password=json.password
    )
    return Accepted(id=professional.id, email=professional.email)


@operation(
    api.get,
    "/persons/<person_id>/departures",
    resp=Answers(HTTP_200=(Departures, "Professionals who left, not decided on yet")),
)
def list_departures(person_id: str) -> Any:
    """The person's notices of professionals who left their organisation"""
    return departures.list_departures(request_context(), person_id=person_id)


@operation(
    api.post,
    "/persons/<person_id>/departures/<departure_id>/end",
    resp=Answers(HTTP_204=(None, "Ended: they are off the list, every share with them ended")),
)
def end_departed(person_id: str, departure_id: str) -> Any:
    """The person ends what they shared with the professional who left"""
    departures.end_departed(request_context(), person_id=person_id, departure_id=departure_id)
    return "", 204


@operation(
    api.post,
    "/persons/<person_id>/departures/<departure_id>/hand-over",
    resp=Answers(
        HTTP_200=(HandedOver, "The colleague is on the list with the same shares"),
        HTTP_422=(Error, "No colleague was proposed, or they can no longer take over"),
    ),
)
def hand_over(person_id: str, departure_id: str) -> Any:
    """The person hands what they shared to the colleague the organisation proposed"""
    member_id = departures.hand_over(
        request_context(), person_id=person_id, departure_id=departure_id
    )
    return HandedOver(member_id=member_id)
