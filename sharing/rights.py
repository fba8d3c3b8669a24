"""The rows the access policy reads: live memberships, grants and mandates, now.

Nothing here is cached: each question is a query on current rows, so a removal,
revocation or expiry is seen by the very next request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from locker.models import Document, Professional
from sharing.models import AccompanimentMember, Grant, Mandate, OrganizationProfile, RecoveryCode

# "recovery": the helper may issue a one-time recovery code (the person named it for that);
# "export": the helper may take the person's whole locker for them, in one file.
SCOPES = ("upload", "organise", "share", "view", "recovery", "export")
# A list entry that counts: accepted by the person, and not removed.
LIVE_MEMBER = (AccompanimentMember.status == "active") & AccompanimentMember.ended_at.is_(None)


def grant_is_live(now: datetime) -> ColumnElement[bool]:
    """A grant neither revoked nor expired at `now`."""
    return Grant.revoked_at.is_(None) & or_(Grant.expires_at.is_(None), Grant.expires_at > now)


def grant_covers(document_id: str, category: str) -> ColumnElement[bool]:
    """A grant on this document, or on the category it is filed under."""
    return or_(
        Grant.document_id == document_id,
        Grant.document_id.is_(None) & (Grant.category == category),
    )


def active_member(
    session: Session, person_id: str, professional_id: str | None
) -> AccompanimentMember | None:
    """The professional's live entry on the person's list (accepted, not removed), if any."""
    if professional_id is None:
        return None
    return session.scalar(
        select(AccompanimentMember).where(
            AccompanimentMember.person_id == person_id,
            AccompanimentMember.professional_id == professional_id,
            LIVE_MEMBER,
        )
    )


def live_grant(
    session: Session, member: AccompanimentMember, document: Document, now: datetime
) -> Grant | None:
    """A grant (on this document or its category) that is neither revoked nor expired."""
    return session.scalar(
        select(Grant)
        .where(
            Grant.member_id == member.id,
            Grant.person_id == document.person_id,
            grant_is_live(now),
            grant_covers(document.id, document.category),
        )
        .limit(1)
    )


def live_scopes(session: Session, member: AccompanimentMember, now: datetime) -> set[str]:
    """The union of the scopes of the member's mandates that are neither revoked nor expired."""
    rows = session.scalars(
        select(Mandate.scopes).where(
            Mandate.member_id == member.id,
            Mandate.person_id == member.person_id,
            Mandate.revoked_at.is_(None),
            Mandate.expires_at > now,
        )
    )
    return {scope for row in rows for scope in row.split()}


def audits_service(session: Session, professional_id: str | None) -> bool:
    """Whether the professional's organisation (read from their row, now) audits the service."""
    if professional_id is None:
        return False
    found = session.scalar(
        select(OrganizationProfile.audits_service)
        .join(Professional, Professional.organization_id == OrganizationProfile.organization_id)
        .where(Professional.id == professional_id)
    )
    return bool(found)


def does_digital_inclusion(session: Session, professional_id: str | None) -> bool:
    """Whether the professional's organisation (read from their row, now) does digital inclusion."""
    if professional_id is None:
        return False
    found = session.scalar(
        select(OrganizationProfile.digital_inclusion)
        .join(Professional, Professional.organization_id == OrganizationProfile.organization_id)
        .where(Professional.id == professional_id)
    )
    return bool(found)


def recovery_barred(session: Session, person_id: str, professional_id: str | None) -> bool:
    """Whether the person said "Ce n'était pas moi" about a reset made with this one's code."""
    found = session.scalar(
        select(RecoveryCode.id)
        .where(
            RecoveryCode.person_id == person_id,
            RecoveryCode.issued_by_id == professional_id,
            RecoveryCode.disputed_at.is_not(None),
        )
        .limit(1)
    )
    return found is not None


def readers_of(session: Session, document: Document, category: str, now: datetime) -> set[str]:
    """The live members who would read the document if it were filed under `category`."""
    rows = session.scalars(
        select(Grant.member_id)
        .join(AccompanimentMember, AccompanimentMember.id == Grant.member_id)
        .where(
            Grant.person_id == document.person_id,
            grant_is_live(now),
            grant_covers(document.id, category),
            LIVE_MEMBER,
        )
    )
    return set(rows)


def readers_by_document(
    session: Session, person_id: str, papers: Sequence[tuple[str, str]], now: datetime
) -> dict[str, set[str]]:
    """For each (document id, category) of the person: the live members who may read it now,
    by a live grant on it or on its category, or by a live mandate to view (a helper of a
    digital-inclusion organisation). Two queries for the whole list, not two a paper."""
    grants = session.execute(
        select(Grant.member_id, Grant.document_id, Grant.category)
        .join(AccompanimentMember, AccompanimentMember.id == Grant.member_id)
        .where(
            Grant.person_id == person_id,
            grant_is_live(now),
            LIVE_MEMBER,
        )
    ).all()
    mandates = session.execute(
        select(Mandate.member_id, Mandate.scopes, AccompanimentMember.professional_id)
        .join(AccompanimentMember, AccompanimentMember.id == Mandate.member_id)
        .where(
            Mandate.person_id == person_id,
            Mandate.revoked_at.is_(None),
            Mandate.expires_at > now,
            LIVE_MEMBER,
        )
    ).all()
    viewers = {
        member_id
        for member_id, scopes, professional_id in mandates
        if "view" in scopes.split() and does_digital_inclusion(session, professional_id)
    }
    readers: dict[str, set[str]] = {}
    for document_id, category in papers:
        readers[document_id] = set(viewers) | {
            member_id
            for member_id, granted_document, granted_category in grants
            if granted_document == document_id
            or (granted_document is None and granted_category == category)
        }
    return readers
