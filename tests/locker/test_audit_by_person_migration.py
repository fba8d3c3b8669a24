"""Revision 0018 adds `by_person` to records written before it, without rewriting a record
through the append-only triggers, and nothing can write that column on its own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from locker.actors import Actor
from locker.audit import AuditEvent, append_event
from locker.audit_verify import verify_log
from locker.db import make_engine, make_session_factory
from locker.schema import downgrade_schema, upgrade_schema

PERSON = "p" * 36
BEFORE = "0017"  # the revision before 0018 (by_person)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    found = make_engine(url)
    request.addfinalizer(found.dispose)
    downgrade_schema(found, "base")  # pg_url is cloned from a migrated template
    upgrade_schema(found, BEFORE)
    return found


def test_existing_records_get_the_column_and_stay_append_only(engine: Engine) -> None:
    actors = [
        Actor(kind="person", id=PERSON),
        Actor(kind="professional", id="r" * 36),
        Actor(kind="person", id="q" * 36),
        Actor.system(),
    ]
    with make_session_factory(engine)() as session, session.begin():
        for actor in actors:
            event = AuditEvent("document:read", "allowed", "r", actor, person_id=PERSON)
            append_event(session, lambda: datetime(2026, 1, 1, tzinfo=UTC), event)
    upgrade_schema(engine)
    with engine.connect() as conn:
        flags = conn.execute(text("SELECT by_person FROM audit_records ORDER BY seq")).scalars()
        assert [bool(flag) for flag in flags] == [True, False, False, False]
    for statement in (
        "UPDATE audit_records SET by_person = true WHERE seq = 1",
        "UPDATE audit_records SET actor_kind = 'person' WHERE seq = 1",
    ):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        report = verify_log(conn, Ed25519PrivateKey.generate().public_key(), "t/audit", None)
    assert report.ok, report.problems
    downgrade_schema(engine, BEFORE)
    upgrade_schema(engine)
