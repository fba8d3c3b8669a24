"""Two app processes at once (issue 16): their audit appends and checkpoints, raced on one
database, leave one gapless log whose tree, signed checkpoints and witness all verify."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from locker.audit_models import AuditCheckpoint
from locker.audit_verify import verify_log
from locker.checkpoints import open_checkpoint, witness_notes
from locker.models import AuditRecord
from locker.proofs import consistency_proof, inclusion_proof
from locker.settings import Settings
from tests import audit_verifier as rfc
from tests.app_processes import ROOT, settings_env
from web.cli import main
from web.context import Services

# The issue asks for 1,000 appends from each process; a slow machine may ask for fewer.
PER_PROCESS = int(os.environ.get("LOCKER_TEST_APPENDS_PER_PROCESS", "1000"))
LABELS = ("a", "b")
WORKER_TIMEOUT = 600
CHECKPOINT_ROUNDS = 200
WITNESS_ROUNDS = 1000
ISOLATION_ROUNDS = 200


def _race(
    settings: Settings, barrier: Path, mode: str = "append", count: int = PER_PROCESS
) -> tuple[dict[str, dict[str, list]], float]:
    """Start both workers, release them together, return what each reported and the time
    from the release until both were done."""
    env = {**os.environ, **settings_env(settings)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.locker.append_worker", mode, label, str(count), barrier],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for label in LABELS
    ]
    try:
        while not all((barrier / f"ready-{label}").exists() for label in LABELS):
            for worker in workers:
                assert worker.poll() is None, worker.communicate()[1]
            time.sleep(0.01)
        (barrier / "go").touch()
        started = time.monotonic()
        outputs = [worker.communicate(timeout=WORKER_TIMEOUT) for worker in workers]
        elapsed = time.monotonic() - started
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    reports = {}
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
        report = json.loads(out.strip().splitlines()[-1])
        reports[report["label"]] = report
    return reports, elapsed


def test_two_processes_append_into_one_log_that_verifies(
    app: Flask,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    record_property: pytest.RecordProperty,
) -> None:
    settings: Settings = app.extensions["locker"].settings
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    reports, elapsed = _race(settings, barrier)
    record_property("append_seconds", round(elapsed, 2))
    print(f"\n{2 * PER_PROCESS} appends from two processes: {elapsed:.2f} s")

    total = PER_PROCESS * len(LABELS)
    for label, report in reports.items():
        assert report["errors"] == [], label  # no lost append, no 503, no deadlock
        assert report["logged"] == [], label  # no checkpoint failed (nor a false fork)
        assert len(report["seqs"]) == PER_PROCESS
        assert report["seqs"] == sorted(report["seqs"])  # each process's own order kept
    seqs = [seq for report in reports.values() for seq in report["seqs"]]
    assert sorted(seqs) == list(range(total))  # contiguous, no duplicate

    found = app.extensions["locker"]
    with found.session_factory() as session:
        rows = session.execute(select(AuditRecord.seq, AuditRecord.reason)).all()
        assert sorted(seq for seq, _ in rows) == list(range(total))
        by_process = {
            label: [seq for seq, why in rows if why.startswith(f"{label}:")] for label in LABELS
        }
        assert {label: sorted(s) for label, s in by_process.items()} == {
            label: report["seqs"] for label, report in reports.items()
        }
        checkpoints = session.scalars(
            select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)
        ).all()
        _check_checkpoints_and_proofs(session, found, checkpoints, by_process, total)

    public_key = found.keyring.audit_signing_key().public_key()
    with found.engine.connect() as conn:
        report = verify_log(conn, public_key, settings.audit_origin, settings.audit_witness_dir)
    assert report.ok, report.problems
    assert report.tree_size == total
    assert report.checkpoints_checked == len(checkpoints)
    assert report.witness_checked == len(checkpoints)

    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    verified = CliRunner().invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout[: verified.stdout.rindex("}") + 1])["tree_size"] == total


def _check_checkpoints_and_proofs(
    session: Session,
    found: Services,
    checkpoints: Sequence[AuditCheckpoint],
    by_process: dict[str, list[int]],
    total: int,
) -> None:
    """Every checkpoint both processes signed is the only one of its size, is on the
    witness word for word, extends the one before, and proves records of both processes."""
    settings = found.settings
    public_key = found.keyring.audit_signing_key().public_key()
    # Each process signs every 100 records or so; racing, they must never fork.
    assert len(checkpoints) >= total // 100 - 1
    witnessed = {path.name: note for path, note in witness_notes(settings.audit_witness_dir)}
    assert len(witnessed) == len(checkpoints)
    heads = []
    for checkpoint in checkpoints:
        head = open_checkpoint(checkpoint.note, settings.audit_origin, public_key)
        assert (head.tree_size, head.root_hash) == (checkpoint.tree_size, checkpoint.root_hash)
        assert witnessed[f"checkpoint-{checkpoint.tree_size:012d}.txt"] == checkpoint.note
        heads.append(head)
    for earlier, later in itertools.pairwise(heads):
        proof = consistency_proof(session, earlier.tree_size, later.tree_size)
        assert rfc.verify_consistency(
            earlier.tree_size, later.tree_size, earlier.root_hash, later.root_hash, proof
        )
    last = heads[-1]
    for label, seqs in by_process.items():
        inside = [seq for seq in seqs if seq < last.tree_size]
        assert inside, label
        for seq in {inside[0], inside[len(inside) // 2], inside[-1]}:
            proof = inclusion_proof(session, seq, last.tree_size)
            assert json.loads(proof.leaf)["reason"].startswith(f"{label}:")
            assert rfc.verify_inclusion(
                seq, last.tree_size, rfc.leaf_hash(proof.leaf), proof.hashes, last.root_hash
            )


def test_two_processes_signing_checkpoints_at_once_never_fork(app: Flask, tmp_path: Path) -> None:
    settings: Settings = app.extensions["locker"].settings
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    # Each appends and signs at once, so both often sign the same size at the same moment.
    reports, _ = _race(settings, barrier, "checkpoint", CHECKPOINT_ROUNDS)
    for label, report in reports.items():
        assert report["errors"] == [], label  # no duplicate-key error, no false fork
    found = app.extensions["locker"]
    public_key = found.keyring.audit_signing_key().public_key()
    with found.engine.connect() as conn:
        report = verify_log(conn, public_key, settings.audit_origin, settings.audit_witness_dir)
    assert report.ok, report.problems
    assert report.tree_size == 2 * CHECKPOINT_ROUNDS
    # Each process signs after each of its own appends: a larger size every time.
    assert report.witness_checked == report.checkpoints_checked >= CHECKPOINT_ROUNDS


@pytest.mark.parametrize("stack", ["sqlite-file"])  # a folder's matter: one stack is enough
def test_two_processes_copying_one_checkpoint_to_the_witness_see_no_fork(
    settings: Settings, tmp_path: Path
) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    # Both copy the same notes at the same moments: neither may read the other's file
    # half-written (an empty file is "a different checkpoint": a false fork).
    reports, _ = _race(settings, barrier, "witness", WITNESS_ROUNDS)
    for label, report in reports.items():
        assert report["errors"] == [], label
    notes = witness_notes(settings.audit_witness_dir)
    assert [path.name for path, _ in notes] == [
        f"checkpoint-{size:012d}.txt" for size in range(1, WITNESS_ROUNDS + 1)
    ]
    assert all(note.split("\n")[1] == path.name[11:23].lstrip("0") for path, note in notes)
    assert sorted(os.listdir(settings.audit_witness_dir)) == [path.name for path, _ in notes]


@pytest.mark.parametrize("stack", ["postgres-s3"])
def test_appends_race_alike_when_the_server_defaults_to_serializable(
    app: Flask, tmp_path: Path
) -> None:
    found = app.extensions["locker"]
    settings: Settings = found.settings
    # A database administrator may make SERIALIZABLE the default; appends must not then
    # fail with "could not serialize access" when two processes append at once.
    name = make_url(settings.database_url).database
    with found.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text(f"ALTER DATABASE \"{name}\" SET default_transaction_isolation = 'serializable'")
        )
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    reports, _ = _race(settings, barrier, "append", ISOLATION_ROUNDS)
    for label, report in reports.items():
        assert report["errors"] == [], label
        assert report["logged"] == [], label
    seqs = sorted(seq for report in reports.values() for seq in report["seqs"])
    assert seqs == list(range(2 * ISOLATION_ROUNDS))
    public_key = found.keyring.audit_signing_key().public_key()
    with found.engine.connect() as conn:
        report = verify_log(conn, public_key, settings.audit_origin, settings.audit_witness_dir)
    assert report.ok, report.problems
