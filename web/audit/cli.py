"""`locker audit verify` and `locker audit checkpoint`: the log checked and signed."""

from __future__ import annotations

import json
from pathlib import Path

import click

from locker.actors import utc_now
from locker.audit_verify import verify_log
from locker.checkpoints import publish_current_checkpoint
from locker.db import make_session_factory
from locker.key_provider import open_keyring
from locker.parts import open_s3_witness
from web.commands import command_engine, command_settings


@click.group()
def audit() -> None:
    """The append-only audit log: verify it, sign a checkpoint of it."""


@audit.command()
@click.option(
    "--witness-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="witness folder to check against (default: LOCKER_AUDIT_WITNESS_DIR)",
)
def verify(witness_dir: str | None) -> None:
    """Recompute the tree from the records and check every checkpoint and witness copy.

    Prints a JSON report; exits 1 naming the first record that does not match.
    """
    settings = command_settings()
    public_key = open_keyring(settings).audit_signing_key().public_key()
    with command_engine(settings) as engine, engine.connect() as conn:
        # Older versions kept the witness inside the data dir: still checked if there.
        legacy = settings.data_dir / "witness"
        s3_witness = open_s3_witness(settings, utc_now)
        report = verify_log(
            conn,
            public_key,
            settings.audit_origin,
            Path(witness_dir) if witness_dir else settings.audit_witness_dir,
            (legacy,) if legacy.is_dir() else (),
            s3_witness.notes() if s3_witness is not None else (),
        )
    click.echo(
        json.dumps(
            {
                "ok": report.ok,
                "tree_size": report.tree_size,
                "checkpoints_checked": report.checkpoints_checked,
                "witness_checkpoints_checked": report.witness_checked,
                "first_bad_record": report.first_bad_record,
                "problems": report.problems,
            },
            indent=2,
        )
    )
    if not report.ok:
        first = report.problems[0]
        if report.first_bad_record is not None:
            first = f"first bad record: {report.first_bad_record} ({first})"
        click.echo(f"audit log verification FAILED: {first}", err=True)
        raise SystemExit(1)
    click.echo(f"audit log verified: {report.tree_size} records", err=True)


@audit.command()
def checkpoint() -> None:
    """Sign a checkpoint of the log now and copy it to the witness; prints it."""
    settings = command_settings()
    keyring = open_keyring(settings)
    with command_engine(settings) as engine:
        made = publish_current_checkpoint(
            make_session_factory(engine),
            keyring.audit_signing_key(),
            utc_now,
            origin=settings.audit_origin,
            witness_dir=settings.audit_witness_dir,
            max_age_minutes=0,
            s3_witness=open_s3_witness(settings, utc_now),
        )
    click.echo(made.note, nl=False)


commands = [audit]
