"""A professional leaves their organisation: the admin deactivates the account; every
person who had them on their list is told, and decides what becomes of what they shared.

Deactivation is at once: the account's sessions and tokens are revoked (their next
request fails), it can no longer sign in or use an invitation, and the policy refuses
it everything (it reads `disabled_at` on every call). The admin may propose a colleague
of the same organisation; the person then chooses, on their own page, to end what they
shared with the one who left, or to hand it to that colleague. Until the person says
yes, the colleague is not on their list and sees nothing. The admin never learns who
those persons are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from locker import accounts
from locker.context import RequestContext
from locker.errors import NotFound
from locker.models import Organization, Professional
from sharing.decisions import Action, Decision
from sharing.errors import NoSuccessor
from sharing.guard import record, require_person
from sharing.invitations import withdraw_invitations
from sharing.members import end_member
from sharing.models import AccompanimentMember, Grant, ProfessionalDeparture
from sharing.org_access import decide_staff_change
from sharing.rights import LIVE_MEMBER, active_member, grant_is_live
from sharing.staff import find_professional, record_admin, refuse, require_admin


@dataclass(frozen=True)
class DepartureNotice:
    """What the person is told: who left, and which colleague (if any) could take over."""

    id: str
    member_id: str
    display_name: str
    organization: str
    successor_id: str | None
    successor_name: str | None
    created_at: datetime


def _usable_successor(
    session: Session, departed: Professional, successor_id: str | None
) -> Professional | None:
    """The colleague, if they can take over now: active, same organisation, a
    professional who accompanies persons (not an admin, not an auditor), not the one who
    left."""
    found = find_professional(session, successor_id)
    if (
        found is None
        or found.id == departed.id
        or found.organization_id != departed.organization_id
        or found.disabled_at is not None
        or found.role != "professional"
    ):
        return None
    return found


def deactivate_professional(
    ctx: RequestContext, *, professional_id: str, successor_id: str | None = None
) -> None:
    """The admin of their organisation (or the operator) switches a professional off, at
    once; each person who had them on their list gets a notice. `successor_id`: a
    colleague proposed to the persons (asked again later, it replaces the proposal for
    the persons who have not decided yet). The last active admin cannot be switched off."""
    target = find_professional(ctx.session, professional_id)
    require_admin(ctx, Action.PROFESSIONAL_DEACTIVATE, target)
    assert target is not None
    decision = decide_staff_change(ctx.session, ctx.actor, target, role=None)
    if not decision.allowed:
        refuse(ctx, Action.PROFESSIONAL_DEACTIVATE, decision)
    successor = None
    if successor_id:
        successor = _usable_successor(ctx.session, target, successor_id)
        if successor is None:
            raise NoSuccessor("not an active colleague", field="successor_id")
    now = ctx.clock()
    first_time = target.disabled_at is None
    if first_time:
        target.disabled_at = now
        accounts.end_all_sessions(ctx.session, ctx.clock, target)
        withdraw_invitations(ctx.session, ctx.clock, target.id)
        _tell_persons(ctx.session, now, target, successor)
    elif successor is not None:
        ctx.session.execute(
            update(ProfessionalDeparture)
            .where(
                ProfessionalDeparture.professional_id == target.id,
                ProfessionalDeparture.decided_at.is_(None),
            )
            .values(successor_id=successor.id)
        )
    ctx.session.flush()
    if first_time:
        record_admin(ctx, Action.PROFESSIONAL_DEACTIVATE, decision, target)
    if successor is not None:
        # A second record names the colleague proposed (two ids do not fit one reason).
        record_admin(ctx, Action.PROFESSIONAL_DEACTIVATE, decision, successor, "successor")


def _tell_persons(
    session: Session, now: datetime, target: Professional, successor: Professional | None
) -> None:
    """A notice for each person whose list has them; their pending requests to join end."""
    members = session.scalars(
        select(AccompanimentMember).where(
            AccompanimentMember.professional_id == target.id,
            AccompanimentMember.ended_at.is_(None),
        )
    ).all()
    for member in members:
        if member.status != "active":
            member.ended_at = now  # a request the person never accepted: nothing to decide
            continue
        session.add(
            ProfessionalDeparture(
                person_id=member.person_id,
                member_id=member.id,
                professional_id=target.id,
                successor_id=successor.id if successor is not None else None,
                created_at=now,
            )
        )


def departure_notices(session: Session, person_id: str) -> list[DepartureNotice]:
    """The departures the person has not decided on yet (their list entry still there)."""
    left = aliased(Professional)
    colleague = aliased(Professional)
    rows = session.execute(
        select(ProfessionalDeparture, left, Organization, colleague)
        .join(AccompanimentMember, AccompanimentMember.id == ProfessionalDeparture.member_id)
        .join(left, left.id == ProfessionalDeparture.professional_id)
        .join(Organization, Organization.id == left.organization_id)
        .outerjoin(colleague, colleague.id == ProfessionalDeparture.successor_id)
        .where(
            ProfessionalDeparture.person_id == person_id,
            ProfessionalDeparture.decided_at.is_(None),
            LIVE_MEMBER,
        )
        .order_by(ProfessionalDeparture.created_at)
    ).all()
    notices = []
    for departure, departed, org, proposed in rows:
        usable = proposed is not None and _usable_successor(session, departed, proposed.id)
        notices.append(
            DepartureNotice(
                id=departure.id,
                member_id=departure.member_id,
                display_name=departed.display_name,
                organization=org.name,
                successor_id=proposed.id if usable else None,
                successor_name=proposed.display_name if usable else None,
                created_at=departure.created_at,
            )
        )
    return notices


def list_departures(ctx: RequestContext, *, person_id: str) -> list[DepartureNotice]:
    """The person's undecided departures (the person alone reads them); 404 otherwise."""
    person, _ = require_person(ctx, Action.NOTICE_LIST, person_id)
    return departure_notices(ctx.session, person.id)


def _pending(
    ctx: RequestContext, action: Action, person_id: str, departure_id: str
) -> tuple[ProfessionalDeparture, AccompanimentMember, Decision]:
    person, decision = require_person(ctx, action, person_id)
    wanted = departure_id if isinstance(departure_id, str) and len(departure_id) == 36 else None
    departure = ctx.session.get(ProfessionalDeparture, wanted) if wanted else None
    member = ctx.session.get(AccompanimentMember, departure.member_id) if departure else None
    if (
        departure is None
        or member is None
        or departure.person_id != person.id
        or departure.decided_at is not None
        or member.ended_at is not None
    ):
        raise NotFound("departure")
    return departure, member, decision


def end_departed(ctx: RequestContext, *, person_id: str, departure_id: str) -> None:
    """The person ends everything they shared with the one who left (their list entry,
    grants and mandates); recorded."""
    departure, member, decision = _pending(ctx, Action.DEPARTURE_END, person_id, departure_id)
    end_member(ctx.session, ctx.clock, member)
    departure.decided_at, departure.outcome = ctx.clock(), "ended"
    record(ctx.session, ctx.clock, ctx.actor, Action.DEPARTURE_END, decision, departure.person_id)


def hand_over(ctx: RequestContext, *, person_id: str, departure_id: str) -> str:
    """The person says yes to the colleague the admin proposed: the colleague joins their
    list (or their entry, if already there, is kept) with the live grants the one who left
    had, the one who left is removed. Mandates and the referent choice are not handed
    over: they need the person's own act. Returns the colleague's list entry id."""
    departure, member, decision = _pending(ctx, Action.DEPARTURE_HAND_OVER, person_id, departure_id)
    departed = ctx.session.get(Professional, departure.professional_id)
    assert departed is not None
    successor = _usable_successor(ctx.session, departed, departure.successor_id)
    if successor is None:
        raise NoSuccessor("no colleague to hand over to", field="successor_id")
    now = ctx.clock()
    entry = active_member(ctx.session, departure.person_id, successor.id)
    if entry is None:
        entry = _join(ctx.session, now, member, successor)
    live = ctx.session.scalars(
        select(Grant).where(Grant.member_id == member.id, grant_is_live(now))
    ).all()
    for grant in live:
        ctx.session.add(
            Grant(
                person_id=grant.person_id,
                member_id=entry.id,
                document_id=grant.document_id,
                category=grant.category,
                origin="person",  # the person's own yes
                created_at=now,
                expires_at=grant.expires_at,
            )
        )
    end_member(ctx.session, ctx.clock, member)
    departure.decided_at, departure.outcome = now, "handed_over"
    record(
        ctx.session, ctx.clock, ctx.actor, Action.DEPARTURE_HAND_OVER, decision, departure.person_id
    )
    return entry.id


def _join(
    session: Session, now: datetime, member: AccompanimentMember, successor: Professional
) -> AccompanimentMember:
    """The colleague's entry on the person's list: a pending request of theirs becomes
    active (the person said yes), else a new entry with the same mission."""
    pending = session.scalar(
        select(AccompanimentMember).where(
            AccompanimentMember.person_id == member.person_id,
            AccompanimentMember.professional_id == successor.id,
            AccompanimentMember.ended_at.is_(None),
        )
    )
    if pending is not None:
        pending.status = "active"
        return pending
    entry = AccompanimentMember(
        person_id=member.person_id,
        professional_id=successor.id,
        mission=member.mission,
        status="active",
        referent=False,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry
