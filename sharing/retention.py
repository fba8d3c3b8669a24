"""How long the history around a locker is kept once it has ended, and its forgetting.

Only ended things go, and only rows that nobody reads any more: never a paper (papers go
by the person's trash or closure), never a person's row (dormant accounts stay: the person
decides, see docs/aipd.md §2.4), never an audit record (append-only; it keeps the history
for good, by ids). `locker purge` runs `forget_history` daily, after the trash and the
grants' expiries.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, or_
from sqlalchemy.orm import Session

from locker.actors import Clock
from locker.models import AuthSession, Base
from sharing.models import (
    AccompanimentMember,
    CounterLink,
    Grant,
    Mandate,
    RecoveryCode,
    SharingNotice,
)

YEAR = timedelta(days=365)

# How long each kind of row outlives its end. The keys are those of forget_history's counts.
RETENTION: dict[str, timedelta] = {
    # A sign-in ends when revoked or expired. Its row (a token hash, a user id, times) is
    # no use to anyone after that; three months leave time to look into a takeover the
    # person reports late. Sign-ins themselves stay on the audit log.
    "sign_in_sessions": timedelta(days=90),
    # The person's access log names each counter that opened a paper ("Guichet « CAF de
    # Lyon »") from the link's row: a week (what the link list shows) would leave a person
    # who reads their log later with "un guichet". A year, like the rest of the history.
    "counter_links": YEAR,
    # Revoked or expired grants and mandates stay in the person's lists, marked ended, for
    # a year: time to see and question what a professional could open. The audit log
    # keeps their creation, revocation and (grants) expiry for good.
    "grants": YEAR,
    "mandates": YEAR,
    # A used code names who issued it in the person's notices; it goes a year after both its
    # use and the person's reading of the notice (never while unread). Disputed codes are
    # never forgotten: they bar their issuer for good (sharing.rights.recovery_barred).
    # Must stay longer than sharing.recovery.RESET_LOCK, which reads used codes.
    "recovery_codes": YEAR,
    # A deposit notice, a year after the person read it: with it, the list entry it names.
    "notices": YEAR,
    # A removed professional (or a refused request), a year after: grants, mandates and
    # notices naming the entry go first, and an entry still named by one stays.
    "list_entries": YEAR,
}


def _ended_before(
    model: type[AuthSession | CounterLink | Mandate], cutoff: datetime
) -> ColumnElement[bool]:
    """Revoked or expired before `cutoff` (either end counts: both are final)."""
    return or_(model.revoked_at <= cutoff, model.expires_at <= cutoff)


def _forgettable(now: datetime) -> Iterator[tuple[str, type[Base], ColumnElement[bool]]]:
    """Each kind, its table, and which of its rows may go; children before the entries
    they name (grants, mandates and notices carry a list entry's id)."""
    cutoff = {kind: now - duration for kind, duration in RETENTION.items()}
    yield "sign_in_sessions", AuthSession, _ended_before(AuthSession, cutoff["sign_in_sessions"])
    # Its papers' rows go with it (ON DELETE CASCADE).
    yield "counter_links", CounterLink, _ended_before(CounterLink, cutoff["counter_links"])
    yield (
        "grants",
        Grant,
        or_(
            Grant.revoked_at <= cutoff["grants"],
            # An expiry not yet on the person's log (record_grant_expiries) keeps its row.
            (Grant.expires_at <= cutoff["grants"]) & Grant.expiry_recorded_at.is_not(None),
        ),
    )
    yield "mandates", Mandate, _ended_before(Mandate, cutoff["mandates"])
    yield (
        "recovery_codes",
        RecoveryCode,
        RecoveryCode.disputed_at.is_(None)
        & or_(
            (RecoveryCode.used_at <= cutoff["recovery_codes"])
            & (RecoveryCode.notice_seen_at <= cutoff["recovery_codes"]),
            RecoveryCode.used_at.is_(None) & (RecoveryCode.expires_at <= cutoff["recovery_codes"]),
        ),
    )
    yield "notices", SharingNotice, SharingNotice.seen_at <= cutoff["notices"]
    children: tuple[type[Grant | Mandate | SharingNotice], ...] = (Grant, Mandate, SharingNotice)
    named = [exists().where(child.member_id == AccompanimentMember.id) for child in children]
    yield (
        "list_entries",
        AccompanimentMember,
        (AccompanimentMember.ended_at <= cutoff["list_entries"]) & ~or_(*named),
    )


def forget_history(session: Session, clock: Clock) -> dict[str, int]:
    """Delete the ended rows older than their duration in RETENTION; how many of each kind.

    Nothing live, nothing the person still sees (an unread notice), nothing the policy
    still reads (a disputed code, a list entry a grant names) goes. The caller commits.
    """
    connection = session.connection()
    return {
        kind: connection.execute(delete(model).where(forgettable)).rowcount
        for kind, model, forgettable in _forgettable(clock())
    }
