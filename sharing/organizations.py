"""Organisation profiles, set by the operator: which organisations do digital inclusion
(their staff may be helpers), and which one audits the service (its staff may be auditors)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from locker.actors import Actor, Clock
from locker.audit import append_allowed
from locker.errors import NotFound
from locker.models import Organization
from sharing.decisions import Action
from sharing.models import OrganizationProfile


def set_digital_inclusion(
    session: Session, clock: Clock, *, organization_id: str, on: bool
) -> OrganizationProfile:
    """Say whether an organisation does digital inclusion (an operator's act); recorded.

    Switching it off ends, at once, every mandate its professionals act under: the policy
    reads this row on every request.
    """
    profile = _profile(session, clock, organization_id)
    profile.digital_inclusion = on
    profile.updated_at = clock()
    session.flush()
    reason = "on" if on else "off"
    append_allowed(session, clock, Action.ORGANIZATION_INCLUSION, reason, Actor.system())
    return profile


def set_audits_service(
    session: Session, clock: Clock, *, organization_id: str, on: bool
) -> OrganizationProfile:
    """Say whether an organisation audits the service (an operator's act); recorded.

    Its auditors export every person's log metadata, so no organisation admin can name
    one elsewhere; switching it off ends its auditors' reach at once (read on every call).
    """
    profile = _profile(session, clock, organization_id)
    profile.audits_service = on
    profile.updated_at = clock()
    session.flush()
    append_allowed(
        session, clock, Action.ORGANIZATION_AUDITS, "on" if on else "off", Actor.system()
    )
    return profile


def _profile(session: Session, clock: Clock, organization_id: str) -> OrganizationProfile:
    """The organisation's profile, made when it has none; NotFound for no organisation."""
    org = session.get(Organization, organization_id) if len(organization_id) == 36 else None
    if org is None:
        raise NotFound("organization")
    profile = session.get(OrganizationProfile, org.id)
    if profile is None:
        profile = OrganizationProfile(organization_id=org.id, updated_at=clock())
        session.add(profile)
    return profile
