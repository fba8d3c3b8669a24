"""Who may read which part of the audit log (asked through sharing.policy.decide).

The person reads the log of their own locker; a professional reads their own actions;
an auditor exports the whole log, which holds ids only and never any document content.
An auditor is a professional with the role "auditor" in the organisation the operator
named as auditing the service (read now, on every call): an organisation admin who names
an auditor anywhere else gives them nothing of anyone's log.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from locker.actors import Actor
from locker.models import Person
from sharing.decisions import Action, Decision, allow, deny
from sharing.rights import audits_service

AUDITOR_ROLE = "auditor"
AUDIT_ACTIONS = frozenset(
    {
        Action.PERSON_READ_ACCESS_LOG,
        Action.AUDIT_EXPORT,
        Action.AUDIT_OWN_ACTIONS,
        Action.AUDIT_PROVE_INCLUSION,
    }
)


def decide_audit(session: Session, actor: Actor, action: Action, target: object) -> Decision:
    """Allowed or not for one audit-log action; anything unforeseen is refused."""
    if actor.kind == "anonymous" or actor.id is None:
        return deny("anonymous")
    auditor = (
        actor.kind == "professional"
        and actor.role == AUDITOR_ROLE
        and audits_service(session, actor.id)
    )
    owner = actor.kind == "person" and isinstance(target, Person) and target.id == actor.id
    if action == Action.PERSON_READ_ACCESS_LOG:
        return allow("owner") if owner else deny("not_owner")
    if action == Action.AUDIT_EXPORT:
        return allow("auditor") if auditor else deny("not_auditor")
    if action == Action.AUDIT_OWN_ACTIONS:
        if actor.kind == "professional":
            return allow("self")
        return deny("not_professional")
    if action == Action.AUDIT_PROVE_INCLUSION:
        if auditor:
            return allow("auditor")
        return allow("owner") if owner else deny("not_concerned")
    return deny("unknown_action")
