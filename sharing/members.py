"""The accompaniment list: share codes, adding, asking to join, the referent, removal."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from locker.accounts import normalise_username
from locker.actors import Clock
from locker.context import RequestContext
from locker.errors import InvalidInput
from locker.models import Organization, Person, Professional
from locker.views import view_of
from sharing.decisions import Action
from sharing.errors import AlreadyMember, UnknownShareCode, refusal
from sharing.guard import find_member, find_person, record, require, require_person
from sharing.models import AccompanimentMember, Grant, Mandate, ShareCode
from sharing.policy import decide

# Crockford's base32 without look-alikes: easy to read aloud and to type on a phone.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
MAX_MISSION = 200


@dataclass(frozen=True)
class MemberView:
    """One entry of a list as the person (or a helper) sees it."""

    id: str
    professional_id: str
    display_name: str
    organization: str
    mission: str
    status: str
    referent: bool


def share_code_for(session: Session, clock: Clock, professional: Professional) -> str | None:
    """The professional's share code, created on first use; org admins have none."""
    if professional.role != "professional":
        return None
    row = session.get(ShareCode, professional.id)
    if row is None:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        row = ShareCode(professional_id=professional.id, code=code, created_at=clock())
        session.add(row)
        session.flush()
    return row.code


def normalise_code(code: str) -> str:
    """Codes are read aloud and typed: case, spaces and dashes do not matter."""
    return "".join(ch for ch in code.upper() if ch.isalnum())[:16]


def _clean_mission(mission: object) -> str:
    text = " ".join(str(mission or "").split())
    text = "".join(ch for ch in text if ch.isprintable())
    if len(text) > MAX_MISSION:
        raise InvalidInput("mission too long", field="mission")
    return text


def _current(session: Session, person_id: str, professional_id: str) -> AccompanimentMember | None:
    return session.scalar(
        select(AccompanimentMember).where(
            AccompanimentMember.person_id == person_id,
            AccompanimentMember.professional_id == professional_id,
            AccompanimentMember.ended_at.is_(None),
        )
    )


def add_member(
    ctx: RequestContext, *, person_id: str, professional_code: str, mission: str
) -> AccompanimentMember:
    """The person adds a professional by share code; recorded; the caller commits."""
    person, decision = require_person(ctx, Action.MEMBER_ADD, person_id)
    professional = ctx.session.scalar(
        select(Professional)
        .join(ShareCode, ShareCode.professional_id == Professional.id)
        .where(ShareCode.code == normalise_code(professional_code or ""))
    )
    if professional is None or professional.disabled_at is not None:
        raise UnknownShareCode("no such code", field="professional_code")
    existing = _current(ctx.session, person.id, professional.id)
    if existing is not None and existing.status == "active":
        raise AlreadyMember("already on the list")
    if existing is not None:  # a pending request: the person's act accepts it
        existing.status = "active"
        existing.mission = _clean_mission(mission) or existing.mission
        member = existing
    else:
        member = AccompanimentMember(
            person_id=person.id,
            professional_id=professional.id,
            mission=_clean_mission(mission),
            status="active",
            referent=False,
            created_at=ctx.clock(),
        )
        ctx.session.add(member)
    ctx.session.flush()
    record(ctx.session, ctx.clock, ctx.actor, Action.MEMBER_ADD, decision, person.id)
    return member


def request_to_join(ctx: RequestContext, *, username: str, mission: str) -> None:
    """A professional asks to join a person's list; the same answer whether or not they exist."""
    decision = decide(ctx.session, ctx.actor, Action.JOIN_REQUEST, now=ctx.clock())
    if not decision.allowed:
        raise refusal(decision.reason)
    mission = _clean_mission(mission)
    person = ctx.session.scalar(
        select(Person).where(Person.username == normalise_username(username))
    )
    if (
        person is None
        or ctx.actor.id is None
        or _current(ctx.session, person.id, ctx.actor.id) is not None
    ):
        return
    ctx.session.add(
        AccompanimentMember(
            person_id=person.id,
            professional_id=ctx.actor.id,
            mission=mission,
            status="requested",
            referent=False,
            created_at=ctx.clock(),
        )
    )
    ctx.session.flush()


def accept_member(ctx: RequestContext, *, person_id: str, member_id: str) -> AccompanimentMember:
    """The person accepts a professional's request to join; recorded."""
    person, decision = require_person(ctx, Action.MEMBER_ACCEPT, person_id)
    member = find_member(ctx.session, person, member_id)
    if member is None:
        require(ctx, Action.MEMBER_ACCEPT, None)
    assert member is not None
    member.status = "active"
    ctx.session.flush()
    record(ctx.session, ctx.clock, ctx.actor, Action.MEMBER_ACCEPT, decision, person.id)
    return member


def end_member(session: Session, clock: Clock, member: AccompanimentMember) -> None:
    """The member leaves the list; every grant and mandate of theirs ends with it."""
    now = clock()
    member.ended_at = now
    member.referent = False
    model: type[Grant | Mandate]
    for model in (Grant, Mandate):
        unrevoked = (model.member_id == member.id, model.revoked_at.is_(None))
        session.execute(update(model).where(*unrevoked).values(revoked_at=now))
    session.flush()


def remove_member(ctx: RequestContext, *, person_id: str, member_id: str) -> None:
    """The person removes a member (or refuses a request), or the professional leaves."""
    person = find_person(ctx.session, person_id)
    member = find_member(ctx.session, person, member_id)
    if (
        member is not None
        and ctx.actor.kind == "professional"
        and member.professional_id == ctx.actor.id
    ):
        decision = require(ctx, Action.MEMBER_LEAVE, member)
        action = Action.MEMBER_LEAVE
    else:
        decision = require(ctx, Action.MEMBER_REMOVE, person)
        if member is None:
            require(ctx, Action.MEMBER_REMOVE, None)
        action = Action.MEMBER_REMOVE
    assert member is not None
    end_member(ctx.session, ctx.clock, member)
    record(ctx.session, ctx.clock, ctx.actor, action, decision, member.person_id)


def set_referent(ctx: RequestContext, *, person_id: str, member_id: str | None) -> None:
    """The person picks one active member as referent, or none; recorded."""
    person, decision = require_person(ctx, Action.REFERENT_SET, person_id)
    chosen = None
    if member_id is not None:
        chosen = find_member(ctx.session, person, member_id)
        if chosen is None or chosen.status != "active":
            require(ctx, Action.REFERENT_SET, None)
    ctx.session.execute(
        update(AccompanimentMember)
        .where(AccompanimentMember.person_id == person.id)
        .values(referent=False)
    )
    if chosen is not None:
        chosen.referent = True
    ctx.session.flush()
    record(ctx.session, ctx.clock, ctx.actor, Action.REFERENT_SET, decision, person.id)


def member_views(session: Session, person_id: str) -> list[MemberView]:
    """The person's list (active and requested entries), referent first."""
    rows = session.execute(
        select(AccompanimentMember, Professional, Organization)
        .join(Professional, Professional.id == AccompanimentMember.professional_id)
        .join(Organization, Organization.id == Professional.organization_id)
        .where(
            AccompanimentMember.person_id == person_id,
            AccompanimentMember.ended_at.is_(None),
        )
        .order_by(AccompanimentMember.referent.desc(), AccompanimentMember.created_at)
    )
    return [
        view_of(
            MemberView, m, professional_id=p.id, display_name=p.display_name, organization=o.name
        )
        for m, p, o in rows
    ]


def list_members(ctx: RequestContext, *, person_id: str) -> list[MemberView]:
    """The person's accompaniment list, if the actor may read it; 404 otherwise."""
    person, _ = require_person(ctx, Action.MEMBER_LIST, person_id)
    return member_views(ctx.session, person.id)
