"""Typed errors of the sharing services; `web/errors.py` maps each to an HTTP status."""

from __future__ import annotations

from locker.errors import LockerError


class SharingError(LockerError):
    """Base of every error the sharing services raise on purpose."""


class UnknownShareCode(SharingError):
    """No professional has this share code (or it belongs to an org admin)."""

    code = "unknown_share_code"


class AlreadyMember(SharingError):
    """This professional is already on the person's list (or has asked to join)."""

    code = "already_member"


class PasswordNotConfirmed(SharingError):
    """The person's own password, typed to confirm a mandate, is wrong."""

    code = "password_not_confirmed"


class BadRecoveryCode(SharingError):
    """The recovery code is wrong, used or expired (one answer for all three)."""

    code = "bad_recovery_code"


class TooManyAttempts(SharingError):
    """Too many wrong recovery codes for this account lately; wait before trying again."""

    code = "too_many_attempts"


class BadSecondFactorCode(SharingError):
    """The one-time code (or backup code) is wrong, of a step already used, or missing."""

    code = "bad_second_factor_code"


class BadPasskey(BadSecondFactorCode):
    """The passkey's answer does not hold: another challenge (replayed, expired), another
    site, an unknown key or someone else's, a signature or a count that does not match.
    Counted with wrong codes and passwords."""

    code = "bad_passkey"


class FreshFactorRequired(SharingError):
    """A professional's sensitive act (a recovery code, a deposit, a mandate, an export)
    asks for a second factor passed within the last minutes: this one passed longer ago."""

    code = "fresh_second_factor_required"


class SecondFactorEnrolled(SharingError):
    """The professional already has a confirmed factor: only the operator resets it."""

    code = "second_factor_enrolled"


class NoEnrolment(SharingError):
    """Nothing to confirm: no enrolment was started (POST /api/v1/me/totp first)."""

    code = "no_second_factor_enrolment"


class NotAHelper(SharingError):
    """A mandate goes only to a professional whose organisation does digital inclusion."""

    code = "not_digital_inclusion"


class NotAnAuditBody(SharingError):
    """The auditor role exists only in the organisation the operator named as auditing."""

    code = "not_audit_body"


class CardLocked(SharingError):
    """The recovery card cannot be replaced in the 7 days after a reset by someone's code."""

    code = "recovery_card_locked"


class AccessDenied(SharingError):
    """The actor may not do this at all (no resource id is involved, so this is a 403)."""

    code = "forbidden"


class ServiceClosed(SharingError):
    """The service has closed (décret 2018-853): it takes no new paper, share or account;
    what is there can still be read, taken and removed."""

    code = "service_closed"


class CounterLinkEnded(SharingError):
    """The counter link was ended by its person, or its time is over."""

    code = "counter_link_ended"


class CounterLinkUsed(SharingError):
    """The counter link was already opened in another browser: it shows its papers once."""

    code = "counter_link_used"


class NoReferent(SharingError):
    """The person has chosen no referent yet: there is nobody to share a pack with."""

    code = "no_referent"


def refusal(reason: str) -> SharingError:
    """The error a refused global act raises: the closed service said as it is, anything
    else a plain refusal."""
    return ServiceClosed(reason) if reason == "service_closed" else AccessDenied(reason)


class LastOrgAdmin(SharingError):
    """The organisation's last active admin can neither step down nor be deactivated."""

    code = "last_org_admin"


class BadInvitation(SharingError):
    """The invitation link is wrong, used, expired or withdrawn (one answer for all)."""

    code = "bad_invitation"


class NoSuccessor(SharingError):
    """The colleague proposed for a handover is not an active professional of the same
    organisation (or is no longer)."""

    code = "no_successor"


class ProConnectRefused(SharingError):
    """A ProConnect sign-in that matches no professional of this service, or not well
    enough; `reason` says why (the words in web/i18n.py), and the log keeps it."""

    code = "proconnect_refused"
