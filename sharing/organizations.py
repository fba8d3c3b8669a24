"""Organisation profiles: which organisations do digital inclusion (their staff may be helpers)."""

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
    org = session.get(Organization, organization_id) if len(organization_id) == 36 else None
    if org is None:
        raise NotFound("organization")
    profile = session.get(OrganizationProfile, org.id)
    if profile is None:
        profile = OrganizationProfile(organization_id=org.id, updated_at=clock())
        session.add(profile)
    profile.digital_inclusion = on
    profile.updated_at = clock()
    session.flush()
    reason = "on" if on else "off"
    append_allowed(session, clock, Action.ORGANIZATION_INCLUSION, reason, Actor.system())
    return profile
