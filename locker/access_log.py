"""Reading the audit log back: a person's access log, a professional's own actions, exports.

The records stay pseudonymous; names are resolved here, at reading time, only for the
person whose log it is. Another person who touched their papers stays unnamed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, false, select, true
from sqlalchemy.orm import Session

from locker.models import AuditRecord, Organization, Person, Professional
from locker.views import view_of

MAX_PAGE = 500
EXPORT_COLUMNS = (
    "seq",
    "at",
    "action",
    "outcome",
    "reason",
    "actor_kind",
    "actor_id",
    "on_behalf_of",
    "person_id",
    "document_id",
)


@dataclass(frozen=True)
class LogEntry:
    """One record as its reader may see it; names only where the reader may know them."""

    seq: int
    at: datetime
    action: str
    outcome: str
    reason: str
    actor_kind: str
    actor_id: str | None
    actor_name: str | None
    actor_organization: str | None
    on_behalf_of: str | None
    on_behalf_of_name: str | None
    person_id: str | None
    document_id: str | None


def _page(before: int | None, limit: int) -> tuple[int | None, int]:
    return before, max(1, min(limit, MAX_PAGE))


# What a log line shows of a record: plain columns, not ORM objects with their canonical
# bytes (a page reads up to 250 records).
_SHOWN = tuple(getattr(AuditRecord, name) for name in EXPORT_COLUMNS)


def _entry(row: Any, names: dict[tuple[str, str], tuple[str, str | None]]) -> LogEntry:
    actor = names.get((row.actor_kind, row.actor_id or ""))
    behalf = names.get(("person", row.on_behalf_of or ""))
    return view_of(
        LogEntry,
        row,
        actor_name=actor[0] if actor else None,
        actor_organization=actor[1] if actor else None,
        on_behalf_of_name=behalf[0] if behalf else None,
    )


def _names_for(
    session: Session, rows: Sequence[Any], person: Person
) -> dict[tuple[str, str], tuple[str, str | None]]:
    """Professionals (with their organisation) and the person themself; nobody else."""
    names: dict[tuple[str, str], tuple[str, str | None]] = {
        ("person", person.id): (person.display_name, None)
    }
    pro_ids = {r.actor_id for r in rows if r.actor_kind == "professional" and r.actor_id}
    if pro_ids:
        found = session.execute(
            select(Professional.id, Professional.display_name, Organization.name)
            .join(Organization, Organization.id == Professional.organization_id)
            .where(Professional.id.in_(pro_ids))
        )
        for pro_id, display_name, org_name in found:
            names[("professional", pro_id)] = (display_name, org_name)
    return names


def person_access_log(
    session: Session,
    person: Person,
    *,
    document_id: str | None = None,
    before: int | None = None,
    limit: int = 100,
    by: str = "anyone",
) -> list[LogEntry]:
    """The records about this person (optionally one paper), newest first, names resolved.

    `by` keeps what "others" did (professionals, helpers, the service, anyone) or what the
    person did "self", so that their own visits never push others' accesses out of sight.
    """
    before, limit = _page(before, limit)
    query = select(*_SHOWN).where(AuditRecord.person_id == person.id)
    # Equalities on the computed column, so that (person_id, by_person, seq) serves them.
    if by == "others":
        query = query.where(AuditRecord.by_person == false())
    elif by == "self":
        query = query.where(AuditRecord.by_person == true())
    if document_id is not None:
        query = query.where(AuditRecord.document_id == document_id)
    if before is not None:
        query = query.where(AuditRecord.seq < before)
    rows = session.execute(query.order_by(AuditRecord.seq.desc()).limit(limit)).all()
    names = _names_for(session, rows, person)
    return [_entry(row, names) for row in rows]


def actions_by(
    session: Session, actor_kind: str, actor_id: str, *, before: int | None = None, limit: int = 100
) -> list[LogEntry]:
    """What one actor did, newest first, ids only (they know whom they acted for)."""
    before, limit = _page(before, limit)
    query = select(*_SHOWN).where(
        AuditRecord.actor_kind == actor_kind, AuditRecord.actor_id == actor_id
    )
    if before is not None:
        query = query.where(AuditRecord.seq < before)
    rows = session.execute(query.order_by(AuditRecord.seq.desc()).limit(limit))
    return [_entry(row, {}) for row in rows]


def export_rows(conn: Connection, *, start: int = 0, end: int | None = None) -> Iterator[Any]:
    """Every record from `start` (to `end`, excluded) in leaf order, streamed; ids only."""
    table = AuditRecord.__table__
    query = select(*(table.c[name] for name in EXPORT_COLUMNS)).where(table.c.seq >= start)
    if end is not None:
        query = query.where(table.c.seq < end)
    result = conn.execution_options(stream_results=True, yield_per=2000).execute(
        query.order_by(table.c.seq)
    )
    yield from result
