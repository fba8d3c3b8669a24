"""Audit records: canonical bytes, RFC 6962 leaf hashes, gapless sequence numbers."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select

from locker.access_log import person_access_log
from locker.actors import Actor
from locker.audit import AuditEvent, canonical_bytes, leaf_hash, record_event
from locker.models import AuditRecord, Person

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


def test_the_person_s_log_splits_their_own_acts_from_everyone_else_s(app: Flask) -> None:
    found = app.extensions["locker"]
    person, other = "p" * 36, "q" * 36
    actors = [
        (Actor(kind="person", id=person), True),
        (Actor(kind="professional", id=person), False),  # same id, another kind of actor
        (Actor(kind="person", id=other), False),  # another person touching this locker
        (Actor(kind="person", id=person, on_behalf_of=other), True),
        (Actor.system(), False),  # no actor id at all
    ]
    for actor, _ in actors:
        event = AuditEvent("test:event", "allowed", "r", actor, person_id=person)
        record_event(found.session_factory, found.clock, event)
    record_event(  # the person acting on someone else's record is not "by the person" there
        found.session_factory,
        found.clock,
        AuditEvent("test:event", "allowed", "r", Actor(kind="person", id=person), person_id=other),
    )
    with found.session_factory() as session:
        flags = session.execute(select(AuditRecord.seq, AuditRecord.by_person).order_by("seq"))
        assert [flag for _, flag in flags] == [mine for _, mine in actors] + [False]
        owner = Person(id=person, username="u", display_name="U", password_hash="x")
        own = person_access_log(session, owner, by="self")
        others = person_access_log(session, owner, by="others")
        every = person_access_log(session, owner)
    assert [e.seq for e in own] == [3, 0]
    assert [e.seq for e in others] == [4, 2, 1]
    assert [e.seq for e in every] == [4, 3, 2, 1, 0]
