"""Who may read which part of the audit log (asked through sharing.policy.decide).

The person reads the log of their own locker; a professional reads their own actions;
an auditor (a professional of the organisation running the service, role "auditor")
exports the whole log, which holds ids only and never any document content.
"""

from __future__ import annotations

from locker.actors import Actor
from locker.documents import Decision
from locker.models import Person

AUDITOR_ROLE = "auditor"
AUDIT_ACTIONS = frozenset(
    {"person:read_access_log", "audit:export", "audit:own_actions", "audit:prove_inclusion"}
)


def _deny(reason: str) -> Decision:
    return Decision(allowed=False, reason=reason)


def decide_audit(actor: Actor, action: str, target: object) -> Decision:
    """Allowed or not for one audit-log action; anything unforeseen is refused."""
    if actor.kind == "anonymous" or actor.id is None:
        return _deny("anonymous")
    auditor = actor.kind == "professional" and actor.role == AUDITOR_ROLE
    owner = actor.kind == "person" and isinstance(target, Person) and target.id == actor.id
    if action == "person:read_access_log":
        return Decision(allowed=True, reason="owner") if owner else _deny("not_owner")
    if action == "audit:export":
        return Decision(allowed=True, reason="auditor") if auditor else _deny("not_auditor")
    if action == "audit:own_actions":
        if actor.kind == "professional":
            return Decision(allowed=True, reason="self")
        return _deny("not_professional")
    if action == "audit:prove_inclusion":
        if auditor:
            return Decision(allowed=True, reason="auditor")
        return Decision(allowed=True, reason="owner") if owner else _deny("not_concerned")
    return _deny("unknown_action")
