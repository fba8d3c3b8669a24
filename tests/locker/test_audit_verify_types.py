"""`locker audit verify` names the record, whatever value of whatever type a row holds.

An operator with write access to the database can store anything in an audit row (and
SQLite keeps any type in any column): verification must report that record, never stop
with a traceback (issue 11, point 14).
"""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, StatementError

from locker.audit import RECORD_COLUMNS
from tests.locker.test_audit_verify import checkpoint, cli_env, fill, row, tamper
from web.cli import main

COLUMNS = RECORD_COLUMNS  # every column of an audit row
VALUES = (
    st.none()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=True)
    | st.text(max_size=40)
    | st.binary(max_size=40)
    | st.sampled_from([b"\xff\xfe not utf-8", "\ud800", "2026-13-45T99:99", b"", "", 2**62])
)
TARGET = 4


def _loosen(app: Flask) -> None:
    """Let any column hold NULL (an operator with DDL rights can do this too)."""
    engine = app.extensions["locker"].engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for column in COLUMNS[1:]:
                conn.execute(text(f"ALTER TABLE audit_records ALTER COLUMN {column} DROP NOT NULL"))


def test_any_value_in_any_column_is_named_never_a_traceback(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_env(app, monkeypatch)
    fill(app, 8)
    checkpoint(app)
    _loosen(app)
    original = row(app, TARGET)
    runner = CliRunner()
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    named = 0

    @settings(
        max_examples=60,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(column=st.sampled_from(COLUMNS), value=VALUES)
    def probe(column: str, value: Any) -> None:
        nonlocal named
        assume(value != original[column] and value != (2 * TARGET if column == "seq" else ""))
        try:
            tamper(
                app, (f"UPDATE audit_records SET {column} = :v WHERE seq = {TARGET}", {"v": value})
            )
        except (DBAPIError, StatementError, OverflowError, UnicodeError):
            assume(False)  # the database itself refused the value: nothing to verify
        try:
            result = runner.invoke(main, ["audit", "verify"])
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                column,
                value,
                result.output,
                result.exc_info,
            )
            assert result.exit_code == 1, (column, value, result.output)
            # A moved sequence number is named where it now stands, or by the gap it left.
            expected = "first bad record: " if column == "seq" else f"first bad record: {TARGET}"
            assert expected in result.output, (column, value, result.output)
            named += 1
        finally:
            where = "seq = :v" if column == "seq" else f"seq = {TARGET}"
            restore = ", ".join(f"{c} = :{c}" for c in COLUMNS)
            tamper(
                app,
                (f"UPDATE audit_records SET {restore} WHERE {where}", {**original, "v": value}),
            )

    probe()
    assert named >= 10  # the examples did reach verify, with teeth
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
