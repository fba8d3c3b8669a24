"""The access policy: the one function that says whether an actor may act, and why.

Every route, page, API call and CLI command asks `decide` through sharing's services; a
read asks it once, and the plaintext door of `locker.documents` records that decision
before it decrypts anything.
Organisation admins and the operator have no path to any title or content.

Rights come only from current rows (accompaniment list, grants, mandates), read on
every call: `Actor.on_behalf_of` is recorded, never trusted. The clock is the
caller's `now` (the request context's clock, injectable in tests).

Helpers: a helper is a member of the person's list, whose organisation does digital
inclusion (`organization_profiles`, set by the operator), to whom the person gave a
mandate confirmed with their own password. Both are read on every call: an organisation
switched off ends its professionals' mandates at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from locker.actors import Actor
from locker.models import Document, Organization, Person, Professional
from locker.service import closure
from sharing.audit_access import AUDIT_ACTIONS, decide_audit
from sharing.decisions import Action, Decision, allow, deny
from sharing.models import AccompanimentMember, CounterLink, CounterLinkPaper, Grant
from sharing.org_access import ADMIN_ACTIONS, decide_admin, is_disabled
from sharing.rights import (
    active_member,
    does_digital_inclusion,
    live_grant,
    live_scopes,
    readers_of,
    recovery_barred,
)

# Title, thumbnail, preview and content: what a grant shows (the preview is the content
# seen on screen, so whoever may read a paper may preview it, and no one else).
VIEW_ACTIONS = frozenset(
    {
        Action.DOCUMENT_READ,
        Action.DOCUMENT_DESCRIBE,
        Action.DOCUMENT_THUMBNAIL,
        Action.DOCUMENT_PREVIEW,
    }
)
DOCUMENT_ACTIONS = frozenset(
    VIEW_ACTIONS
    | {
        Action.DOCUMENT_DELETE,
        Action.DOCUMENT_RENAME,
        Action.DOCUMENT_CATEGORISE,
        Action.DOCUMENT_VALIDITY,
        Action.DOCUMENT_TRASH,
        Action.DOCUMENT_RESTORE,
        Action.GRANT_LIST,
        Action.GRANT_CREATE,
    }
)
PERSON_ACTIONS = frozenset(
    {
        Action.PERSON_LIST_DOCUMENTS,
        Action.PERSON_UPLOAD,
        Action.PERSON_DEPOSIT,
        # The person's page on a member's desk: what they shared with that member, nothing else.
        Action.PERSON_DESK,
        Action.PERSON_EXPORT,
        Action.MEMBER_LIST,
        Action.MEMBER_ADD,
        Action.MEMBER_REMOVE,
        Action.MEMBER_ACCEPT,
        Action.REFERENT_SET,
        Action.GRANT_LIST,
        Action.GRANT_CREATE,
        Action.MANDATE_LIST,
        Action.MANDATE_CREATE,
        Action.MANDATE_PREPARE,
        Action.MANDATE_REVOKE,
        Action.RECOVERY_ISSUE,
        Action.RECOVERY_CARD,
        Action.NOTICE_LIST,
        # Counter links: the person's own, never a helper's (not in MANDATE_SCOPE): a link
        # anyone holding it may open would hand the helper papers no grant gave them.
        Action.COUNTER_CREATE,
        Action.COUNTER_LIST,
        Action.COUNTER_REVOKE,
        # What happens to the papers shared with a professional who left their organisation:
        # the person alone decides (a handover only with their yes).
        Action.DEPARTURE_END,
        Action.DEPARTURE_HAND_OVER,
    }
)
GLOBAL_ACTIONS = frozenset({Action.PERSON_CREATE, Action.JOIN_REQUEST, Action.PROFESSIONAL_PERSONS})
# What a mandate scope lets a helper do for the person (never delete, never re-mandate).
MANDATE_SCOPE = {
    Action.DOCUMENT_READ: "view",
    Action.DOCUMENT_DESCRIBE: "view",
    Action.DOCUMENT_THUMBNAIL: "view",
    Action.DOCUMENT_PREVIEW: "view",
    Action.PERSON_LIST_DOCUMENTS: "view",
    Action.PERSON_UPLOAD: "upload",
    Action.DOCUMENT_RENAME: "organise",
    Action.DOCUMENT_CATEGORISE: "organise",
    Action.DOCUMENT_VALIDITY: "organise",
    Action.DOCUMENT_TRASH: "organise",
    Action.DOCUMENT_RESTORE: "organise",
    Action.GRANT_LIST: "share",
    Action.GRANT_CREATE: "share",
    Action.GRANT_REVOKE: "share",
    Action.MEMBER_LIST: "share",
    Action.PERSON_EXPORT: "export",
}

ALLOW_OWNER = allow("owner")
# What a closed service no longer takes: anything new. Reading, taking everything, ending a
# share or a mandate and closing one's account stay open through the export window.
NEW_THINGS = frozenset(
    {
        Action.PERSON_CREATE,
        Action.PERSON_UPLOAD,
        Action.PERSON_DEPOSIT,
        Action.GRANT_CREATE,
        Action.COUNTER_CREATE,
        Action.MANDATE_CREATE,
        Action.MANDATE_PREPARE,
        Action.MEMBER_ADD,
        Action.MEMBER_ACCEPT,
        Action.JOIN_REQUEST,
    }
)

Target = Document | Person | AccompanimentMember | Grant | Organization | Professional | None


def person_id_of(target: Target) -> str | None:
    """The person whose locker the target belongs to (None without a target)."""
    if isinstance(target, Person):
        return target.id
    if isinstance(target, Document | AccompanimentMember | Grant):
        return target.person_id
    return None


def _professional(
    session: Session, actor: Actor, action: Action, target: Target, now: datetime
) -> Decision:
    person_id = person_id_of(target)
    if person_id is None:
        return deny("no_target")
    if action == Action.MEMBER_LEAVE and isinstance(target, AccompanimentMember):
        mine = target.professional_id == actor.id and target.ended_at is None
        return allow("self") if mine else deny("not_member")
    member = active_member(session, person_id, actor.id)
    if member is None:
        return deny("not_member")
    trashed = isinstance(target, Document) and target.deleted_at is not None
    if trashed and action != Action.DOCUMENT_RESTORE:
        # The trash hides a paper from everyone but the person (a helper may put it back).
        return deny("in_trash")
    viewing = action in VIEW_ACTIONS and isinstance(target, Document)
    if viewing and live_grant(session, member, target, now) is not None:  # type: ignore[arg-type]
        return allow("grant")
    if action in {Action.PERSON_DEPOSIT, Action.PERSON_DESK}:
        return allow("member")
    helper = does_digital_inclusion(session, actor.id)
    if action == Action.MANDATE_PREPARE:
        # At the helper's desk; the person's own password, typed there, still decides.
        return allow("helper") if helper else deny("not_digital_inclusion")
    scopes = live_scopes(session, member, now) if helper else set()
    if action == Action.RECOVERY_ISSUE:
        # A code resets the password: only the referent the person chose, or a helper
        # whose live mandate names "recovery", never one the person said reset it behind
        # their back ("Ce n'était pas moi").
        if recovery_barred(session, person_id, actor.id):
            return deny("recovery_barred")
        if member.referent:
            return allow("referent")
        if "recovery" in scopes:
            return allow("mandate:recovery")
        return deny("no_mandate" if scopes else "not_referent")
    scope = MANDATE_SCOPE.get(action)
    if scope is not None and scope in scopes:
        return allow(f"mandate:{scope}")
    return deny("no_grant" if action in VIEW_ACTIONS else "no_mandate")


def decide(
    session: Session,
    actor: Actor,
    action: Action,
    target: Target = None,
    *,
    now: datetime,
) -> Decision:
    """Allowed or not, and why, for (actor, action, target) at `now`; unknown actions are
    refused.

    Owners may do everything to their own locker; a member sees a document only through
    a live grant; a helper acts only within a live mandate's scopes; an org admin, the
    operator and anonymous callers reach nothing of a person's. A deactivated
    professional reaches nothing at all (read from their row on every call). Administering
    an organisation's accounts is asked of `sharing.org_access`.
    """
    if action in ADMIN_ACTIONS:
        return decide_admin(session, actor, action, target)  # type: ignore[arg-type]
    if actor.kind == "anonymous" or actor.id is None:
        return deny("anonymous")
    if is_disabled(session, actor):
        return deny("disabled")
    if action in NEW_THINGS and (announced := closure(session)) and announced.closed(now):
        return deny("service_closed")
    if action in GLOBAL_ACTIONS:
        if actor.kind == "professional":
            if actor.role == "professional":
                return allow("professional")
            return deny("org_admin_no_persons")
        return deny("not_permitted")
    if action in AUDIT_ACTIONS:
        return decide_audit(session, actor, action, target)
    known = action in DOCUMENT_ACTIONS or action in PERSON_ACTIONS
    if not known and action not in {Action.GRANT_REVOKE, Action.MEMBER_LEAVE}:
        return deny("unknown_action")
    if isinstance(target, Document) and action not in DOCUMENT_ACTIONS:
        return deny("no_target")
    if isinstance(target, Person) and action not in PERSON_ACTIONS:
        return deny("no_target")
    if isinstance(target, Organization | Professional):
        return deny("no_target")
    person_id = person_id_of(target)
    if person_id is None:
        return deny("no_target")
    if actor.kind == "person":
        if actor.id != person_id or action in {
            Action.PERSON_DEPOSIT,
            Action.PERSON_DESK,
            Action.RECOVERY_ISSUE,
            Action.MEMBER_LEAVE,
            Action.MANDATE_PREPARE,
        }:
            return deny("not_owner")
        # A mandate goes only to a professional of a digital-inclusion organisation.
        helper_target = isinstance(target, AccompanimentMember) and action == Action.MANDATE_CREATE
        if helper_target and not does_digital_inclusion(session, target.professional_id):  # type: ignore[union-attr]
            return deny("not_digital_inclusion")
        return ALLOW_OWNER
    if actor.kind != "professional":
        return deny("not_permitted")
    if actor.role != "professional":
        return deny("org_admin")
    return _professional(session, actor, action, target, now)


def decide_move(
    session: Session, actor: Actor, document: Document, category: str, *, now: datetime
) -> Decision:
    """May the actor file the document under `category`? Moving never widens its readers.

    Under a mandate ("organise"), a move into a category the person shared with someone
    would let that member read the paper: only the person, or a helper acting exactly
    under "share" through a grant, may widen who reads. The helper's own membership counts
    like any other, so a move never hands the helper a read right either.
    """
    decision = decide(session, actor, Action.DOCUMENT_CATEGORISE, document, now=now)
    if not decision.allowed or not decision.reason.startswith("mandate"):
        return decision
    before = readers_of(session, document, document.category, now)
    after = readers_of(session, document, category, now)
    return decision if after <= before else deny("would_widen_readers")


def decide_grant(
    session: Session,
    actor: Actor,
    target: Document | Person,
    grantee: AccompanimentMember,
    *,
    now: datetime,
) -> Decision:
    """May the actor let `grantee` see the document (or a category of the person)?

    A helper under a "share" mandate shares for the person with others, never with
    themself: a mandate never gives the helper a read right they did not have.
    """
    decision = decide(session, actor, Action.GRANT_CREATE, target, now=now)
    under_mandate = decision.allowed and decision.reason.startswith("mandate")
    if under_mandate and grantee.professional_id == actor.id:
        return deny("grant_to_self")
    return decision


def decide_counter(
    session: Session,
    link: CounterLink | None,
    document: Document | None,
    action: Action,
    *,
    now: datetime,
) -> Decision:
    """May the browser that claimed `link` see `document` through it (`action`: a page's
    preview, or the file itself)? Only while the link lives, only the papers the person
    put in it, the file only if the person allowed its download."""
    if link is None or document is None or document.person_id != link.person_id:
        return deny("not_found")
    if link.revoked_at is not None:
        return deny("counter_revoked")
    if link.expires_at <= now:
        return deny("counter_expired")
    if session.get(CounterLinkPaper, (link.id, document.id)) is None:
        return deny("not_in_link")
    if action == Action.DOCUMENT_READ and not link.allow_download:
        return deny("no_download")
    if action not in {Action.DOCUMENT_READ, Action.DOCUMENT_PREVIEW}:
        return deny("not_permitted")
    return allow("counter_link")


def acting_as(decision: Decision, actor: Actor, person_id: str) -> Actor:
    """The actor as the audit log must record it: under a mandate, both identities."""
    if decision.allowed and decision.reason.startswith("mandate"):
        return replace(actor, on_behalf_of=person_id)
    return actor
