"""Account recovery without e-mail: one-time codes issued face to face, printed cards."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from locker.accounts import normalise_username, set_password
from locker.actors import Actor, Clock
from locker.audit import AuditEvent, append_event, record_event
from locker.models import AuditRecord, Organization, Person, Professional
from sharing.errors import BadRecoveryCode, TooManyAttempts
from sharing.guard import find_person, record, require
from sharing.models import RecoveryCode
from sharing.policy import decide

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # about 59 bits: a stored SHA-256 of it cannot be brute-forced back
ISSUED_VALIDITY = timedelta(minutes=15)
CARD_CODES = 8
MAX_FAILURES = 5  # wrong codes per account in the last 15 minutes


@dataclass(frozen=True)
class ResetNotice:
    """What the person reads at their next sign-in: who reset the password, where, when."""

    id: str
    at: datetime
    by: str | None
    organization: str | None
    kind: str


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _hash(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(f"locker/recovery/v1:{cleaned}".encode()).hexdigest()


def issue_recovery_code(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: Clock,
    *,
    actor: Actor,
    person_id: str,
) -> tuple[str, datetime]:
    """A one-time code valid 15 minutes, by the referent or a mandated helper; recorded."""
    person = find_person(session, person_id)
    decision = require(session, session_factory, clock, actor, "recovery:issue", person)
    assert person is not None
    code = _new_code()
    now = clock()
    session.add(
        RecoveryCode(
            person_id=person.id,
            code_hash=_hash(code),
            kind="issued",
            issued_by_id=actor.id,
            organization_id=actor.organization_id,
            created_at=now,
            expires_at=now + ISSUED_VALIDITY,
        )
    )
    session.flush()
    record(session, clock, actor, "recovery:issue", decision, person.id)
    return code, now + ISSUED_VALIDITY


def print_recovery_card(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: Clock,
    *,
    actor: Actor,
    person_id: str,
) -> list[str]:
    """New single-use card codes for the person (the old card's unused codes stop working)."""
    person = find_person(session, person_id)
    decision = require(session, session_factory, clock, actor, "recovery:card", person)
    assert person is not None
    codes = new_card(session, clock, person)
    record(session, clock, actor, "recovery:card", decision, person.id)
    return codes


def new_card(session: Session, clock: Clock, person: Person) -> list[str]:
    """Fresh card codes, stored hashed only; the old card's unused ones stop working.

    The caller holds the policy's yes and records the act.
    """
    session.execute(
        delete(RecoveryCode).where(
            RecoveryCode.person_id == person.id,
            RecoveryCode.kind == "card",
            RecoveryCode.used_at.is_(None),
        )
    )
    codes = [_new_code() for _ in range(CARD_CODES)]
    now = clock()
    for code in codes:
        session.add(
            RecoveryCode(person_id=person.id, code_hash=_hash(code), kind="card", created_at=now)
        )
    session.flush()
    return codes


def _recent_failures(session: Session, person_id: str, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(
                AuditRecord.person_id == person_id,
                AuditRecord.action == "recovery:redeem",
                AuditRecord.outcome == "denied",
                AuditRecord.at > now - ISSUED_VALIDITY,
            )
        )
        or 0
    )


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

    Wrong, used, expired codes and unknown usernames give one answer. Failures are
    recorded at once and limit further tries on that account.
    """
    now = clock()
    person = session.scalar(
        select(Person).where(Person.username == normalise_username(username or ""))
    )
    if person is None:
        raise BadRecoveryCode("code")
    if _recent_failures(session, person.id, now) >= MAX_FAILURES:
        raise TooManyAttempts("wait")
    row = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.person_id == person.id,
            RecoveryCode.code_hash == _hash(code or ""),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        record_event(
            session_factory,
            clock,
            AuditEvent(
                action="recovery:redeem",
                outcome="denied",
                reason="bad_code",
                actor=Actor.anonymous(),
                person_id=person.id,
            ),
        )
        raise BadRecoveryCode("code")
    set_password(session, clock, person, new_password)
    row.used_at = now
    append_event(
        session,
        clock,
        AuditEvent(
            action="recovery:redeem",
            outcome="allowed",
            reason=row.kind,
            actor=Actor(kind="person", id=person.id),
            person_id=person.id,
        ),
    )
    session.flush()


def reset_notices(session: Session, person_id: str) -> list[ResetNotice]:
    """Resets the person has not yet acknowledged, with who did it and from where."""
    rows = session.execute(
        select(RecoveryCode, Professional.display_name, Organization.name)
        .outerjoin(Professional, Professional.id == RecoveryCode.issued_by_id)
        .outerjoin(Organization, Organization.id == RecoveryCode.organization_id)
        .where(
            RecoveryCode.person_id == person_id,
            RecoveryCode.used_at.is_not(None),
            RecoveryCode.notice_seen_at.is_(None),
        )
        .order_by(RecoveryCode.used_at)
    )
    return [
        ResetNotice(id=r.id, at=r.used_at or r.created_at, by=name, organization=org, kind=r.kind)
        for r, name, org in rows
    ]


def acknowledge_reset(session: Session, clock: Clock, *, actor: Actor, notice_id: str) -> None:
    """The person has read a reset notice; it stops showing (only their own)."""
    row = session.get(RecoveryCode, notice_id) if len(notice_id) == 36 else None
    person = find_person(session, row.person_id) if row is not None else None
    if row is None or person is None:
        return
    if decide(session, actor, "notice:list", person, now=clock()).allowed:
        row.notice_seen_at = clock()
        session.flush()
