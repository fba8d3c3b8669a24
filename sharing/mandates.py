"""Helpers' mandates: scoped, dated, revocable, confirmed with the person's own password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from locker.accounts import authenticate
from locker.actors import Actor, Clock
from locker.audit import append_allowed
from locker.context import RequestContext
from locker.errors import InvalidInput
from locker.models import AuditRecord, Person, Professional
from locker.views import view_of
from sharing.decisions import Action
from sharing.errors import NotAHelper, PasswordNotConfirmed, TooManyAttempts
from sharing.guard import find_member, find_person, record, require, require_person
from sharing.models import AccompanimentMember, Mandate
from sharing.policy import decide
from sharing.rights import SCOPES, active_member, unrevoked

DURATIONS = {
    "1d": timedelta(days=1),
    "1m": timedelta(days=30),
    "6m": timedelta(days=182),
    "1y": timedelta(days=365),
}
CONFIRM_WINDOW = timedelta(minutes=15)
MAX_REFUSALS = 5  # wrong passwords typed to confirm a mandate, per person, per window


@dataclass(frozen=True)
class MandateView:
    """A mandate as the person sees it."""

    id: str
    member_id: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    live: bool


def mandate_view(mandate: Mandate, now: datetime) -> MandateView:
    """The public shape of a mandate; `live` is false once revoked or expired."""
    live = mandate.revoked_at is None and mandate.expires_at > now
    return view_of(MandateView, mandate, scopes=mandate.scopes.split(), live=live)


def _scopes(scopes: object) -> str:
    if not isinstance(scopes, list) or not scopes:
        raise InvalidInput("scopes", field="scopes")
    chosen = {s for s in scopes if isinstance(s, str)}
    if not chosen or not chosen <= set(SCOPES) or len(chosen) != len(scopes):
        raise InvalidInput("scopes", field="scopes")
    return " ".join(s for s in SCOPES if s in chosen)


def _recent_refusals(session: Session, person_id: str, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(
                AuditRecord.person_id == person_id,
                AuditRecord.action == Action.MANDATE_CONFIRM,
                AuditRecord.outcome == "denied",
                AuditRecord.at > now - CONFIRM_WINDOW,
            )
        )
        or 0
    )


def _confirm_password(
    ctx: RequestContext,
    person: Person,
    username: str,
    password: str,
) -> None:
    """The person's own credentials, typed now; a wrong one is recorded and limits tries."""
    if _recent_refusals(ctx.session, person.id, ctx.clock()) >= MAX_REFUSALS:
        raise TooManyAttempts("wait")
    confirmed = authenticate(ctx.session, username=username or "", password=password or "")
    if confirmed is None or confirmed.id != person.id:
        ctx.record_denied(Action.MANDATE_CONFIRM, "bad_password", person_id=person.id)
        raise PasswordNotConfirmed("password")


def _give(
    session: Session,
    clock: Clock,
    person: Person,
    member: AccompanimentMember,
    scopes: object,
    duration: object,
    how: str,
) -> Mandate:
    """The mandate row and its two records: the person gives, the helper receives."""
    scope_text = _scopes(scopes)
    if not isinstance(duration, str) or duration not in DURATIONS:
        raise InvalidInput("duration", field="duration")
    now = clock()
    mandate = Mandate(
        person_id=person.id,
        member_id=member.id,
        scopes=scope_text,
        created_at=now,
        expires_at=now + DURATIONS[duration],
    )
    session.add(mandate)
    session.flush()
    helper = session.get(Professional, member.professional_id)
    assert helper is not None
    giver = Actor(kind="person", id=person.id)
    receiver = Actor(
        kind="professional",
        id=helper.id,
        organization_id=helper.organization_id,
        role=helper.role,
        on_behalf_of=person.id,
    )
    for action, who in ((Action.MANDATE_CREATE, giver), (Action.MANDATE_RECEIVE, receiver)):
        append_allowed(session, clock, action, how, who, person_id=person.id)
    return mandate


def _helper_member(
    ctx: RequestContext,
    person: Person,
    member: AccompanimentMember | None,
) -> AccompanimentMember:
    """An active member the policy accepts as a helper (digital inclusion), else refused."""
    if member is None or member.status != "active":
        raise InvalidInput("not a member of the list", field="member_id")
    decision = decide(ctx.session, ctx.actor, Action.MANDATE_CREATE, member, now=ctx.clock())
    if not decision.allowed:
        ctx.record_denied(Action.MANDATE_CREATE, decision.reason, person_id=person.id)
        raise NotAHelper("member_id", field="member_id")
    return member


def create_mandate(
    ctx: RequestContext,
    *,
    person_id: str,
    member_id: object,
    scopes: object,
    duration: object,
    password: str,
) -> Mandate:
    """On the person's own screen: they give a helper a mandate, retyping their password.

    Only a member whose organisation does digital inclusion can receive one; a wrong
    password is recorded and tries are limited; both identities are recorded.
    """
    person, _ = require_person(ctx, Action.MANDATE_CREATE, person_id)
    found = find_member(ctx.session, person, member_id)
    member = _helper_member(ctx, person, found)
    _scopes(scopes)
    _confirm_password(ctx, person, person.username, password)
    return _give(ctx.session, ctx.clock, person, member, scopes, duration, "own_screen")


def prepare_desk_mandate(ctx: RequestContext, *, person_id: str) -> str:
    """The name of the person a helper may prepare a mandate for at their desk, or 404."""
    person, _ = require_person(ctx, Action.MANDATE_PREPARE, person_id)
    return person.display_name


def create_mandate_at_desk(
    ctx: RequestContext,
    *,
    person_id: str,
    scopes: object,
    duration: object,
    username: str,
    password: str,
) -> Mandate:
    """On the helper's screen: the helper prepares it, the person beside them confirms by
    typing their own username and password; a wrong one is refused, recorded, limited."""
    person, _ = require_person(ctx, Action.MANDATE_PREPARE, person_id)
    member = active_member(ctx.session, person.id, ctx.actor.id)
    assert member is not None  # the policy said yes: the actor is on the person's list
    _scopes(scopes)
    _confirm_password(ctx, person, username, password)
    return _give(ctx.session, ctx.clock, person, member, scopes, duration, "helper_screen")


def revoke_mandate(ctx: RequestContext, *, mandate_id: str) -> None:
    """The person ends a mandate at once; recorded."""
    mandate = ctx.session.get(Mandate, mandate_id) if len(mandate_id) == 36 else None
    person = find_person(ctx.session, mandate.person_id) if mandate is not None else None
    decision = require(ctx, Action.MANDATE_REVOKE, person)
    assert mandate is not None and person is not None
    if mandate.revoked_at is None:
        mandate.revoked_at = ctx.clock()
        ctx.session.flush()
    record(ctx.session, ctx.clock, ctx.actor, Action.MANDATE_REVOKE, decision, person.id)


def list_mandates(ctx: RequestContext, *, person_id: str) -> list[MandateView]:
    """The person's unrevoked mandates (expired ones shown as not live)."""
    person, _ = require_person(ctx, Action.MANDATE_LIST, person_id)
    now = ctx.clock()
    return [mandate_view(m, now) for m in unrevoked(ctx.session, Mandate, person.id)]
