"""Every Alembic revision goes up and down cleanly, and head matches the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from locker.db import make_engine
from locker.models import Base
from locker.schema import downgrade_schema, upgrade_schema


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


def test_up_down_up(database_url: str) -> None:
    engine = make_engine(database_url)
    # pg_url is cloned from a migrated template: start from nothing.
    downgrade_schema(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_schema(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"documents", "persons", "audit_records", "auth_sessions"} <= tables
    downgrade_schema(engine, "base")
    upgrade_schema(engine)
    upgrade_schema(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    engine.dispose()
