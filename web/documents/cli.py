"""`locker purge` and `locker storage reconcile`: the trash and the store kept honest."""

from __future__ import annotations

import json

import click

from locker.actors import utc_now
from locker.parts import open_object_store
from locker.reconcile import reconcile_storage
from locker.reminders import load_notifier, send_reminders
from locker.trash import purge_trash
from sharing.grants import record_grant_expiries
from sharing.retention import forget_history
from web.commands import command_session, command_settings, emit


@click.command()
def purge() -> None:
    """Purge documents trashed more than 30 days ago: objects, thumbnails and data keys.

    Also writes the passing of grants' end dates to the audit log, then forgets the ended
    history past its duration (sign-ins, links, grants, mandates, codes, notices, list
    entries: sharing/retention.py). Run it daily (cron). Prints {"purged", "objects_left",
    "grants_expired", "forgotten": {kind: count}}; objects left are for
    `locker storage reconcile`.
    """
    settings = command_settings()
    store = open_object_store(settings)
    with command_session(settings) as session:
        report = purge_trash(session, store, utc_now)
        expired = record_grant_expiries(session, utc_now)
        # After the expiries: a grant's row goes only once its end is on the person's log.
        forgotten = forget_history(session, utc_now)
    emit(
        {
            "purged": report.purged,
            "objects_left": report.objects_left,
            "grants_expired": expired,
            "forgotten": forgotten,
        }
    )


@click.command("remind-expiries")
def remind_expiries() -> None:
    """Send today's reminders of papers expiring in 60, 30 or 7 days, to the persons who
    chose them, through LOCKER_NOTIFIER (by default a log line: nothing leaves). Run it
    daily (cron). Prints {"sent"}."""
    settings = command_settings()
    notifier = load_notifier(settings.notifier)
    with command_session(settings) as session:
        sent = send_reminders(session, utc_now().date(), notifier)
    emit({"sent": sent})


@click.group()
def storage() -> None:
    """The object store, compared with the database."""


@storage.command()
@click.option("--fix", is_flag=True, help="delete the orphaned objects")
@click.option(
    "--grace-seconds",
    default=180.0,
    show_default=True,
    type=float,
    help="with --fix: how long an orphan must stay unnamed (uploads in flight)",
)
def reconcile(fix: bool, grace_seconds: float) -> None:
    """Report objects no document names, and documents whose object is missing.

    Prints {"orphans", "missing_documents", "removed"}; exits 1 if anything is wrong
    and was not fixed.
    """
    settings = command_settings()
    store = open_object_store(settings)
    with command_session(settings) as session:
        report = reconcile_storage(session, store, fix=fix, grace_seconds=grace_seconds)
    # Not `emit`: an orphan's key is whatever the bucket holds, so it is printed escaped.
    click.echo(
        json.dumps(
            {
                "orphans": report.orphans,
                "missing_documents": report.missing,
                "removed": report.removed,
            }
        )
    )
    unresolved = set(report.orphans) - set(report.removed)
    if report.missing or unresolved:
        raise SystemExit(1)


commands = [purge, remind_expiries, storage]
