"""The append-only audit log: canonical records, leaf hashes, and sequenced appends.

Each record is one leaf of an RFC 6962 / RFC 9162 Merkle tree: the leaf hash is
SHA-256(0x00 ‖ canonical bytes). The canonical bytes are compact JSON with sorted keys
and ASCII-only escapes, so newlines and control characters in any field can never forge
a second record or a log line.
"""

from __future__ import annotations

import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, TextClause, insert, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from locker.actors import Actor, Clock
from locker.audit_models import AuditLogState, AuditTreeNode
from locker.errors import AuditUnavailable
from locker.merkle import extend_frontier
from locker.metrics import timed_audit_append
from locker.models import AuditRecord

RECORD_FORMAT = 1
RECORD_COLUMNS = (
    "seq",
    "at",
    "actor_kind",
    "actor_id",
    "on_behalf_of",
    "person_id",
    "document_id",
    "action",
    "outcome",
    "reason",
    "canonical",
    "leaf_hash",
)


@dataclass(frozen=True)
class AuditEvent:
    """What happened, to what, by whom, and whether it was allowed."""

    action: str  # "subject:verb", e.g. "document:read"
    outcome: str  # "allowed" or "denied"
    reason: str
    actor: Actor
    person_id: str | None = None
    document_id: str | None = None


def leaf_hash(canonical: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 ‖ leaf)."""
    return hashlib.sha256(b"\x00" + canonical).digest()


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _event_columns(event: AuditEvent) -> dict[str, str | None]:
    """The event's own fields, under their column names (the canonical record's too)."""
    return {
        "action": event.action,
        "outcome": event.outcome,
        "reason": event.reason,
        "actor_kind": event.actor.kind,
        "actor_id": event.actor.id,
        "on_behalf_of": event.actor.on_behalf_of,
        "person_id": event.person_id,
        "document_id": event.document_id,
    }


def canonical_bytes(seq: int, at: datetime, event: AuditEvent) -> bytes:
    """The exact bytes hashed into the tree for one record (stable, versioned)."""
    record = {"v": RECORD_FORMAT, "seq": seq, "at": _timestamp(at), **_event_columns(event)}
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


# Whether the current request (its context) appended a record: only then can a checkpoint
# have fallen due by count, so a read that appended nothing skips the check's two reads.
_appended: ContextVar[bool] = ContextVar("audit_appended", default=False)


def reset_appended() -> None:
    """Start counting anew (at the start of each request)."""
    _appended.set(False)


def appended() -> bool:
    """Whether a record was appended in this context since reset_appended()."""
    return _appended.get()


def append_event(session: Session, clock: Clock, event: AuditEvent) -> AuditRecord:
    """Add one record at the next sequence number in the caller's transaction.

    The record and the Merkle subtrees it completes commit (or roll back) together with
    the change it describes, so the tree always covers exactly the records. The state
    row's update comes first: it locks out concurrent appends until this commits, so
    sequence numbers have no gaps and no duplicates.
    """
    if event.outcome not in {"allowed", "denied"}:
        raise ValueError("outcome must be 'allowed' or 'denied'")
    try:
        with timed_audit_append():
            record = _append(session, clock, event)
        _appended.set(True)
        return record
    except IntegrityError:
        raise  # a sequence number taken by another writer: record_event tries again
    except SQLAlchemyError as exc:
        # Whatever the database says (lost table, revoked right, broken connection), the
        # caller's change cannot be recorded, so it must not happen: one typed error.
        raise AuditUnavailable("the audit log could not be written") from exc


def _append(session: Session, clock: Clock, event: AuditEvent) -> AuditRecord:
    state = session.execute(
        update(_STATE)
        .where(_STATE.c.id == 1)
        .values(size=_STATE.c.size + 1)
        .returning(_STATE.c.size, _STATE.c.frontier)
    ).one_or_none()
    if state is None:
        raise AuditUnavailable("the audit log is not set up (no state row)")
    seq = state.size - 1
    at = clock()
    canonical = canonical_bytes(seq, at, event)
    values = {
        "seq": seq,
        "at": at,
        **_event_columns(event),
        "canonical": canonical,
        "leaf_hash": leaf_hash(canonical),
    }
    nodes, frontier = extend_frontier(seq, bytes(state.frontier), values["leaf_hash"])
    if session.get_bind().dialect.name == "postgresql":
        # One round trip for the record, its subtrees and the new right edge.
        params: dict[str, Any] = {**values, "frontier": frontier}
        for i, (level, position, digest) in enumerate(nodes):
            params.update({f"l{i}": level, f"p{i}": position, f"h{i}": digest})
        session.execute(_pg_append(len(nodes)), params)
    else:
        session.execute(insert(_RECORDS), values)
        session.execute(
            insert(_NODES),
            [{"level": lv, "position": pos, "hash": digest} for lv, pos, digest in nodes],
        )
        session.execute(update(_STATE).where(_STATE.c.id == 1).values(frontier=frontier))
    return AuditRecord(**values)


_STATE = cast(Table, AuditLogState.__table__)
_RECORDS = cast(Table, AuditRecord.__table__)
_NODES = cast(Table, AuditTreeNode.__table__)


@lru_cache(maxsize=64)
def _pg_append(node_count: int) -> TextClause:
    columns = ", ".join(RECORD_COLUMNS)
    record = ", ".join(f":{name}" for name in RECORD_COLUMNS)
    nodes = ", ".join(f"(:l{i}, :p{i}, :h{i})" for i in range(node_count))
    # Only constant names and numbered placeholders go into this text; values are bound.
    return text(
        f"WITH record AS (INSERT INTO audit_records ({columns}) VALUES ({record})), "  # noqa: S608
        f"tree AS (INSERT INTO audit_tree_nodes (level, position, hash) VALUES {nodes}) "
        "UPDATE audit_log_state SET frontier = :frontier WHERE id = 1"
    )


def record_event(
    session_factory: sessionmaker[Session], clock: Clock, event: AuditEvent, attempts: int = 5
) -> int:
    """Append one record in its own transaction and commit it; return its sequence number.

    Committing is part of this function's contract: reads and refusals must be on the
    log before anything else happens, whatever becomes of the caller's transaction.
    Raises AuditUnavailable when the record cannot be committed.
    """
    for _ in range(attempts):
        try:
            with session_factory() as session, session.begin():
                return append_event(session, clock, event).seq
        except IntegrityError:
            continue  # another process took this sequence number (SQLite race); try again
        except SQLAlchemyError as exc:
            raise AuditUnavailable("the audit log could not be written") from exc
    raise AuditUnavailable("the audit log is too busy to record this now")


def append_allowed(
    session: Session,
    clock: Clock,
    action: str,
    reason: str,
    actor: Actor,
    *,
    person_id: str | None = None,
    document_id: str | None = None,
) -> None:
    """Append the "allowed" record of an act in the caller's transaction."""
    event = AuditEvent(action, "allowed", reason, actor, person_id, document_id)
    append_event(session, clock, event)
