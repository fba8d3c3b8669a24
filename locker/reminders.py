"""Expiry reminders: a paper with a valid-until date says "expire bientôt" from 60 days
before; on the 60th, 30th and 7th day before, the person who chose it is told through the
service's notifier. The default notifier only writes a log line: nothing leaves the
service unless the operator plugs in a sender (LOCKER_NOTIFIER) and the person said yes.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from locker.errors import ConfigurationError
from locker.models import Document, Person

log = logging.getLogger(__name__)

# Days before the valid-until date when a paper starts to show, then is reminded of.
SOON_DAYS = 60
REMIND_DAYS = (60, 30, 7)


def expires_in(valid_until: date | None, today: date) -> int | None:
    """Days left before the paper expires (negative once past), or None when it is more
    than SOON_DAYS away or has no date."""
    if valid_until is None:
        return None
    left = (valid_until - today).days
    return left if left <= SOON_DAYS else None


def expiring_soon(today: date) -> ColumnElement[bool]:
    """`expires_in` is not None, as a condition on `Document` (counted by the database)."""
    return Document.valid_until <= today + timedelta(days=SOON_DAYS)


@dataclass(frozen=True)
class Reminder:
    """One reminder due today: whose paper, which, and how many days are left. A sender
    fetches what it needs to reach the person (and nothing else) itself."""

    person_id: str
    document_id: str
    days_left: int


class Notifier(Protocol):
    """Where reminders go. A plug-in (an SMS gateway, an e-mail sender) implements this
    and is named by LOCKER_NOTIFIER="package.module:factory" (docs/reminders.md)."""

    def send(self, reminder: Reminder) -> None: ...


class LogNotifier:
    """The default: a log line per reminder (opaque ids only), nothing sent anywhere."""

    def send(self, reminder: Reminder) -> None:
        log.info(
            "expiry reminder due",
            extra={"person_id": reminder.person_id, "days_left": reminder.days_left},
        )


def load_notifier(spec: str | None) -> Notifier:
    """The notifier LOCKER_NOTIFIER names ("module:factory"), or the log-only default."""
    if not spec:
        return LogNotifier()
    module_name, _, factory = spec.partition(":")
    try:
        made: Notifier = getattr(importlib.import_module(module_name), factory)()
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"LOCKER_NOTIFIER {spec!r} cannot be loaded: {exc}") from exc
    return made


def due_reminders(session: Session, today: date) -> Iterator[Reminder]:
    """Today's reminders, for the persons who chose to be reminded only; papers in the
    trash and closed accounts are left alone."""
    days = {today + timedelta(days=n): n for n in REMIND_DAYS}
    rows = session.execute(
        select(Document.person_id, Document.id, Document.valid_until)
        .join(Person, Person.id == Document.person_id)
        .where(
            Person.expiry_reminders.is_(True),
            Person.closed_at.is_(None),
            Document.deleted_at.is_(None),
            Document.valid_until.in_(list(days)),
        )
        .order_by(Document.person_id, Document.valid_until)
    )
    for person_id, document_id, valid_until in rows:
        if valid_until in days:  # always: the query asked for these days only
            yield Reminder(person_id, document_id, days[valid_until])


def send_reminders(session: Session, today: date, notifier: Notifier) -> int:
    """Send today's reminders; how many. Run once a day (`locker remind-expiries`)."""
    sent = 0
    for reminder in due_reminders(session, today):
        notifier.send(reminder)
        sent += 1
    return sent
