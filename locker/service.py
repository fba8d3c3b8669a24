"""The service's own closure (décret 2018-853): announced by the operator, shown to every
person from then on; from the closing day the locker takes nothing new, and every person
can still sign in and take everything for 12 more months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from locker.actors import Clock
from locker.models import ServiceClosure


# The export stays open 12 months after the closing day (décret 2018-853).
def _twelve_months_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


@dataclass(frozen=True)
class Closure:
    """An announced closure: the closing day and the last day papers can be taken."""

    closes_on: date
    export_until: date

    def closed(self, now: datetime) -> bool:
        """From the closing day, the locker takes no new paper, share or account."""
        return now.date() >= self.closes_on

    def over(self, now: datetime) -> bool:
        """After the export window, nobody signs in any more."""
        return now.date() > self.export_until


def announce_closure(session: Session, clock: Clock, closes_on: date | None) -> Closure | None:
    """Set (or, with None, withdraw) the closing day; the caller commits."""
    row = session.get(ServiceClosure, 1)
    if closes_on is None:
        if row is not None:
            session.delete(row)
        return None
    if row is None:
        row = ServiceClosure(id=1, closes_on=closes_on, announced_at=clock())
        session.add(row)
    row.closes_on, row.announced_at = closes_on, clock()
    session.flush()
    return closure(session)


def closure(session: Session) -> Closure | None:
    """The announced closure, if any."""
    row = session.get(ServiceClosure, 1)
    if row is None:
        return None
    return Closure(row.closes_on, _twelve_months_after(row.closes_on))
