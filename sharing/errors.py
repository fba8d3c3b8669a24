"""Typed errors of the sharing services; `web/errors.py` maps each to an HTTP status."""

from __future__ import annotations

from locker.errors import LockerError


class UnknownShareCode(LockerError):
    """No professional has this share code (or it belongs to an org admin)."""

    code = "unknown_share_code"


class AlreadyMember(LockerError):
    """This professional is already on the person's list (or has asked to join)."""

    code = "already_member"


class PasswordNotConfirmed(LockerError):
    """The person's own password, typed to confirm a mandate, is wrong."""

    code = "password_not_confirmed"


class BadRecoveryCode(LockerError):
    """The recovery code is wrong, used or expired (one answer for all three)."""

    code = "bad_recovery_code"


class TooManyAttempts(LockerError):
    """Too many wrong recovery codes for this account lately; wait before trying again."""

    code = "too_many_attempts"


class NotAHelper(LockerError):
    """A mandate goes only to a professional whose organisation does digital inclusion."""

    code = "not_digital_inclusion"


class CardLocked(LockerError):
    """The recovery card cannot be replaced in the 7 days after a reset by someone's code."""

    code = "recovery_card_locked"
