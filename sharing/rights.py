"""The rows the access policy reads: live memberships, grants and mandates, now.

Nothing here is cached: each question is a query on current rows, so a removal,
revocation or expiry is seen by the very next request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, literal, or_, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from locker.models import Document, Professional
from sharing.models import AccompanimentMember, Grant, Mandate, OrganizationProfile, RecoveryCode

# "recovery": the helper may issue a one-time recovery code (the person named it for that);
# "export": the helper may take the person's whole locker for them, in one file.
SCOPES = ("upload", "organise", "share", "view", "recovery", "export")
# A list entry that counts: accepted by the person, and not removed.
LIVE_MEMBER = (AccompanimentMember.status == "active") & AccompanimentMember.ended_at.is_(None)
Revocable = TypeVar("Revocable", Grant, Mandate)


def grant_is_live(now: datetime) -> ColumnElement[bool]:
    """A grant neither revoked nor expired at `now`."""
    return Grant.revoked_at.is_(None) & or_(Grant.expires_at.is_(None), Grant.expires_at > now)


def unrevoked(session: Session, model: type[Revocable], person_id: str) -> Sequence[Revocable]:
    """The person's grants, or mandates, not revoked (expired ones too), oldest first."""
    return session.scalars(
        select(model)
        .where(model.person_id == person_id, model.revoked_at.is_(None))
        .order_by(model.created_at)
    ).all()


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
    return _profile_says(session, professional_id, OrganizationProfile.audits_service)


def does_digital_inclusion(session: Session, professional_id: str | None) -> bool:
    """Whether the professional's organisation (read from their row, now) does digital inclusion."""
    return _profile_says(session, professional_id, OrganizationProfile.digital_inclusion)


def _profile_says(
    session: Session, professional_id: str | None, flag: InstrumentedAttribute[bool]
) -> bool:
    """One flag of the professional's organisation profile; no profile (or no one) is no."""
    if professional_id is None:
        return False
    found = session.scalar(
        select(flag)
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
    digital-inclusion organisation). Three queries for the whole list, not two a paper."""
    if not papers:
        return {}
    grants = session.execute(
        select(Grant.member_id, Grant.document_id, Grant.category)
        .join(AccompanimentMember, AccompanimentMember.id == Grant.member_id)
        .where(Grant.person_id == person_id, grant_is_live(now), LIVE_MEMBER)
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
    helpers = digital_inclusion_among(session, {row.professional_id for row in mandates})
    viewers = {
        member_id
        for member_id, scopes, professional_id in mandates
        if "view" in scopes.split() and professional_id in helpers
    }
    by_document: dict[str, set[str]] = {}
    by_category: dict[str, set[str]] = {}
    for member_id, granted_document, granted_category in grants:
        if granted_document is not None:
            by_document.setdefault(granted_document, set()).add(member_id)
        elif granted_category is not None:
            by_category.setdefault(granted_category, set()).add(member_id)
    return {
        document_id: viewers
        | by_document.get(document_id, set())
        | by_category.get(category, set())
        for document_id, category in papers
    }


def live_grants(member_ids: Sequence[str], now: datetime) -> Select[str, str | None, str | None]:
    """The live grants of these list entries, as rows (person id, document id, category)."""
    return select(Grant.person_id, Grant.document_id, Grant.category).where(
        Grant.member_id.in_(member_ids), grant_is_live(now)
    )


def covered_by(grants: Select[str, str | None, str | None]) -> ColumnElement[bool]:
    """A `Document` one of `grants` (rows as `live_grants` gives them) names, itself or by
    its category of its own person: the grant rule of `readers_by_document` in SQL. The
    grants are read once, not paper by paper."""
    named = grants.cte()
    return Document.id.in_(
        select(named.c.document_id).where(named.c.document_id.is_not(None))
    ) | tuple_(Document.person_id, Document.category).in_(
        select(named.c.person_id, named.c.category).where(named.c.document_id.is_(None))
    )


def readable_papers(
    member_ids: Sequence[str], now: datetime, *, helper: bool
) -> ColumnElement[bool]:
    """`readers_by_document` as one SQL condition on `Document`: a paper one of these live
    list entries may read now, by a live grant on it or its category, or, when their
    professional belongs to a digital-inclusion organisation (`helper`), by a live mandate
    to view. It lets the desk count and page papers in the database; tests/sharing/test_desk.py
    and test_stateful.py hold it to the policy."""
    readable = covered_by(live_grants(member_ids, now))
    if not helper:
        return readable
    viewing = select(Mandate.person_id).where(
        Mandate.member_id.in_(member_ids),
        Mandate.revoked_at.is_(None),
        Mandate.expires_at > now,
        # Scopes are one space-separated word list.
        (literal(" ") + Mandate.scopes + literal(" ")).contains(" view "),
    )
    return readable | Document.person_id.in_(viewing)


def digital_inclusion_among(session: Session, professional_ids: set[str]) -> set[str]:
    """Those of the professionals whose organisation does digital inclusion (one query)."""
    if not professional_ids:
        return set()
    return set(
        session.scalars(
            select(Professional.id)
            .join(
                OrganizationProfile,
                OrganizationProfile.organization_id == Professional.organization_id,
            )
            .where(Professional.id.in_(professional_ids), OrganizationProfile.digital_inclusion)
        )
    )
