"""Asking the policy from a sharing service: a yes, or a recorded refusal that reads 404.

The fresh second factor is checked here, once for every service: a professional's
sensitive act (FRESH_FACTOR_ACTIONS) that the policy allows is still refused, recorded,
with FreshFactorRequired (403) unless the request context says their factor passed within
the last minutes (`RequestContext.fresh_factor`, set by the web layer from the sign-in).
A route that forgot to offer the code again still cannot do the act with a stale session.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from locker.actors import Actor, Clock
from locker.audit import AuditEvent, append_event, record_event
from locker.context import RequestContext
from locker.errors import NotFound
from locker.models import Document, Person
from sharing.decisions import Action, Decision, deny
from sharing.errors import FreshFactorRequired, ServiceClosed
from sharing.models import AccompanimentMember
from sharing.policy import Target, acting_as, decide, person_id_of

# What a professional does only with a second factor passed within the last minutes: a
# stolen session or token alone must not hand out a way into a person's locker (a recovery
# code, a mandate prepared at the desk), put a paper in it, or take everything out of it.
# (Persons have no second factor: they are never asked.)
FRESH_FACTOR_ACTIONS = frozenset(
    {
        Action.RECOVERY_ISSUE,
        Action.PERSON_DEPOSIT,
        Action.PERSON_UPLOAD,  # a helper's upload under a mandate: a deposit too
        Action.MANDATE_PREPARE,
        Action.MANDATE_CREATE,
        Action.PERSON_EXPORT,
    }
)


def needs_fresh_factor(ctx: RequestContext, action: Action) -> bool:
    """Whether `action` by this context's actor waits for a fresh second factor."""
    return (
        action in FRESH_FACTOR_ACTIONS and ctx.actor.kind == "professional" and not ctx.fresh_factor
    )


def require(
    ctx: RequestContext, action: Action, target: Target, decided: Decision | None = None
) -> Decision:
    """The policy's yes; otherwise a committed "denied" record and NotFound (as if missing).

    `decided` is the answer of one of the policy's narrower questions (`decide_move`,
    `decide_grant`) when the action needs more than its target to be judged.
    """
    if target is None:
        decision = deny("not_found")
    elif decided is not None:
        decision = decided
    else:
        decision = decide(ctx.session, ctx.actor, action, target, now=ctx.clock())
    if decision.allowed and needs_fresh_factor(ctx, action):
        # Said as it is (403): the actor may do this, once they type a code again.
        ctx.record_denied(action, "stale_second_factor", person_id=person_id_of(target))
        raise FreshFactorRequired(action)
    if decision.allowed:
        return decision
    document_id = target.id if isinstance(target, Document) else None
    ctx.record_denied(
        action, decision.reason, person_id=person_id_of(target), document_id=document_id
    )
    if decision.reason == "service_closed":  # said as it is: nothing here is hidden
        raise ServiceClosed(action)
    raise NotFound(action.split(":", 1)[0])


def record(
    session: Session,
    clock: Clock,
    actor: Actor,
    action: Action,
    decision: Decision,
    person_id: str,
    document_id: str | None = None,
) -> None:
    """Append the "allowed" record of a change in the caller's transaction."""
    append_event(session, clock, _allowed(actor, action, decision, person_id, document_id))


def _allowed(
    actor: Actor, action: Action, decision: Decision, person_id: str, document_id: str | None
) -> AuditEvent:
    """The "allowed" record of an act; under a mandate it names both identities."""
    actor = acting_as(decision, actor, person_id)
    return AuditEvent(action, "allowed", decision.reason, actor, person_id, document_id)


def record_read(
    ctx: RequestContext,
    action: Action,
    decision: Decision,
    person_id: str,
    document_id: str | None = None,
) -> None:
    """Commit the record of someone else reading a person's titles, before they are shown.

    Titles and file names say what a paper is ("Titre de séjour", "Certificat médical"):
    reading them is an access the person must see, like opening the paper. The person
    reading their own is not recorded. AuditUnavailable (503) when it cannot be written:
    then nothing is shown.
    """
    if ctx.actor.kind == "person" and ctx.actor.id == person_id:
        return
    event = _allowed(ctx.actor, action, decision, person_id, document_id)
    record_event(ctx.session_factory, ctx.clock, event)


def find_person(session: Session, person_id: str) -> Person | None:
    """The person for an id, or None (anything malformed finds nothing)."""
    if not isinstance(person_id, str) or len(person_id) != 36:
        return None
    return session.get(Person, person_id)


def require_person(ctx: RequestContext, action: Action, person_id: str) -> tuple[Person, Decision]:
    """The person and the policy's yes for `action` on them; else a recorded 404."""
    person = find_person(ctx.session, person_id)
    decision = require(ctx, action, person)
    assert person is not None
    return person, decision


def find_member(
    session: Session, person: Person | None, member_id: object
) -> AccompanimentMember | None:
    """The person's list entry with this id (live or requested), or None."""
    if person is None or not isinstance(member_id, str) or len(member_id) != 36:
        return None
    member = session.get(AccompanimentMember, member_id)
    if member is None or member.person_id != person.id or member.ended_at is not None:
        return None
    return member
