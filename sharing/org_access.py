"""Who may administer an organisation's professionals (asked through sharing.policy.decide).

An organisation admin (role "org_admin") lists, invites, re-roles and deactivates the
professionals of their own organisation, and of no other; the operator's command line
may do it for any. None of these acts names a person or a paper: an admin's rights stop
at accounts, never reaching a title, a thumbnail or a content (those actions are refused
to an org admin by `sharing.policy.decide`).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from locker.actors import Actor
from locker.models import Organization, Professional
from sharing.decisions import Action, Decision, allow, deny

ADMIN_ROLE = "org_admin"
ADMIN_ACTIONS = frozenset(
    {
        Action.ORGANIZATION_STAFF,
        Action.PROFESSIONAL_INVITE,
        Action.PROFESSIONAL_ROLE,
        Action.PROFESSIONAL_DEACTIVATE,
    }
)
# What a refusal is said as: not an admin at all (403), or someone else's organisation,
# which answers like a missing one (404).
NOT_ADMIN = "not_org_admin"


def is_disabled(session: Session, actor: Actor) -> bool:
    """Whether the acting professional's account is deactivated (read now, on every call)."""
    if actor.kind != "professional" or actor.id is None:
        return False
    row = session.get(Professional, actor.id)
    return row is None or row.disabled_at is not None


def decide_admin(
    session: Session, actor: Actor, action: Action, target: Organization | Professional | None
) -> Decision:
    """Allowed or not for one administration act on an organisation (or one of its
    professionals); anything unforeseen is refused."""
    if action not in ADMIN_ACTIONS:
        return deny("unknown_action")
    if actor.kind == "system":
        return allow("operator") if target is not None else deny("no_target")
    if actor.kind != "professional" or actor.id is None or actor.role != ADMIN_ROLE:
        return deny(NOT_ADMIN)
    if is_disabled(session, actor):
        return deny("disabled")
    if isinstance(target, Organization) and action in {
        Action.ORGANIZATION_STAFF,
        Action.PROFESSIONAL_INVITE,
    }:
        organization_id: str | None = target.id
    elif isinstance(target, Professional) and action != Action.ORGANIZATION_STAFF:
        # (inviting again: a new link for one who has not answered the first)
        organization_id = target.organization_id
    else:
        return deny("no_target")
    if organization_id != actor.organization_id:
        return deny("other_organization")
    return allow(ADMIN_ROLE)


def _other_active_admins(session: Session, professional: Professional) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Professional)
            .where(
                Professional.organization_id == professional.organization_id,
                Professional.role == ADMIN_ROLE,
                Professional.disabled_at.is_(None),
                Professional.id != professional.id,
            )
        )
        or 0
    )


def decide_staff_change(
    session: Session, actor: Actor, target: Professional, *, role: str | None
) -> Decision:
    """May the actor give `target` this stored role (`role`), or deactivate them (None)?

    An organisation always keeps one active admin: the last one can neither step down
    nor be switched off (they would lock their organisation out of its own accounts).
    """
    action = Action.PROFESSIONAL_DEACTIVATE if role is None else Action.PROFESSIONAL_ROLE
    decision = decide_admin(session, actor, action, target)
    if not decision.allowed:
        return decision
    stays_admin = role == ADMIN_ROLE
    leaves = target.role == ADMIN_ROLE and target.disabled_at is None and not stays_admin
    if leaves and _other_active_admins(session, target) == 0:
        return deny("last_org_admin")
    return decision
