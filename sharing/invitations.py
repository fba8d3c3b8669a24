"""Invitations: a new professional gets a single-use link and chooses their own password.

The admin never chooses (nor sees) the password. The link's secret is 256 random bits;
only its SHA-256 is stored, so a database dump opens no account. It works once, for 7
days, and never for a deactivated account. No e-mail is sent by the service: the admin
hands the link over (the API answers it, the page shows it).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from locker import accounts
from locker.actors import Clock
from locker.audit import append_allowed
from locker.context import RequestContext
from locker.models import Professional
from sharing.decisions import Action
from sharing.errors import BadInvitation
from sharing.models import ProfessionalInvitation
from sharing.staff import (
    StaffMember,
    find_organization,
    find_professional,
    record_admin,
    require_admin,
    staff_view,
    stored_role,
)

INVITATION_DAYS = 7
TOKEN_BYTES = 32  # 256 bits
MAX_TOKEN = 128


@dataclass(frozen=True)
class Invited:
    """A professional invited, and the secret of their link (shown this once)."""

    professional: StaffMember
    token: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _new_invitation(ctx: RequestContext, professional: Professional) -> tuple[str, datetime]:
    """A fresh link for the professional; any earlier one stops working."""
    now = ctx.clock()
    _withdraw(ctx.session, now, professional.id)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = now + timedelta(days=INVITATION_DAYS)
    ctx.session.add(
        ProfessionalInvitation(
            professional_id=professional.id,
            token_hash=_hash(token),
            invited_by_id=ctx.actor.id if ctx.actor.kind == "professional" else None,
            created_at=now,
            expires_at=expires_at,
        )
    )
    ctx.session.flush()
    return token, expires_at


def _withdraw(session: Session, now: datetime, professional_id: str) -> None:
    """Every unused link of the professional stops working now."""
    session.execute(
        update(ProfessionalInvitation)
        .where(
            ProfessionalInvitation.professional_id == professional_id,
            ProfessionalInvitation.used_at.is_(None),
            ProfessionalInvitation.expires_at > now,
        )
        .values(expires_at=now)
    )


def withdraw_invitations(session: Session, clock: Clock, professional_id: str) -> None:
    """A deactivated professional's unused links stop working (the account refuses them
    anyway: this leaves nothing live behind)."""
    _withdraw(session, clock(), professional_id)


def invite_professional(
    ctx: RequestContext, *, organization_id: str, email: str, name: str, role: str
) -> Invited:
    """The admin of the organisation (or the operator) invites a professional: an account
    with no usable password, and a single-use link to choose one; recorded."""
    org = find_organization(ctx.session, organization_id)
    decision = require_admin(ctx, Action.PROFESSIONAL_INVITE, org)
    assert org is not None
    stored = stored_role(ctx.session, org.id, role)
    professional = accounts.create_professional(
        ctx.session,
        ctx.clock,
        organization_id=org.id,
        email=email,
        display_name=name,
        # Nobody knows it: the account opens only once its owner chose their own.
        password=secrets.token_urlsafe(32),
        role=stored,
    )
    token, expires_at = _new_invitation(ctx, professional)
    record_admin(ctx, Action.PROFESSIONAL_INVITE, decision, professional, stored)
    return Invited(staff_view(ctx.session, professional), token, expires_at)


def reissue_invitation(ctx: RequestContext, *, professional_id: str) -> Invited:
    """A new link for a professional who has not chosen a password yet (the first one
    expired or was lost); the earlier link stops working. NotFound for anyone else."""
    target = find_professional(ctx.session, professional_id)
    decision = require_admin(ctx, Action.PROFESSIONAL_INVITE, target)
    assert target is not None
    if staff_view(ctx.session, target).status != "invited":
        raise BadInvitation("only an invited professional who has not answered")
    token, expires_at = _new_invitation(ctx, target)
    record_admin(ctx, Action.PROFESSIONAL_INVITE, decision, target, "again")
    return Invited(staff_view(ctx.session, target), token, expires_at)


def accept_invitation(session: Session, clock: Clock, *, token: str, password: str) -> Professional:
    """The invited professional chooses their password with their link: once, within 7
    days, never for a deactivated account (BadInvitation: one answer for every case).
    Recorded; the caller commits."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise BadInvitation("malformed")
    now = clock()
    invitation = session.scalar(
        select(ProfessionalInvitation).where(ProfessionalInvitation.token_hash == _hash(token))
    )
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
        raise BadInvitation("unknown, used or expired")
    professional = session.get(Professional, invitation.professional_id)
    if professional is None or professional.disabled_at is not None:
        raise BadInvitation("deactivated")
    accounts.set_password(session, clock, professional, password)
    invitation.used_at = now
    _withdraw(session, now, professional.id)
    actor = accounts.actor_for(professional)
    append_allowed(session, clock, Action.INVITATION_ACCEPT, "invitation", actor)
    session.flush()
    return professional
