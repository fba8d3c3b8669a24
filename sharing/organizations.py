"""Organisation profiles, set by the operator: which organisations do digital inclusion
(their staff may be helpers), which one audits the service (its staff may be auditors),
and each one's SIRET (a ProConnect sign-in names it)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from locker.actors import Actor, Clock
from locker.audit import append_allowed
from locker.errors import AlreadyExists, InvalidInput, NotFound
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


# La Poste's establishments share one SIREN whose SIRETs follow another checksum (the sum
# of the digits is a multiple of 5), as INSEE publishes.
LA_POSTE_SIREN = "356000000"


def valid_siret(siret: str) -> bool:
    """Whether `siret` is 14 digits with a valid check digit (Luhn; La Poste's rule for
    its own establishments)."""
    if len(siret) != 14 or not siret.isascii() or not siret.isdigit():
        return False
    digits = [int(c) for c in siret]
    if siret.startswith(LA_POSTE_SIREN) and siret != "35600000000048":
        return sum(digits) % 5 == 0
    total = 0
    for position, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def set_siret(
    session: Session, clock: Clock, *, organization_id: str, siret: str | None
) -> Organization:
    """Record (or, with None, remove) an organisation's SIRET (an operator's act); recorded.

    ProConnect sign-ins then let in this organisation's professionals only when the
    provider asserts this SIRET; two organisations never share one.
    """
    org = session.get(Organization, organization_id) if len(organization_id) == 36 else None
    if org is None:
        raise NotFound("organization")
    if siret is not None:
        siret = "".join(siret.split())
        if not valid_siret(siret):
            raise InvalidInput("SIRET: 14 digits with a valid check digit", field="siret")
        taken = session.scalar(
            select(Organization.id).where(Organization.siret == siret, Organization.id != org.id)
        )
        if taken:
            raise AlreadyExists("siret", field="siret")
    org.siret = siret
    session.flush()
    reason = "set" if siret else "removed"
    append_allowed(session, clock, Action.ORGANIZATION_SIRET, reason, Actor.system())
    return org
