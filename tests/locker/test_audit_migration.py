"""Revision 0004 builds the Merkle tree over audit records written before it existed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, inspect, text

from locker.actors import Actor
from locker.audit import AuditEvent, append_event, canonical_bytes, leaf_hash
from locker.audit_verify import verify_log
from locker.checkpoints import make_checkpoint
from locker.db import make_engine, make_session_factory
from locker.proofs import consistency_proof, inclusion_proof, root_at
from locker.schema import downgrade_schema, upgrade_schema
from tests import audit_verifier as rfc

ORIGIN = "migration.test/audit"
OLD_RECORDS = 37  # several levels, an incomplete right edge
BASE = datetime(2025, 6, 1, 8, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    found = make_engine(url)
    request.addfinalizer(found.dispose)
    downgrade_schema(found, "base")  # pg_url is cloned from a migrated template
    upgrade_schema(found, "0003")  # the schema as it was before the tree
    return found


def old_event(i: int) -> AuditEvent:
    kind = ("person", "professional", "system")[i % 3]
    return AuditEvent(
        action=("document:read", "grant:create", "session:sign_in")[i % 3],
        outcome="denied" if i % 5 == 0 else "allowed",
        reason='quoted "reason"' if i == 7 else f"reason-{i}",
        actor=Actor(kind=kind, id=None if kind == "system" else f"actor-{i % 4}"),
        person_id=f"person-{i % 6}",
        document_id=None if i % 4 == 0 else f"doc-{i}",
    )


def insert_old_records(engine: Engine, count: int) -> list[bytes]:
    """Rows in the 0001 shape (no tree, no state row), as the secure core wrote them."""
    canonicals: list[bytes] = []
    with engine.begin() as conn:
        for seq in range(count):
            at, event = BASE + timedelta(minutes=seq), old_event(seq)
            canonical = canonical_bytes(seq, at, event)
            canonicals.append(canonical)
            conn.execute(
                text(
                    "INSERT INTO audit_records (seq, at, actor_kind, actor_id, on_behalf_of, "
                    "person_id, document_id, action, outcome, reason, canonical, leaf_hash) "
                    "VALUES (:seq, :at, :kind, :actor, :behalf, :person, :doc, :action, "
                    ":outcome, :reason, :canonical, :leaf)"
                ),
                {
                    "seq": seq,
                    "at": at,
                    "kind": event.actor.kind,
                    "actor": event.actor.id,
                    "behalf": event.actor.on_behalf_of,
                    "person": event.person_id,
                    "doc": event.document_id,
                    "action": event.action,
                    "outcome": event.outcome,
                    "reason": event.reason,
                    "canonical": canonical,
                    "leaf": leaf_hash(canonical),
                },
            )
    return canonicals


def test_the_upgrade_builds_the_tree_over_existing_records(engine: Engine) -> None:
    assert "audit_tree_nodes" not in inspect(engine).get_table_names()
    canonicals = insert_old_records(engine, OLD_RECORDS)
    upgrade_schema(engine)

    key = Ed25519PrivateKey.generate()
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        head = make_checkpoint(session, key, lambda: datetime.now(UTC), ORIGIN)
    assert head.tree_size == OLD_RECORDS
    assert head.root_hash == rfc.mth(canonicals)  # the independent RFC 9162 recursion
    with engine.connect() as conn:
        report = verify_log(conn, key.public_key(), ORIGIN, None)
    assert report.ok, report.problems
    assert report.tree_size == OLD_RECORDS

    with factory() as session:
        for size in (1, 2, 8, 13, 32, OLD_RECORDS):
            root = root_at(session, size)
            assert root == rfc.mth(canonicals[:size])
            for index in {0, size // 2, size - 1}:
                proof = inclusion_proof(session, index, size)
                assert proof.leaf == canonicals[index]
                assert rfc.verify_inclusion(
                    index, size, rfc.leaf_hash(proof.leaf), proof.hashes, root
                )
            for first in {1, min(3, size), size // 2 or 1, size}:
                path = consistency_proof(session, first, size)
                first_root = rfc.mth(canonicals[:first])
                assert rfc.verify_consistency(first, size, first_root, root, path)

    # Appends continue the backfilled tree: the state row's right edge was right.
    with factory() as session, session.begin():
        added = append_event(session, lambda: datetime.now(UTC), old_event(99))
    assert added.seq == OLD_RECORDS
    with factory() as session, session.begin():
        later = make_checkpoint(session, key, lambda: datetime.now(UTC), ORIGIN)
    assert later.root_hash == rfc.mth([*canonicals, added.canonical])
    with engine.connect() as conn:
        report = verify_log(conn, key.public_key(), ORIGIN, None)
    assert report.ok, report.problems
    assert (report.tree_size, report.checkpoints_checked) == (OLD_RECORDS + 1, 2)


def test_a_record_tampered_before_the_upgrade_is_not_laundered(engine: Engine) -> None:
    """The backfill copies the stored leaf hashes; verify still recomputes them."""
    insert_old_records(engine, 10)
    with engine.begin() as conn:  # before 0004 there is no trigger to get around
        conn.execute(text("UPDATE audit_records SET person_id = 'someone' WHERE seq = 4"))
    upgrade_schema(engine)
    key = Ed25519PrivateKey.generate()
    with make_session_factory(engine)() as session, session.begin():
        make_checkpoint(session, key, lambda: datetime.now(UTC), ORIGIN)
    with engine.connect() as conn:
        report = verify_log(conn, key.public_key(), ORIGIN, None)
    assert report.first_bad_record == 4
    assert "person_id" in report.problems[0]


def test_sequence_numbers_are_64_bit(engine: Engine) -> None:
    upgrade_schema(engine)
    columns = {c["name"]: c for c in inspect(engine).get_columns("audit_records")}
    assert "BIGINT" in str(columns["seq"]["type"]).upper()
    big = 2**31 + 5
    event = old_event(1)
    canonical = canonical_bytes(big, BASE, event)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO audit_tree_nodes (level, position, hash) VALUES (0, :p, :h)"),
            {"p": big, "h": leaf_hash(canonical)},
        )
        conn.execute(
            text(
                "INSERT INTO audit_records (seq, at, actor_kind, action, outcome, reason, "
                "canonical, leaf_hash) VALUES (:s, :at, 'person', 'document:read', "
                "'allowed', 'r', :c, :h)"
            ),
            {"s": big, "at": BASE, "c": canonical, "h": leaf_hash(canonical)},
        )
        found = conn.execute(
            text("SELECT seq FROM audit_records WHERE seq = :s"), {"s": big}
        ).scalar_one()
    assert found == big
