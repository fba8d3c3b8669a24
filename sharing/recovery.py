"""Account recovery without e-mail: one-time codes issued face to face, printed cards.

Why it is built so (issue 11, points 1 and 2): whoever issues a code can redeem it and
so take the account. The design makes that possible only with a right the person gave
for exactly that, visible, and never final:

- Issuing needs the referent the person chose, or a helper whose live mandate names the
  scope "recovery" (`sharing.policy`); no other scope and no other member can.
- A reset by a code someone else saw (an issued code, or the card printed at account
  creation, whose codes the creator saw) never voids the person's own card: its unused
  codes keep working, so the real person can always take the account back.
- For 7 days after such a reset nobody, not even someone signed in as the person, can
  replace the card (which would void the person's codes) or dismiss the notice; at each
  sign-in the person reads who reset the account and when, with "Ce n'était pas moi":
  it ends every session and token of the account, voids the codes that issuer still
  holds, and bars them from issuing again for this person (the policy reads the
  disputed code row).
- Issuing (Action.RECOVERY_ISSUE, the issuer as actor) and redeeming (Action.RECOVERY_REDEEM,
  reason "issued:<issuer id>" or "initial:<creator id>") are both in the audit log.
- The card printed at creation is kind "initial": it stops working when the person sets
  their own password (the forced first change), and they get a fresh card then; if that
  change falls within the 7 days after a reset by code, it works until they end.
- Wrong codes are counted by the web layer per submitted username *and client address*,
  and per address (`web.throttle`), never per account alone: an attacker elsewhere can
  neither block the real person's recovery nor tell which usernames exist.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from locker.accounts import end_all_sessions, normalise_username, set_password
from locker.actors import Actor, Clock
from locker.audit import AuditEvent, append_allowed, record_event
from locker.context import RequestContext
from locker.models import Organization, Person, Professional
from sharing.decisions import Action
from sharing.errors import BadRecoveryCode, CardLocked
from sharing.guard import find_person, record, require, require_person
from sharing.models import RecoveryCode
from sharing.policy import decide

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # about 59 bits: a stored SHA-256 of it cannot be brute-forced back
ISSUED_VALIDITY = timedelta(minutes=15)
CARD_CODES = 8
# After a reset with a code someone else saw: the card stays, the notice stays, this long.
RESET_LOCK = timedelta(days=7)
# Codes someone other than the person saw: their issuer is named in notices and records.
SEEN_BY_ISSUER = ("issued", "initial")


@dataclass(frozen=True)
class ResetNotice:
    """What the person reads at their next sign-in: who reset the password, where, when."""

    id: str
    at: datetime
    by: str | None
    organization: str | None
    kind: str
    # Until when the notice cannot be dismissed (None: it can be, now).
    locked_until: datetime | None
    disputed: bool


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _hash(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(f"locker/recovery/v1:{cleaned}".encode()).hexdigest()


def issue_recovery_code(ctx: RequestContext, *, person_id: str) -> tuple[str, datetime]:
    """A one-time code valid 15 minutes, by the referent or a mandated helper; recorded."""
    person, decision = require_person(ctx, Action.RECOVERY_ISSUE, person_id)
    code = _new_code()
    now = ctx.clock()
    ctx.session.add(
        RecoveryCode(
            person_id=person.id,
            code_hash=_hash(code),
            kind="issued",
            issued_by_id=ctx.actor.id,
            organization_id=ctx.actor.organization_id,
            created_at=now,
            expires_at=now + ISSUED_VALIDITY,
        )
    )
    ctx.session.flush()
    record(ctx.session, ctx.clock, ctx.actor, Action.RECOVERY_ISSUE, decision, person.id)
    return code, now + ISSUED_VALIDITY


def print_recovery_card(ctx: RequestContext, *, person_id: str) -> list[str]:
    """New single-use card codes for the person (the old card's unused codes stop working)."""
    person, decision = require_person(ctx, Action.RECOVERY_CARD, person_id)
    until = reset_lock_until(ctx.session, person.id, ctx.clock())
    if until is not None:
        # The person's own card is what lets them take the account back after a reset
        # someone else may have made: nobody replaces it for 7 days.
        raise CardLocked("card", until=until.strftime("%d/%m/%Y %H:%M"))
    codes = new_card(ctx.session, ctx.clock, person)
    record(ctx.session, ctx.clock, ctx.actor, Action.RECOVERY_CARD, decision, person.id)
    return codes


def new_card(
    session: Session, clock: Clock, person: Person, *, shown_to: Actor | None = None
) -> list[str]:
    """Fresh card codes, stored hashed only; the old card's unused ones stop working.

    `shown_to` is the professional who sees them at account creation: the card is then
    "initial", counted as issued by them until the person sets their own password.
    The caller holds the policy's yes and records the act.
    """
    session.execute(
        delete(RecoveryCode).where(
            RecoveryCode.person_id == person.id,
            RecoveryCode.kind.in_(("card", "initial")),
            RecoveryCode.used_at.is_(None),
        )
    )
    codes = [_new_code() for _ in range(CARD_CODES)]
    now = clock()
    for code in codes:
        session.add(
            RecoveryCode(
                person_id=person.id,
                code_hash=_hash(code),
                kind="card" if shown_to is None else "initial",
                issued_by_id=shown_to.id if shown_to is not None else None,
                organization_id=shown_to.organization_id if shown_to is not None else None,
                created_at=now,
            )
        )
    session.flush()
    return codes


def reset_lock_until(session: Session, person_id: str, now: datetime) -> datetime | None:
    """The end of the 7 days after the latest reset by a code someone else saw, if running."""
    last = session.scalar(
        select(RecoveryCode.used_at)
        .where(
            RecoveryCode.person_id == person_id,
            RecoveryCode.kind.in_(SEEN_BY_ISSUER),
            RecoveryCode.used_at > now - RESET_LOCK,
        )
        .order_by(RecoveryCode.used_at.desc())
        .limit(1)
    )
    return last + RESET_LOCK if last is not None else None


def after_own_password(session: Session, clock: Clock, person: Person, *, fresh: bool) -> list[str]:
    """Once the person set their own password, the card shown at creation stops working.

    With `fresh`, a new card is made at once and its codes returned (to be shown once).
    During the 7 days after a reset by someone else's code the creation card stays (it
    may be what lets the person take the account back) and expires when they end.
    """
    unused_initial = (
        RecoveryCode.person_id == person.id,
        RecoveryCode.kind == "initial",
        RecoveryCode.used_at.is_(None),
    )
    until = reset_lock_until(session, person.id, clock())
    if until is not None:
        session.execute(update(RecoveryCode).where(*unused_initial).values(expires_at=until))
        session.flush()
        return []
    if session.scalar(select(RecoveryCode.id).where(*unused_initial).limit(1)) is None:
        return []
    session.execute(delete(RecoveryCode).where(*unused_initial))
    session.flush()
    return new_card(session, clock, person) if fresh else []


def redeem_recovery_code(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: Clock,
    *,
    username: str,
    code: str,
    new_password: str,
) -> None:
    """Set a new password with a valid unused code; every session and token ends.

    Wrong, used, expired codes and unknown usernames give one answer; a wrong code on an
    existing account is recorded at once (the person sees it in their access log). The
    caller limits tries (per username and address, and per address), whether the
    account exists or not. Redeeming never voids the person's other card codes.
    """
    now = clock()
    person = session.scalar(
        select(Person).where(Person.username == normalise_username(username or ""))
    )
    if person is None:
        raise BadRecoveryCode("code")
    row = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.person_id == person.id,
            RecoveryCode.code_hash == _hash(code or ""),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        refused = AuditEvent(
            Action.RECOVERY_REDEEM, "denied", "bad_code", Actor.anonymous(), person.id
        )
        record_event(session_factory, clock, refused)
        raise BadRecoveryCode("code")
    set_password(session, clock, person, new_password)
    row.used_at = now
    # The record names who issued the code that was used (who else could have used it).
    reason = row.kind if row.issued_by_id is None else f"{row.kind}:{row.issued_by_id}"
    actor = Actor(kind="person", id=person.id)
    append_allowed(session, clock, Action.RECOVERY_REDEEM, reason, actor, person_id=person.id)
    session.flush()


def reset_notices(session: Session, person_id: str, now: datetime) -> list[ResetNotice]:
    """Resets the person has not acknowledged, and every reset by someone else's code in
    the last 7 days (those cannot be dismissed), with who did it and from where."""
    lock_start = now - RESET_LOCK
    rows = session.execute(
        select(RecoveryCode, Professional.display_name, Organization.name)
        .outerjoin(Professional, Professional.id == RecoveryCode.issued_by_id)
        .outerjoin(Organization, Organization.id == RecoveryCode.organization_id)
        .where(
            RecoveryCode.person_id == person_id,
            RecoveryCode.used_at.is_not(None),
        )
        .order_by(RecoveryCode.used_at)
    )
    notices = []
    for r, name, org in rows:
        at = r.used_at or r.created_at
        locked = r.kind in SEEN_BY_ISSUER and at > lock_start
        if r.notice_seen_at is not None and not locked:
            continue
        notices.append(
            ResetNotice(
                id=r.id,
                at=at,
                by=name,
                organization=org,
                kind=r.kind,
                locked_until=at + RESET_LOCK if locked else None,
                disputed=r.disputed_at is not None,
            )
        )
    return notices


def _own_reset(
    ctx: RequestContext,
    notice_id: str,
) -> tuple[RecoveryCode, Person]:
    """A used code of the actor's own account, or a recorded 404."""
    found = isinstance(notice_id, str) and len(notice_id) == 36
    row = ctx.session.get(RecoveryCode, notice_id) if found else None
    if row is not None and row.used_at is None:
        row = None
    person = find_person(ctx.session, row.person_id) if row is not None else None
    require(ctx, Action.NOTICE_LIST, person)
    assert row is not None and person is not None
    return row, person


def acknowledge_reset(session: Session, clock: Clock, *, actor: Actor, notice_id: str) -> bool:
    """The person has read a reset notice; it stops showing (only their own).

    False when it cannot be dismissed yet (7 days after a reset by someone else's code).
    """
    row = session.get(RecoveryCode, notice_id) if len(notice_id) == 36 else None
    person = find_person(session, row.person_id) if row is not None else None
    if row is None or person is None:
        return True
    now = clock()
    if not decide(session, actor, Action.NOTICE_LIST, person, now=now).allowed:
        return True
    used = row.used_at
    if row.kind in SEEN_BY_ISSUER and used is not None and used > now - RESET_LOCK:
        return False
    row.notice_seen_at = now
    session.flush()
    return True


def dispute_reset(ctx: RequestContext, *, notice_id: str) -> None:
    """ "Ce n'était pas moi": every session and token of the account ends (this one too),
    and whoever issued the code may never issue one for this person again; recorded."""
    row, person = _own_reset(ctx, notice_id)
    now = ctx.clock()
    if row.disputed_at is None:
        row.disputed_at = now
    if row.issued_by_id is not None:
        # Codes that issuer still holds (another issued one, the rest of the card printed
        # at creation) stop working: they were the way back in.
        ctx.session.execute(
            delete(RecoveryCode).where(
                RecoveryCode.person_id == person.id,
                RecoveryCode.issued_by_id == row.issued_by_id,
                RecoveryCode.used_at.is_(None),
            )
        )
    end_all_sessions(ctx.session, ctx.clock, person)
    reason = "card" if row.issued_by_id is None else f"issuer:{row.issued_by_id}"
    append_allowed(
        ctx.session, ctx.clock, Action.RECOVERY_DISPUTE, reason, ctx.actor, person_id=person.id
    )
    ctx.session.flush()
