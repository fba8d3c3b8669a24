"""The block-wise verification pass agrees with the record-by-record one.

Blocks are shrunk to 4 leaves so that a few dozen records cross block boundaries, use
the right edge above the blocks, and end in a partial block. A clean log must pass on
the fast pass alone; any tampering must fall through to the pass that names it, which
the report says (`record_by_record`).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from locker.actors import Actor
from locker.audit import AuditEvent, record_event
from tests import audit_verifier as rfc
from tests.locker.test_audit_verify import checkpoint, fill, row, tamper, verify

SMALL_BLOCKS = 2  # blocks of 2**2 leaves


def leaves(app: Flask) -> list[bytes]:
    with app.extensions["locker"].engine.connect() as conn:
        found = conn.execute(text("SELECT canonical FROM audit_records ORDER BY seq"))
        return [bytes(value) for (value,) in found]


@pytest.mark.parametrize("total", [4, 13, 16, 23])
def test_a_clean_log_passes_on_the_fast_pass_with_checkpoints_everywhere(
    app: Flask, total: int
) -> None:
    sizes = sorted({1, 3, 4, 5, 8, 9, 12, 13, 16, 17, 22, total} & set(range(1, total + 1)))
    done = 0
    for size in sizes:
        fill(app, size - done, start=done)
        checkpoint(app)
        done = size
    report = verify(app, block_level=SMALL_BLOCKS)
    assert report.ok, report.problems
    assert report.tree_size == total
    assert report.checkpoints_checked == len(sizes)
    assert not report.record_by_record  # no fallback: the fast pass proved it all


def test_records_with_escapes_are_judged_in_python_and_pass(app: Flask) -> None:
    found = app.extensions["locker"]
    fill(app, 6)
    for reason in ('quote " inside', "back\\slash", "accent é"):
        event = AuditEvent(
            action="document:read",
            outcome="allowed",
            reason=reason,
            actor=Actor(kind="person", id="p-1"),
        )
        record_event(found.session_factory, found.clock, event)
    checkpoint(app)
    report = verify(app, block_level=SMALL_BLOCKS)
    assert report.ok, report.problems
    assert not report.record_by_record


def test_an_altered_escaped_record_is_still_named(app: Flask) -> None:
    found = app.extensions["locker"]
    fill(app, 5)
    event = AuditEvent(
        action="document:read",
        outcome="allowed",
        reason='a "quoted" reason',
        actor=Actor(kind="person", id="p-1"),
        person_id="p-1",
    )
    record_event(found.session_factory, found.clock, event)
    fill(app, 4, start=6)
    tamper(app, ("UPDATE audit_records SET person_id = 'p-2' WHERE seq = 5", {}))
    report = verify(app, block_level=SMALL_BLOCKS)
    assert report.first_bad_record == 5
    assert "person_id" in report.problems[0]
    assert report.record_by_record


@pytest.mark.parametrize(
    ("level", "position"),
    [(0, 9), (1, 3), (2, 1), (3, 0), (4, 0)],  # inside blocks, the block root, above it
)
def test_a_stored_subtree_altered_at_any_level_is_caught(
    app: Flask, level: int, position: int
) -> None:
    fill(app, 19)
    tamper(
        app,
        (
            "UPDATE audit_tree_nodes SET hash = :h WHERE level = :l AND position = :p",
            {"h": b"y" * 32, "l": level, "p": position},
        ),
    )
    report = verify(app, block_level=SMALL_BLOCKS)
    assert not report.ok
    assert report.record_by_record
    if level == 0:
        assert report.first_bad_record == position
    else:
        assert f"tree node ({level}, {position})" in report.problems[0]


def test_a_swap_across_blocks_is_named(app: Flask) -> None:
    fill(app, 14)
    one, eleven = row(app, 1), row(app, 11)
    statements: list[tuple[str, dict[str, Any]]] = [
        ("DELETE FROM audit_records WHERE seq IN (1, 11)", {})
    ]
    for moved in ({**eleven, "seq": 1}, {**one, "seq": 11}):
        columns = list(moved)
        sql = (
            f"INSERT INTO audit_records ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)})"
        )
        statements.append((sql, moved))
    tamper(app, *statements)
    report = verify(app, block_level=SMALL_BLOCKS)
    assert report.first_bad_record == 1
    assert "reordered" in report.problems[0]


def test_the_fast_pass_roots_match_the_independent_verifier(app: Flask) -> None:
    fill(app, 21)
    note = checkpoint(app)
    assert base64.b64decode(note.splitlines()[2]) == rfc.mth(leaves(app))
    report = verify(app, block_level=SMALL_BLOCKS)
    assert report.ok and not report.record_by_record
