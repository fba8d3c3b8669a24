"""Grants: the person's (or a share-mandated helper's) per-document and per-category yes."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from locker.actors import Actor, Clock
from locker.audit import append_allowed
from locker.context import RequestContext
from locker.documents import CATEGORIES, find_document
from locker.errors import InvalidInput
from locker.models import Document, Person
from locker.views import view_of
from sharing.decisions import Action
from sharing.guard import find_member, record, require, require_person
from sharing.members import member_views
from sharing.models import AccompanimentMember, Grant
from sharing.policy import decide_grant
from sharing.rights import grant_covers, grant_is_live, unrevoked


@dataclass(frozen=True)
class GrantView:
    """A grant as its person (or their helper) sees it."""

    id: str
    member_id: str
    document_id: str | None
    category: str | None
    origin: str
    created_at: datetime
    expires_at: datetime | None
    live: bool


def grant_view(grant: Grant, now: datetime) -> GrantView:
    """The public shape of a grant; `live` is false once revoked or expired."""
    live = grant.revoked_at is None and (grant.expires_at is None or grant.expires_at > now)
    return view_of(GrantView, grant, live=live)


def _check_expiry(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise InvalidInput("expires_at must be a future date with a time zone", field="expires_at")


def _active_member(session: Session, person: Person, member_id: object) -> AccompanimentMember:
    member = find_member(session, person, member_id)
    if member is None or member.status != "active":
        raise InvalidInput("not a member of the list", field="member_id")
    return member


def _origin(reason: str) -> str:
    return "mandate" if reason.startswith("mandate") else "person"


def create_grant(
    ctx: RequestContext, *, document_id: str, member_id: object, expires_at: datetime | None = None
) -> Grant:
    """The person (or a share-mandated helper) lets one member see one document; recorded."""
    document = find_document(ctx.session, document_id)
    require(ctx, Action.GRANT_CREATE, document)
    assert document is not None
    person = ctx.session.get(Person, document.person_id)
    assert person is not None
    return _new_grant(ctx, person, document, member_id, expires_at, document_id=document.id)


def create_category_grant(
    ctx: RequestContext,
    *,
    person_id: str,
    member_id: object,
    category: object,
    expires_at: datetime | None = None,
) -> Grant:
    """Share a whole category (later papers included) with one member; recorded."""
    person, _ = require_person(ctx, Action.GRANT_CREATE, person_id)
    if category not in CATEGORIES:
        raise InvalidInput("category", field="category")
    return _new_grant(ctx, person, person, member_id, expires_at, category=str(category))


def _new_grant(
    ctx: RequestContext,
    person: Person,
    target: Document | Person,
    member_id: object,
    expires_at: datetime | None,
    *,
    document_id: str | None = None,
    category: str | None = None,
) -> Grant:
    """What both kinds of grant share: an active member of the person's list, the policy's
    narrower answer on what this grantor may give, an end in the future; recorded."""
    member = _active_member(ctx.session, person, member_id)
    narrower = decide_grant(ctx.session, ctx.actor, target, member, now=ctx.clock())
    decision = require(ctx, Action.GRANT_CREATE, target, narrower)
    _check_expiry(expires_at, ctx.clock())
    grant = Grant(
        person_id=person.id,
        member_id=member.id,
        document_id=document_id,
        category=category,
        origin=_origin(decision.reason),
        created_at=ctx.clock(),
        expires_at=expires_at,
    )
    ctx.session.add(grant)
    ctx.session.flush()
    record(ctx.session, ctx.clock, ctx.actor, Action.GRANT_CREATE, decision, person.id, document_id)
    return grant


def revoke_grant(ctx: RequestContext, *, grant_id: str) -> None:
    """End a grant at once (open sessions and tokens included); recorded."""
    grant = ctx.session.get(Grant, grant_id) if len(grant_id) == 36 else None
    decision = require(ctx, Action.GRANT_REVOKE, grant)
    assert grant is not None
    if grant.revoked_at is None:
        grant.revoked_at = ctx.clock()
        ctx.session.flush()
    record(
        ctx.session,
        ctx.clock,
        ctx.actor,
        Action.GRANT_REVOKE,
        decision,
        grant.person_id,
        grant.document_id,
    )


def list_document_grants(ctx: RequestContext, *, document_id: str) -> list[GrantView]:
    """The grants that show this document (its own and its category's), unrevoked ones."""
    document = find_document(ctx.session, document_id)
    require(ctx, Action.GRANT_LIST, document)
    assert document is not None
    return [grant_view(g, ctx.clock()) for g in _covering(ctx.session, document)]


def _covering(session: Session, document: Document) -> list[Grant]:
    rows = session.scalars(
        select(Grant)
        .where(
            Grant.person_id == document.person_id,
            Grant.revoked_at.is_(None),
            grant_covers(document.id, document.category),
        )
        .order_by(Grant.created_at)
    )
    return list(rows)


def list_person_grants(ctx: RequestContext, *, person_id: str) -> list[GrantView]:
    """Every unrevoked grant of the person (documents and categories)."""
    person, _ = require_person(ctx, Action.GRANT_LIST, person_id)
    now = ctx.clock()
    return [grant_view(g, now) for g in unrevoked(ctx.session, Grant, person.id)]


def set_document_readers(ctx: RequestContext, *, document_id: str, ticked: Collection[str]) -> None:
    """The "who can see it" form: a grant for each member ticked who has none of their own
    on this paper; the grants on it of each member left unticked, revoked. A member who sees
    it through a shared category keeps it (the form cannot untick them)."""
    for member_id, _name, state, _grant in sharing_of_document(ctx, document_id=document_id):
        if member_id in ticked and state != "document":
            create_grant(ctx, document_id=document_id, member_id=member_id)
        elif member_id not in ticked and state == "document":
            mine = (Grant.document_id == document_id) & (Grant.member_id == member_id)
            for grant in ctx.session.scalars(select(Grant).where(mine, grant_is_live(ctx.clock()))):
                revoke_grant(ctx, grant_id=grant.id)


def stops_sharing(ctx: RequestContext, *, document_id: str, ticked: Collection[str]) -> bool:
    """Whether saving the form `ticked` would take this paper away from someone."""
    rows = sharing_of_document(ctx, document_id=document_id)
    return any(state == "document" and member not in ticked for member, _, state, _ in rows)


def sharing_of_document(
    ctx: RequestContext, *, document_id: str
) -> list[tuple[str, str, str, str | None]]:
    """For each active member: (member id, "name (structure)", "document"/"category"/"none",
    grant id)."""
    document = find_document(ctx.session, document_id)
    require(ctx, Action.GRANT_LIST, document)
    assert document is not None
    now = ctx.clock()
    live = [g for g in _covering(ctx.session, document) if grant_view(g, now).live]
    result = []
    for member in member_views(ctx.session, document.person_id):
        if member.status != "active":
            continue
        mine = [g for g in live if g.member_id == member.id]
        direct = next((g for g in mine if g.document_id is not None), None)
        state = "document" if direct else ("category" if mine else "none")
        # Name and structure: two professionals may share a name, never both.
        name = f"{member.display_name} ({member.organization})"
        result.append((member.id, name, state, direct.id if direct else None))
    return result


def record_grant_expiries(session: Session, clock: Clock) -> int:
    """Write one Action.GRANT_EXPIRE record for every grant whose end date has passed.

    Expired grants already open nothing (the policy reads end dates on every request);
    this puts the expiry on the person's log too, once per grant. The caller commits.
    """
    now = clock()
    due = session.scalars(
        select(Grant)
        .where(
            Grant.expires_at.is_not(None),
            Grant.expires_at <= now,
            Grant.revoked_at.is_(None),
            Grant.expiry_recorded_at.is_(None),
        )
        .order_by(Grant.expires_at, Grant.id)
    ).all()
    for grant in due:
        append_allowed(
            session,
            clock,
            Action.GRANT_EXPIRE,
            "end_date",
            Actor.system(),
            person_id=grant.person_id,
            document_id=grant.document_id,
        )
        grant.expiry_recorded_at = now
    session.flush()
    return len(due)
