"""Tampering with the log in the database is caught, and named, by verification."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from locker.actors import Actor
from locker.audit import AuditEvent, record_event
from locker.audit_verify import BLOCK_LEVEL, VerifyReport, verify_log
from locker.checkpoints import publish_checkpoint, publish_current_checkpoint
from locker.errors import ForkDetected
from locker.merkle import TreeBuilder
from locker.settings import Settings
from tests import audit_verifier as rfc
from web.cli import main


def fill(app: Flask, count: int, start: int = 0) -> None:
    found = app.extensions["locker"]
    for i in range(start, start + count):
        actor = Actor(kind="professional", id=f"{i:036d}") if i % 2 else Actor.system()
        event = AuditEvent(
            action="document:read",
            outcome="denied" if i % 3 == 0 else "allowed",
            reason=f"r{i}",
            actor=actor,
            person_id=f"p{i % 4}",
            document_id=f"d{i}",
        )
        record_event(found.session_factory, found.clock, event)


def checkpoint(app: Flask) -> str:
    found = app.extensions["locker"]
    made = publish_current_checkpoint(
        found.session_factory,
        found.keyring.audit_signing_key(),
        found.clock,
        origin=found.settings.audit_origin,
        witness_dir=found.settings.audit_witness_dir,
        max_age_minutes=0,
    )
    return made.note


def verify(app: Flask, witness: bool = True, block_level: int = BLOCK_LEVEL) -> VerifyReport:
    found = app.extensions["locker"]
    settings: Settings = found.settings
    with found.engine.connect() as conn:
        return verify_log(
            conn,
            found.keyring.audit_signing_key().public_key(),
            settings.audit_origin,
            settings.audit_witness_dir if witness else None,
            block_level=block_level,
        )


def tamper(app: Flask, *statements: tuple[str, dict[str, Any]]) -> None:
    """Run statements with the append-only triggers deliberately out of the way."""
    engine = app.extensions["locker"].engine
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for table in ("audit_records", "audit_tree_nodes", "audit_checkpoints"):
                for verb in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{verb}"))
        for sql, params in statements:
            conn.execute(text(sql), params)


def row(app: Flask, seq: int) -> dict[str, Any]:
    with app.extensions["locker"].engine.connect() as conn:
        found = conn.execute(text("SELECT * FROM audit_records WHERE seq = :s"), {"s": seq})
        record = dict(found.mappings().one())
    del record["by_person"]  # computed by the database: never inserted, even by a forger
    return record


def reinsert(conn_rows: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    columns = list(conn_rows[0])
    sql = (
        f"INSERT INTO audit_records ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)})"
    )
    return [(sql, r) for r in conn_rows]


def test_trigger_refuses_ordinary_update_and_delete(app: Flask) -> None:
    fill(app, 3)
    checkpoint(app)
    engine = app.extensions["locker"].engine
    refused = [
        "UPDATE audit_records SET reason = 'x' WHERE seq = 1",
        "DELETE FROM audit_records WHERE seq = 2",
        "UPDATE audit_tree_nodes SET hash = hash WHERE level = 0",
        "DELETE FROM audit_tree_nodes",
        "DELETE FROM audit_checkpoints",
    ]
    if engine.dialect.name == "postgresql":
        refused.append("TRUNCATE audit_records")
    for sql in refused:
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(sql))
    assert row(app, 1)["reason"] == "r1"
    assert verify(app).ok


def test_a_clean_log_verifies_with_its_checkpoints_and_witness(app: Flask) -> None:
    checkpoint(app)  # the empty tree
    fill(app, 5)
    checkpoint(app)
    fill(app, 12, start=5)
    checkpoint(app)
    report = verify(app)
    assert report.ok, report.problems
    assert report.tree_size == 17
    assert report.checkpoints_checked == 3
    assert report.witness_checked == 3


def test_an_altered_column_is_named(app: Flask) -> None:
    fill(app, 10)
    tamper(app, ("UPDATE audit_records SET actor_id = 'someone-else' WHERE seq = 6", {}))
    report = verify(app)
    assert not report.ok
    assert report.first_bad_record == 6
    assert "actor_id" in report.problems[0]


def test_rewritten_canonical_bytes_with_a_fresh_leaf_hash_are_named(app: Flask) -> None:
    fill(app, 10)
    checkpoint(app)
    forged = row(app, 4)["canonical"].replace(b'"allowed"', b'"denied"')
    forged_hash = hashlib.sha256(b"\x00" + forged).digest()
    tamper(
        app,
        (
            "UPDATE audit_records SET canonical = :c, leaf_hash = :h, outcome = 'denied' "
            "WHERE seq = 4",
            {"c": forged, "h": forged_hash},
        ),
    )
    report = verify(app)
    assert report.first_bad_record == 4
    assert any("checkpoint" in p for p in report.problems)


def test_a_deleted_record_is_named(app: Flask) -> None:
    fill(app, 10)
    tamper(app, ("DELETE FROM audit_records WHERE seq = 3", {}))
    report = verify(app)
    assert report.first_bad_record == 3
    assert "missing" in report.problems[0]


def test_a_deleted_last_record_is_named(app: Flask) -> None:
    fill(app, 10)
    tamper(app, ("DELETE FROM audit_records WHERE seq = 9", {}))
    assert verify(app).first_bad_record == 9


def test_a_record_inserted_at_the_end_is_named(app: Flask) -> None:
    fill(app, 8)
    extra = row(app, 7)
    extra["seq"] = 8
    tamper(app, *reinsert([extra]))
    report = verify(app)
    assert report.first_bad_record == 8
    assert "not in the Merkle tree" in " ".join(report.problems)


def test_a_record_inserted_in_the_middle_is_named(app: Flask) -> None:
    fill(app, 8)
    later = [row(app, s) for s in range(5, 8)]
    forged = dict(later[0])
    shifted = [{**r, "seq": r["seq"] + 1} for r in later]
    tamper(
        app,
        ("DELETE FROM audit_records WHERE seq >= 5", {}),
        *reinsert([forged, *shifted]),
    )
    report = verify(app)
    assert report.first_bad_record == 6


def test_two_swapped_records_are_named(app: Flask) -> None:
    fill(app, 10)
    two, seven = row(app, 2), row(app, 7)
    tamper(
        app,
        ("DELETE FROM audit_records WHERE seq IN (2, 7)", {}),
        *reinsert([{**seven, "seq": 2}, {**two, "seq": 7}]),
    )
    report = verify(app)
    assert report.first_bad_record == 2
    assert "reordered" in report.problems[0]


def rebuild_tree(conn_rows: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """What an operator who rewrites records must also do to the tree."""
    statements: list[tuple[str, dict[str, Any]]] = [("DELETE FROM audit_tree_nodes", {})]
    builder = TreeBuilder()
    insert = "INSERT INTO audit_tree_nodes (level, position, hash) VALUES (:l, :p, :h)"
    for r in conn_rows:
        statements.append((insert, {"l": 0, "p": r["seq"], "h": r["leaf_hash"]}))
        builder.push(
            r["leaf_hash"],
            lambda level, pos, h: statements.append((insert, {"l": level, "p": pos, "h": h})),
        )
    statements.append(
        (
            "UPDATE audit_log_state SET size = :s, frontier = :f WHERE id = 1",
            {"s": builder.size, "f": builder.frontier()},
        )
    )
    return statements


def test_a_full_rewrite_resigned_with_the_key_is_caught_by_the_witness(app: Flask) -> None:
    fill(app, 9)
    honest = checkpoint(app)
    rows = [row(app, s) for s in range(9)]
    forged = rows[3]["canonical"].replace(b'"r3"', b'"r3-forged"')
    rows[3] = {**rows[3], "canonical": forged, "reason": "r3-forged"}
    rows[3]["leaf_hash"] = hashlib.sha256(b"\x00" + forged).digest()
    tamper(
        app,
        ("DELETE FROM audit_records", {}),
        ("DELETE FROM audit_checkpoints", {}),
        *reinsert(rows),
        *rebuild_tree(rows),
    )
    # Records and tree agree again; the operator even signs a new checkpoint...
    with pytest.raises(ForkDetected):
        checkpoint(app)
    # ...which the witness refuses, and verification finds the fork.
    report = verify(app)
    assert not report.ok
    assert any("witness" in p for p in report.problems), report.problems
    witness = Path(app.extensions["locker"].settings.audit_witness_dir)
    assert [p.read_text() for p in witness.glob("*.txt")] == [honest]
    # Without the witness, an operator holding the key could rewrite undetected: that
    # is exactly why checkpoints are copied out of the database.
    assert verify(app, witness=False).ok


def test_records_removed_from_the_end_are_caught_by_the_witness(app: Flask) -> None:
    fill(app, 12)
    checkpoint(app)
    rows = [row(app, s) for s in range(8)]
    tamper(
        app,
        ("DELETE FROM audit_records WHERE seq >= 8", {}),
        ("DELETE FROM audit_checkpoints", {}),
        *rebuild_tree(rows),
    )
    report = verify(app)
    assert report.first_bad_record == 8
    assert any("removed" in p for p in report.problems)


def test_two_checkpoints_of_one_size_are_a_fork(tmp_path: Path) -> None:
    publish_checkpoint(tmp_path, 5, "one\n")
    publish_checkpoint(tmp_path, 5, "one\n")  # the same again: fine
    with pytest.raises(ForkDetected):
        publish_checkpoint(tmp_path, 5, "two\n")


def test_the_checkpoint_is_a_c2sp_signed_note(app: Flask) -> None:
    fill(app, 7)
    note = checkpoint(app)
    found = app.extensions["locker"]
    origin = found.settings.audit_origin
    body, signatures = note.split("\n\n")
    lines = body.split("\n")
    assert lines[0] == origin and lines[1] == "7"
    with found.engine.connect() as conn:
        canon = [
            r[0] for r in conn.execute(text("SELECT canonical FROM audit_records ORDER BY seq"))
        ]
    assert base64.b64decode(lines[2]) == rfc.mth(canon)
    assert signatures.startswith("\u2014 " + origin + " ") and signatures.endswith("\n")
    blob = base64.b64decode(signatures.strip().split(" ")[2])
    public = found.keyring.audit_signing_key().public_key()
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert blob[:4] == hashlib.sha256(origin.encode() + b"\n\x01" + raw).digest()[:4]
    public.verify(blob[4:], (body + "\n").encode())


def cli_env(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the `locker` command at the app's database, data and keys."""
    settings: Settings = app.extensions["locker"].settings
    monkeypatch.setenv("LOCKER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LOCKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LOCKER_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("LOCKER_MASTER_KEY_FILE", str(settings.master_key_file))


def test_the_cli_checkpoints_and_verifies_and_names_the_record(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_env(app, monkeypatch)
    fill(app, 6)
    runner = CliRunner()
    made = runner.invoke(main, ["audit", "checkpoint"])
    assert made.exit_code == 0, made.output
    assert made.output.splitlines()[1] == "6"
    ok = runner.invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    tamper(app, ("UPDATE audit_records SET document_id = 'other' WHERE seq = 2", {}))
    bad = runner.invoke(main, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "first bad record: 2" in bad.output
    assert '"first_bad_record": 2' in bad.output


def test_verify_compares_tree_nodes_too(app: Flask) -> None:
    fill(app, 8)
    tamper(
        app,
        (
            "UPDATE audit_tree_nodes SET hash = :h WHERE level = 2 AND position = 1",
            {"h": b"x" * 32},
        ),
    )
    report = verify(app)
    assert not report.ok
    assert "tree node (2, 1)" in report.problems[0]
