"""Professionals' second factor: a TOTP (RFC 6238) and ten single-use backup codes.

Why it works so:

- **A database dump yields no factor.** The TOTP secret is sealed under a key of its own,
  that key wrapped by the keyring's master key and bound to the professional's id (as a
  person's key is); backup codes are stored as hashes only.
- **A code is used once.** A code is accepted for the step before, the current one and the
  next (30 s each, for clocks that drift), and only for a step after the last one used:
  a code seen over someone's shoulder, or replayed, is refused.
- **Guessing is throttled like passwords**: the web layer counts every wrong code against
  the account and the address, with the same counters as failed sign-ins.
- **Every enrolment, confirmation, use, failure, renewal and reset is in the audit log.**
- **A factor change ends every other sign-in** (confirmation, backup-code renewal); the
  operator's reset (a lost phone) ends all of them.
- **Sensitive acts ask for a fresh factor** (`sharing.guard.FRESH_FACTOR_ACTIONS`): a
  sign-in is fresh for some minutes after its factor passed (`is_fresh`); a code typed
  again (`confirm_again`) makes it fresh once more.

The time is always the app's clock (`Clock`), so tests move it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crypto.keyring import Keyring
from crypto.keys import decrypt_field, encrypt_field, generate_key
from locker import accounts
from locker.accounts import actor_for
from locker.actors import Actor, Clock
from locker.audit import AuditEvent, append_allowed, append_event
from locker.errors import NotFound
from locker.models import Professional
from locker.rotation import rewrapped
from sharing.decisions import Action
from sharing.errors import AccessDenied, BadSecondFactorCode, NoEnrolment, SecondFactorEnrolled
from sharing.models import BackupCode, Passkey, SecondFactor

STEP_SECONDS = 30
DIGITS = 6
# Steps accepted around the current one (a phone's clock a little early or late).
WINDOW = 1
BACKUP_CODES = 10
BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
BACKUP_LENGTH = 10  # about 49 random bits each
ISSUER = "Coffre-fort numérique"


@dataclass(frozen=True)
class Enrolment:
    """What a professional types into their authenticator app, and their backup codes
    (valid once the factor is confirmed)."""

    secret: str
    otpauth_uri: str
    backup_codes: list[str]


def _aad(professional_id: str) -> bytes:
    return f"locker/second-factor/v1:{professional_id}".encode()


def professional_only(user: accounts.User, refusal: str) -> Professional:
    """The user as a professional: AccessDenied (with `refusal`) for anyone else."""
    if not isinstance(user, Professional):
        raise AccessDenied(refusal)
    return user


def _professional(user: accounts.User) -> Professional:
    return professional_only(user, "only professionals have a second factor")


def seal_secret(keyring: Keyring, professional_id: str, secret: str) -> tuple[bytes, bytes]:
    """The secret sealed under a fresh key, and that key wrapped by the master key."""
    key = generate_key()
    aad = _aad(professional_id)
    return keyring.wrap(key, aad), encrypt_field(key, secret.encode(), aad)


def open_secret(keyring: Keyring, factor: SecondFactor) -> str:
    """The factor's secret, out of its seal (the keyring is needed: a dump alone is not)."""
    aad = _aad(factor.professional_id)
    key = keyring.unwrap(factor.wrapped_key, aad)
    return decrypt_field(key, factor.secret_ciphertext, aad).decode()


def rewrap_factor_keys(session: Session, keyring: Keyring, source: Keyring | None = None) -> int:
    """Rewrap every factor's key not yet under the keyring's current master key version
    (unwrapped by `source`, default `keyring`); the sealed secrets stay as they are.
    Idempotent; the caller commits."""
    count = 0
    for factor in session.scalars(select(SecondFactor).order_by(SecondFactor.professional_id)):
        fresh = rewrapped(
            factor.wrapped_key, _aad(factor.professional_id), keyring, source or keyring
        )
        if fresh is not None:
            factor.wrapped_key = fresh
            count += 1
    session.flush()
    return count


def otpauth_uri(secret: str, professional: Professional) -> str:
    """The `otpauth://totp/...` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=professional.email, issuer_name=ISSUER
    )


def factor_of(session: Session, professional_id: str) -> SecondFactor | None:
    """The professional's factor row, confirmed or still being enrolled."""
    return session.get(SecondFactor, professional_id)


def is_enrolled(session: Session, user: accounts.User) -> bool:
    """Whether `user` is a professional with a confirmed factor."""
    if not isinstance(user, Professional):
        return False
    factor = factor_of(session, user.id)
    return factor is not None and factor.confirmed_at is not None


def factor_pending(signed_in: accounts.SignedIn) -> bool:
    """Whether this sign-in is a professional's that has not passed its second factor:
    it opens only the enrolment or the code's page (and signing out)."""
    return (
        isinstance(signed_in.user, Professional) and signed_in.auth_session.second_factor_at is None
    )


def _backup_hash(professional_id: str, code: str) -> str:
    cleaned = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(f"locker/backup-code/v1:{professional_id}:{cleaned}".encode()).hexdigest()


def _new_backup_codes(session: Session, clock: Clock, professional_id: str) -> list[str]:
    """Ten fresh backup codes, stored hashed; the earlier ones stop working."""
    session.execute(delete(BackupCode).where(BackupCode.professional_id == professional_id))
    codes = []
    for _ in range(BACKUP_CODES):
        raw = "".join(secrets.choice(BACKUP_ALPHABET) for _ in range(BACKUP_LENGTH))
        code = f"{raw[:5]}-{raw[5:]}"
        session.add(
            BackupCode(
                professional_id=professional_id,
                code_hash=_backup_hash(professional_id, code),
                created_at=clock(),
            )
        )
        codes.append(code)
    session.flush()
    return codes


def begin_enrolment(
    session: Session, keyring: Keyring, clock: Clock, user: accounts.User, *, keep: bool = False
) -> Enrolment:
    """A new secret for a professional without a confirmed factor (the one being enrolled
    is replaced, unless `keep`: a page shown again shows the same one); recorded; the
    caller commits. SecondFactorEnrolled once confirmed: only the operator resets it."""
    professional = _professional(user)
    factor = factor_of(session, professional.id)
    if factor is not None and factor.confirmed_at is not None:
        raise SecondFactorEnrolled("already enrolled")
    if factor is not None and keep:
        secret = open_secret(keyring, factor)
        return Enrolment(secret, otpauth_uri(secret, professional), [])
    secret = pyotp.random_base32()
    wrapped, sealed = seal_secret(keyring, professional.id, secret)
    if factor is None:
        factor = SecondFactor(professional_id=professional.id, created_at=clock())
        session.add(factor)
    factor.wrapped_key, factor.secret_ciphertext = wrapped, sealed
    factor.created_at, factor.last_step = clock(), None
    codes = _new_backup_codes(session, clock, professional.id)
    append_allowed(session, clock, Action.SECOND_FACTOR_ENROL, "totp", actor_for(professional))
    session.flush()
    return Enrolment(secret, otpauth_uri(secret, professional), codes)


def _matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The step within the window whose code is `code`, later than `after`, if any."""
    cleaned = "".join(code.split())
    if len(cleaned) != DIGITS or not cleaned.isascii() or not cleaned.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = totp.timecode(now)
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if after is not None and step <= after:
            continue
        # Every candidate is compared (constant work whichever matches).
        if hmac.compare_digest(totp.generate_otp(step), cleaned) and found is None:
            found = step
    return found


def _refused(session: Session, clock: Clock, professional: Professional, reason: str) -> None:
    event = AuditEvent(Action.SECOND_FACTOR_USE, "denied", reason, actor_for(professional))
    append_event(session, clock, event)


def _use_totp(
    session: Session, keyring: Keyring, clock: Clock, factor: SecondFactor, code: str
) -> bool:
    step = _matching_step(open_secret(keyring, factor), code, clock(), factor.last_step)
    if step is None:
        return False
    factor.last_step = step
    session.flush()
    return True


def _use_backup_code(session: Session, clock: Clock, professional_id: str, code: str) -> bool:
    if not code or len(code) > 64:
        return False
    row = session.scalar(
        select(BackupCode).where(
            BackupCode.professional_id == professional_id,
            BackupCode.code_hash == _backup_hash(professional_id, code),
            BackupCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = clock()
    session.flush()
    return True


def check(
    session: Session,
    keyring: Keyring,
    clock: Clock,
    professional: Professional,
    *,
    code: str | None = None,
    backup_code: str | None = None,
) -> bool | None:
    """The professional's second factor, checked (and used up): True if the code (or the
    backup code) is good, False if not (a reused step, a used backup code), None when the
    professional has no confirmed factor. Use and failure are recorded; the caller commits
    either way."""
    factor = factor_of(session, professional.id)
    if factor is None or factor.confirmed_at is None:
        return None
    if code and _use_totp(session, keyring, clock, factor, code):
        append_allowed(session, clock, Action.SECOND_FACTOR_USE, "totp", actor_for(professional))
        return True
    # A backup code typed where the app's code goes is taken too.
    backup = backup_code or (code if code and len("".join(code.split())) != DIGITS else None)
    if backup and _use_backup_code(session, clock, professional.id, backup):
        append_allowed(
            session, clock, Action.SECOND_FACTOR_USE, "backup_code", actor_for(professional)
        )
        return True
    _refused(session, clock, professional, "wrong_code" if code or backup_code else "no_code")
    return False


def pass_factor(session: Session, clock: Clock, signed_in: accounts.SignedIn) -> None:
    """Mark this sign-in as having passed its second factor."""
    signed_in.auth_session.second_factor_at = clock()
    session.flush()


def is_fresh(signed_in: accounts.SignedIn, now: datetime, minutes: int) -> bool:
    """Whether this sign-in's second factor passed (at sign-in, or typed again) within the
    last `minutes`; a person's sign-in always is (persons have no second factor)."""
    if not isinstance(signed_in.user, Professional):
        return True
    passed = signed_in.auth_session.second_factor_at
    return passed is not None and now - passed < timedelta(minutes=minutes)


def confirm_again(
    session: Session, keyring: Keyring, clock: Clock, signed_in: accounts.SignedIn, code: str
) -> None:
    """A professional types a code again before a sensitive act: checked like any (a step
    used already is refused; a backup code is taken too), recorded, and this sign-in is
    fresh from now. BadSecondFactorCode (recorded) when wrong; the caller commits either way."""
    professional = _professional(signed_in.user)
    if not check(session, keyring, clock, professional, code=code):
        raise BadSecondFactorCode("wrong code", field="code")
    pass_factor(session, clock, signed_in)


def confirm_enrolment(
    session: Session,
    keyring: Keyring,
    clock: Clock,
    signed_in: accounts.SignedIn,
    code: str,
    *,
    fresh_codes: bool,
) -> list[str]:
    """The professional types back a code of the secret being enrolled: the factor is on,
    this sign-in has passed it, every other sign-in of theirs ends. With `fresh_codes`, new
    backup codes replace the ones given with the secret and are returned (shown once).
    BadSecondFactorCode (recorded) when wrong; the caller commits either way."""
    professional = _professional(signed_in.user)
    factor = factor_of(session, professional.id)
    if factor is None:
        raise NoEnrolment("start first")
    if factor.confirmed_at is not None:
        raise SecondFactorEnrolled("already enrolled")
    if not _use_totp(session, keyring, clock, factor, code):
        _refused(session, clock, professional, "wrong_enrolment_code")
        raise BadSecondFactorCode("wrong code", field="code")
    factor.confirmed_at = clock()
    pass_factor(session, clock, signed_in)
    accounts.end_all_sessions(session, clock, professional, keep=signed_in.auth_session)
    append_allowed(session, clock, Action.SECOND_FACTOR_CONFIRM, "totp", actor_for(professional))
    return _new_backup_codes(session, clock, professional.id) if fresh_codes else []


def renew_backup_codes(
    session: Session, keyring: Keyring, clock: Clock, signed_in: accounts.SignedIn, code: str
) -> list[str]:
    """Ten new backup codes (the old ones stop working), against a current code of the
    app (not a backup code); every other sign-in ends; recorded. BadSecondFactorCode
    (recorded) when wrong; the caller commits either way."""
    professional = _professional(signed_in.user)
    factor = factor_of(session, professional.id)
    if factor is None or factor.confirmed_at is None:
        raise NoEnrolment("no factor")
    if not _use_totp(session, keyring, clock, factor, code):
        _refused(session, clock, professional, "wrong_code")
        raise BadSecondFactorCode("wrong code", field="code")
    codes = _new_backup_codes(session, clock, professional.id)
    accounts.end_all_sessions(session, clock, professional, keep=signed_in.auth_session)
    append_allowed(
        session, clock, Action.SECOND_FACTOR_BACKUP_CODES, "totp", actor_for(professional)
    )
    return codes


def remaining_backup_codes(session: Session, professional_id: str) -> int:
    """How many backup codes the professional has left."""
    rows = session.scalars(
        select(BackupCode.id).where(
            BackupCode.professional_id == professional_id, BackupCode.used_at.is_(None)
        )
    )
    return len(list(rows))


def reset_second_factor(session: Session, clock: Clock, professional_id: str) -> int:
    """The operator's act when a phone is lost: the factor, the backup codes and the
    passkeys deleted (the lost phone may hold one), every sign-in of the professional
    ended (they enrol again at their next sign-in); recorded; the caller commits. Returns
    how many passkeys went."""
    professional = session.get(Professional, professional_id)
    if professional is None:
        raise NotFound("professional")
    passkeys = list(
        session.scalars(select(Passkey).where(Passkey.professional_id == professional_id))
    )
    for passkey in passkeys:
        session.delete(passkey)
    session.execute(delete(BackupCode).where(BackupCode.professional_id == professional_id))
    session.execute(delete(SecondFactor).where(SecondFactor.professional_id == professional_id))
    accounts.end_all_sessions(session, clock, professional)
    append_allowed(
        session,
        clock,
        Action.SECOND_FACTOR_RESET,
        f"professional:{professional_id}",
        Actor.system(),
    )
    session.flush()
    return len(passkeys)
