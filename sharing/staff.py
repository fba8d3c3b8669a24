"""An organisation's professionals, as its admin sees and manages them: accounts only.

Roles, as the admin names them: "professional", "helper", "auditor", "org_admin". A
helper is not a role stored on the account: it is a professional of an organisation that
does digital inclusion (`organization_profiles`, set by the operator, read by the policy
on every call, so switching it off ends every helper's mandates at once). The admin may
name "helper" only in such an organisation (it is stored as "professional"), and every
professional there is listed as a helper. An admin therefore cannot make a helper where
the operator said there are none, nor keep one after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from locker.audit import append_allowed
from locker.context import RequestContext
from locker.errors import InvalidInput, NotFound
from locker.models import Organization, Professional
from sharing.decisions import Action, Decision
from sharing.errors import AccessDenied, LastOrgAdmin, NotAHelper, NotAnAuditBody
from sharing.models import OrganizationProfile, ProfessionalInvitation
from sharing.org_access import NOT_ADMIN, decide_admin, decide_staff_change
from sharing.rights import does_digital_inclusion

ROLES = ("professional", "helper", "auditor", "org_admin")
REASON_LENGTH = 64  # audit_records.reason
# The roles that accompany persons (a colleague proposed for a handover holds one).
ACCOMPANYING = frozenset({"professional", "helper"})


@dataclass(frozen=True)
class StaffMember:
    """One professional of the organisation, as its admin sees them (no person, no paper)."""

    id: str
    email: str
    display_name: str
    role: str
    status: str  # "active", "invited" (has not chosen a password yet) or "deactivated"
    created_at: datetime
    disabled_at: datetime | None


def _id(value: object) -> str | None:
    return value if isinstance(value, str) and len(value) == 36 else None


def find_organization(session: Session, organization_id: object) -> Organization | None:
    """The organisation for an id, or None (anything malformed finds nothing)."""
    wanted = _id(organization_id)
    return session.get(Organization, wanted) if wanted else None


def find_professional(session: Session, professional_id: object) -> Professional | None:
    """The professional for an id, or None (anything malformed finds nothing)."""
    wanted = _id(professional_id)
    return session.get(Professional, wanted) if wanted else None


def refuse(ctx: RequestContext, action: Action, decision: Decision) -> None:
    """Record a refused administration act, then raise what it reads as: not an admin at
    all is a 403; another organisation's account, like a missing one, a 404."""
    ctx.record_denied(action, decision.reason)
    if decision.reason == NOT_ADMIN:
        raise AccessDenied(decision.reason)
    if decision.reason == "last_org_admin":
        raise LastOrgAdmin(decision.reason)
    raise NotFound("professional")


def require_admin(
    ctx: RequestContext, action: Action, target: Organization | Professional | None
) -> Decision:
    """The policy's yes for an administration act, or a recorded refusal (403 or 404)."""
    decision = decide_admin(ctx.session, ctx.actor, action, target)
    if not decision.allowed:
        refuse(ctx, action, decision)
    return decision


def record_admin(
    ctx: RequestContext, action: Action, decision: Decision, target: Professional, *extra: str
) -> None:
    """The record of an administration act, naming its target account (an id, never a
    name) in the reason; it concerns no person."""
    reason = ":".join((decision.reason, target.id, *extra))
    assert len(reason) <= REASON_LENGTH, reason  # the column's width (a programming error)
    append_allowed(ctx.session, ctx.clock, action, reason, ctx.actor)


def role_of(session: Session, professional: Professional) -> str:
    """The role as the admin names it: "helper" for a professional of a digital-inclusion
    organisation."""
    if professional.role == "professional" and does_digital_inclusion(session, professional.id):
        return "helper"
    return professional.role


def stored_role(session: Session, organization_id: str, role: str) -> str:
    """The role kept on the account for a role the admin named; "helper" only where the
    organisation does digital inclusion (NotAHelper otherwise), "auditor" only in the one
    the operator named as auditing the service (NotAnAuditBody otherwise)."""
    if role not in ROLES:
        raise InvalidInput("role", field="role")
    profile = session.get(OrganizationProfile, organization_id)
    if role == "auditor" and (profile is None or not profile.audits_service):
        raise NotAnAuditBody("the organisation does not audit the service")
    if role != "helper":
        return role
    if profile is None or not profile.digital_inclusion:
        raise NotAHelper("the organisation does not do digital inclusion")
    return "professional"


def staff_view(session: Session, professional: Professional) -> StaffMember:
    """One professional as the admin sees them."""
    status = "active"
    if professional.disabled_at is not None:
        status = "deactivated"
    elif _only_invited(session, professional.id):
        status = "invited"
    return StaffMember(
        id=professional.id,
        email=professional.email,
        display_name=professional.display_name,
        role=role_of(session, professional),
        status=status,
        created_at=professional.created_at,
        disabled_at=professional.disabled_at,
    )


def _only_invited(session: Session, professional_id: str) -> bool:
    """Invited and has not yet chosen a password (no invitation of theirs was used)."""
    invited = exists().where(ProfessionalInvitation.professional_id == professional_id)
    used = exists().where(
        ProfessionalInvitation.professional_id == professional_id,
        ProfessionalInvitation.used_at.is_not(None),
    )
    return bool(session.scalar(select(invited & ~used)))


def list_staff(ctx: RequestContext, *, organization_id: str) -> list[StaffMember]:
    """The organisation's professionals, deactivated ones last; the admin of that
    organisation only (another organisation reads as missing)."""
    org = find_organization(ctx.session, organization_id)
    require_admin(ctx, Action.ORGANIZATION_STAFF, org)
    assert org is not None
    rows = ctx.session.scalars(
        select(Professional)
        .where(Professional.organization_id == org.id)
        .order_by(Professional.disabled_at.is_not(None), Professional.display_name)
    )
    return [staff_view(ctx.session, row) for row in rows]


def set_role(ctx: RequestContext, *, professional_id: str, role: str) -> StaffMember:
    """Give a professional of the admin's organisation another role; recorded. The last
    active admin cannot step down (LastOrgAdmin)."""
    target = find_professional(ctx.session, professional_id)
    require_admin(ctx, Action.PROFESSIONAL_ROLE, target)
    assert target is not None
    stored = stored_role(ctx.session, target.organization_id, role)
    decision = decide_staff_change(ctx.session, ctx.actor, target, role=stored)
    if not decision.allowed:
        refuse(ctx, Action.PROFESSIONAL_ROLE, decision)
    if stored != target.role:
        target.role = stored
        ctx.session.flush()
        record_admin(ctx, Action.PROFESSIONAL_ROLE, decision, target, stored)
    return staff_view(ctx.session, target)
