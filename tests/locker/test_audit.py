"""Audit records: canonical bytes, RFC 6962 leaf hashes, gapless sequence numbers."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select

from locker.actors import Actor
from locker.audit import AuditEvent, canonical_bytes, leaf_hash, record_event
from locker.models import AuditRecord

AT = datetime(2026, 3, 3, 14, 5, 0, 123456, tzinfo=UTC)


def test_leaf_hash_is_rfc6962() -> None:
    # RFC 6962 test vector: the leaf hash of the empty leaf.
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()


def test_canonical_bytes_are_stable_and_escape_control_characters() -> None:
    event = AuditEvent(
        action='document:read\n{"seq":99}',
        outcome="denied",
        reason="no_grant\r\nforged",
        actor=Actor(kind="person", id="p1"),
        person_id="p2",
        document_id="d1",
    )
    raw = canonical_bytes(7, AT, event)
    assert b"\n" not in raw and b"\r" not in raw
    assert raw.isascii()
    decoded = json.loads(raw)
    assert decoded["seq"] == 7
    assert decoded["at"] == "2026-03-03T14:05:00.123456Z"
    assert decoded["action"] == 'document:read\n{"seq":99}'
    assert raw == canonical_bytes(7, AT, event)
    assert list(decoded) == sorted(decoded)


def test_records_are_sequenced_from_zero(app: Flask) -> None:
    found = app.extensions["locker"]
    for i in range(5):
        seq = record_event(
            found.session_factory,
            found.clock,
            AuditEvent(action="test:event", outcome="allowed", reason=str(i), actor=Actor.system()),
        )
        assert seq == i
    with found.session_factory() as session:
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    assert [r.seq for r in rows] == [0, 1, 2, 3, 4]
    for row in rows:
        assert row.leaf_hash == leaf_hash(row.canonical)
        assert json.loads(row.canonical)["reason"] == row.reason
