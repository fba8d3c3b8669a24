"""Audit-log benchmark on PostgreSQL: append rate, verify over 1M records, inclusion proofs.

    .venv/bin/python bench/audit.py [--records 1000000] [--appends 2000]

Creates and drops a scratch database. The first `--appends` records go through the real
append path (record_event: its own transaction, advisory lock, Merkle bookkeeping); the
rest are bulk-loaded with COPY as the identical rows the append path would write
(canonical bytes, leaf hash, tree nodes from the same TreeBuilder), then `verify_log`
recomputes and checks every one of them, so no bulk row is taken on trust.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

# Run as a script from anywhere: the repository root holds `migrations/`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from locker.actors import Actor
from locker.audit import RECORD_COLUMNS, AuditEvent, canonical_bytes, leaf_hash, record_event
from locker.audit_verify import verify_log
from locker.checkpoints import make_checkpoint
from locker.db import make_engine, make_session_factory
from locker.merkle import TreeBuilder
from locker.models import AuditRecord
from locker.proofs import inclusion_proof
from locker.schema import upgrade_schema

ADMIN_URL = os.environ.get(
    "LOCKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ORIGIN = "bench.localhost/audit"


def event(i: int) -> AuditEvent:
    """A realistic record: ids only, a mix of actors, actions and outcomes."""
    kind = ("person", "professional", "anonymous")[i % 3]
    return AuditEvent(
        action=("document:read", "document:describe", "session:sign_in")[i % 3],
        outcome="denied" if i % 7 == 0 else "allowed",
        reason="owner",
        actor=Actor(kind=kind, id=None if kind == "anonymous" else f"{i % 5000:08d}-actor"),
        person_id=f"{i % 20000:08d}-person",
        document_id=f"{i:012d}-document",
    )


def row_for(seq: int, at: datetime) -> tuple[Any, ...]:
    ev = event(seq)
    canonical = canonical_bytes(seq, at, ev)
    return (
        seq,
        at,
        ev.actor.kind,
        ev.actor.id,
        ev.actor.on_behalf_of,
        ev.person_id,
        ev.document_id,
        ev.action,
        ev.outcome,
        ev.reason,
        canonical,
        leaf_hash(canonical),
    )


def bench_appends(url: str, count: int) -> tuple[float, float]:
    """(appends per second with the tree, plain inserts per second of the same rows).

    Both run one record per committed transaction, interleaved in chunks so that load
    from elsewhere on the machine falls on both alike.
    """
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock_base = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE plain_records (LIKE audit_records INCLUDING ALL)"))
    insert = text(
        f"INSERT INTO plain_records ({', '.join(RECORD_COLUMNS)}) "
        f"VALUES ({', '.join(':' + c for c in RECORD_COLUMNS)})"
    )
    tree_seconds = plain_seconds = 0.0
    for chunk in range(0, count, 100):
        seqs = range(chunk, min(chunk + 100, count))
        started = time.perf_counter()
        for i in seqs:
            record_event(factory, lambda i=i: clock_base + timedelta(seconds=i), event(i))
        tree_seconds += time.perf_counter() - started
        rows = [
            dict(zip(RECORD_COLUMNS, row_for(i, clock_base + timedelta(seconds=i)), strict=True))
            for i in seqs
        ]
        started = time.perf_counter()
        for values in rows:
            with factory() as session, session.begin():
                session.execute(insert, values)
        plain_seconds += time.perf_counter() - started
    with engine.begin() as conn:
        same = conn.execute(
            text(
                "SELECT count(*) FROM audit_records a JOIN plain_records p "
                "ON p.seq = a.seq AND p.canonical = a.canonical"
            )
        ).scalar_one()
        assert same == count, "the plain rows must be the very same records"
        conn.execute(text("DROP TABLE plain_records"))
    engine.dispose()
    return count / tree_seconds, count / plain_seconds


def bulk_load(url: str, start: int, total: int) -> None:
    """Rows identical to the append path's, by COPY (the tree continues the sampled one)."""
    engine = make_engine(url)
    builder = TreeBuilder()
    with engine.connect() as conn:
        for (leaf,) in conn.execute(text("SELECT leaf_hash FROM audit_records ORDER BY seq")):
            builder.push(bytes(leaf))
    assert builder.size == start
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        at = datetime(2026, 2, 1, tzinfo=UTC)
        with driver.cursor() as cur:
            nodes: list[tuple[int, int, bytes]] = []
            with cur.copy(f"COPY audit_records ({', '.join(RECORD_COLUMNS)}) FROM STDIN") as copy:
                for seq in range(start, total):
                    row = row_for(seq, at + timedelta(milliseconds=seq))
                    copy.write_row(row)
                    nodes.append((0, seq, row[-1]))
                    builder.push(row[-1], lambda lv, pos, h: nodes.append((lv, pos, h)))
            with cur.copy("COPY audit_tree_nodes (level, position, hash) FROM STDIN") as copy:
                for node in nodes:
                    copy.write_row(node)
            cur.execute(
                "UPDATE audit_log_state SET size = %s, frontier = %s WHERE id = 1",
                (builder.size, builder.frontier()),
            )
        driver.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE audit_records"))
        conn.execute(text("ANALYZE audit_tree_nodes"))
    engine.dispose()


def bare_read_and_hash(url: str) -> float:
    """Seconds to read every row's canonical bytes and hash each leaf once (raw psycopg)."""
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        started = time.perf_counter()
        # The same fetching as verify_log: a server-side cursor read in batches.
        with driver.cursor(name="bare") as cur:
            cur.execute("SELECT seq, canonical FROM audit_records ORDER BY seq")
            sha256 = hashlib.sha256
            while batch := cur.fetchmany(10_000):
                for _seq, canonical in batch:
                    sha256(b"\x00" + canonical).digest()
        elapsed = time.perf_counter() - started
        driver.rollback()
    finally:
        raw.close()
    engine.dispose()
    return elapsed


def bench_proofs(url: str, size: int, samples: int) -> tuple[float, float]:
    """(median seconds per inclusion proof, per indexed single-row SELECT)."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    rng = random.Random(7)
    indices = [rng.randrange(size) for _ in range(samples)]
    proof_times: list[float] = []
    select_times: list[float] = []
    with factory() as session:
        for index in indices[:50]:  # warm both paths
            inclusion_proof(session, index, size)
            session.execute(select(AuditRecord.canonical).where(AuditRecord.seq == index)).one()
        for index in indices:
            started = time.perf_counter()
            inclusion_proof(session, index, size)
            proof_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            session.execute(select(AuditRecord.canonical).where(AuditRecord.seq == index)).one()
            select_times.append(time.perf_counter() - started)
    engine.dispose()
    return statistics.median(proof_times), statistics.median(select_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--proofs", type=int, default=2000)
    args = parser.parse_args()
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"locker_bench_audit_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        upgrade_schema(engine)
        engine.dispose()

        tree_rate, plain_rate = bench_appends(url, args.appends)
        print(
            f"append: {tree_rate:.0f}/s with Merkle bookkeeping, {plain_rate:.0f}/s plain "
            f"inserts -> ratio {tree_rate / plain_rate:.2f} (need >= 0.5)"
        )
        started = time.perf_counter()
        bulk_load(url, args.appends, args.records)
        loaded = time.perf_counter() - started
        print(f"bulk load of {args.records - args.appends} more: {loaded:.1f}s")

        key = Ed25519PrivateKey.generate()
        engine = make_engine(url)
        with make_session_factory(engine)() as session, session.begin():
            make_checkpoint(session, key, lambda: datetime.now(UTC), ORIGIN)
        bare = bare_read_and_hash(url)
        started = time.perf_counter()
        with engine.connect() as conn:
            report = verify_log(conn, key.public_key(), ORIGIN, None)
        verify_seconds = time.perf_counter() - started
        engine.dispose()
        assert report.ok and report.tree_size == args.records, report.problems
        print(
            f"verify: {verify_seconds:.1f}s over {report.tree_size} records, bare read+hash "
            f"{bare:.1f}s -> ratio {verify_seconds / bare:.2f} (need <= 3)"
        )
        proof, single = bench_proofs(url, args.records, args.proofs)
        print(
            f"inclusion proof at {args.records}: {proof * 1e3:.3f} ms, single-row SELECT "
            f"{single * 1e3:.3f} ms -> ratio {proof / single:.2f} (need <= 5)"
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
