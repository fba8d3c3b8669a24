"""One app process appending audit records as fast as it can, for test_two_processes.py.

Run as `python -m tests.locker.append_worker MODE LABEL COUNT BARRIER_DIR` with the
LOCKER_* settings in the environment. It appends through the app's own paths, alternately:
`record_event` (a read or a refusal, committed at once) and `append_event` inside a
transaction that read first (a change and its record, as `sharing.guard` does). After
each one, in mode `append` it calls `checkpoint_if_due`, as the app does after every
request; in mode `checkpoint` it signs one at once (`publish_current_checkpoint`, as
`locker audit checkpoint` and `GET /api/v1/audit/checkpoint` do) and reports what that
raises. Mode `witness` appends nothing: it copies the same COUNT checkpoints to the
witness folder (`publish_checkpoint`) as the other process does. It starts when
BARRIER_DIR/go appears, and prints one JSON line: its sequence numbers, and every
append, checkpoint or witness copy that failed.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

from sqlalchemy import func, select, text

from locker.actors import Actor, utc_now
from locker.audit import AuditEvent, append_event, record_event
from locker.checkpoints import checkpoint_if_due, publish_checkpoint, publish_current_checkpoint
from locker.db import make_engine, make_session_factory
from locker.key_provider import open_keyring
from locker.models import Person
from locker.settings import load_settings

START_TIMEOUT = 60.0
WITNESS_ORIGIN = "two-processes.example/audit"


class _Failures(logging.Handler):
    """Counts what `checkpoint_if_due` logs and swallows (it must never need to)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        cause = f": {record.exc_info[1]!r}" if record.exc_info else ""
        self.messages.append(record.getMessage() + cause)


def _wait_for_start(barrier: Path, label: str) -> None:
    (barrier / f"ready-{label}").touch()
    deadline = time.monotonic() + START_TIMEOUT
    while not (barrier / "go").exists():
        if time.monotonic() > deadline:
            raise SystemExit("the other process never started")
        time.sleep(0.001)


def _witness_race(witness_dir: Path, count: int) -> list[str]:
    errors = []
    for size in range(1, count + 1):
        try:
            publish_checkpoint(witness_dir, size, f"{WITNESS_ORIGIN}\n{size}\nroot\n\n— sig\n")
        except Exception as exc:
            errors.append(f"witness {size}: {exc!r}")
    return errors


def main(mode: str, label: str, count: int, barrier: Path) -> None:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    key = open_keyring(settings).audit_signing_key()
    failures = _Failures()
    logging.getLogger("locker").addHandler(failures)
    actor = Actor("system", None)
    with factory() as session:  # connected before the start, like a warm app process
        session.execute(text("SELECT 1"))
    _wait_for_start(barrier, label)
    seqs: list[int] = []
    errors: list[str] = []
    if mode == "witness":
        count, errors = 0, _witness_race(settings.audit_witness_dir, count)
    for i in range(count):
        event = AuditEvent("document:read", "allowed", f"{label}:{i}", actor)
        try:
            if i % 2:
                seq = record_event(factory, utc_now, event)
            else:
                with factory() as session, session.begin():
                    session.scalar(select(func.count()).select_from(Person))
                    seq = append_event(session, utc_now, event).seq
            seqs.append(seq)  # only once committed
        except Exception as exc:  # reported, not raised: the test names every failure
            errors.append(f"{i}: {exc!r} caused by {exc.__cause__!r}")
        origin, witness = settings.audit_origin, settings.audit_witness_dir
        if mode == "append":
            checkpoint_if_due(factory, key, utc_now, origin=origin, witness_dir=witness)
            continue
        try:
            publish_current_checkpoint(
                factory, key, utc_now, origin=origin, witness_dir=witness, max_age_minutes=0
            )
        except Exception as exc:
            errors.append(f"checkpoint after {i}: {exc!r}")
    engine.dispose()
    print(json.dumps({"label": label, "seqs": seqs, "errors": errors, "logged": failures.messages}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
