"""The `locker` console command (stable interface: `locker --help` lists its commands)."""

from __future__ import annotations

import os
import secrets
from datetime import datetime

import click
from sqlalchemy import select

from crypto.errors import CryptoError
from locker import accounts
from locker.actors import utc_now
from locker.bootstrap import initialize
from locker.errors import LockerError
from locker.key_provider import add_master_key_version, open_keyring, prepare_token_from_key_file
from locker.models import Organization, Person, Professional
from locker.service import announce_closure
from locker.settings import parse_key_provider
from sharing.rekey import rewrap_every_key
from web.accounts import cli as accounts_cli
from web.audit import cli as audit_cli
from web.backup import cli as backup_cli
from web.commands import command_session, command_settings, emit, failure
from web.documents import cli as documents_cli
from web.organisation import cli as organisation_cli
from web.sharing import cli as sharing_cli


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """The digital locker: encrypted papers, shared on the person's terms."""


@main.command()
@click.option(
    "--wait",
    "wait_seconds",
    default=0.0,
    type=click.FloatRange(0, 3600),
    help="Seconds to wait for the database and the object store to answer.",
)
def init(wait_seconds: float) -> None:
    """Create the data dir, master key, database schema and bucket if missing (idempotent)."""
    settings = command_settings(create=True)
    try:
        report = initialize(settings, wait_seconds)
    except LockerError as exc:
        raise failure(exc) from exc
    click.echo(f"data dir:   {report.data_dir}", err=True)
    click.echo(
        f"master key: {settings.pkcs11 or settings.master_key_file} "
        f"({'created' if report.key_created else 'already there'})",
        err=True,
    )
    click.echo(f"database:   {report.database} (migrated to the newest revision)", err=True)
    click.echo(f"storage:    {report.storage} (ready)", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the locker with waitress (slow clients never hold a thread)."""
    from web.serve import run

    command_settings()
    run(host=host, port=port, workers=workers)


@main.command("rotate-master-key")
def rotate_master_key_command() -> None:
    """Add a new master key version (in the key file, or inside the PKCS#11 token) and
    rewrap every wrapped key under it: person keys and second-factor keys.

    Objects and data keys are not touched; older versions stay so that backups made before
    the rotation still open. Run again after a failure: it resumes.
    """
    settings = command_settings()
    try:
        version = add_master_key_version(settings)
        keyring = open_keyring(settings)
        with command_session(settings) as session:
            counts = rewrap_every_key(session, keyring)
    except CryptoError as exc:
        raise click.ClickException(str(exc)) from exc
    emit({"master_key_version": version, **counts})


@main.command("migrate-key-provider")
@click.option(
    "--to",
    "target",
    required=True,
    help="pkcs11:/path/to/module.so?token=LABEL (the user PIN in LOCKER_PKCS11_PIN_FILE)",
)
def migrate_key_provider_command(target: str) -> None:
    """Move the master keys from the key file into a PKCS#11 token: a master key generated
    in the token, the audit and erasure keys copied beside it, every wrapped key rewrapped
    by the token. Resumable; then restart with LOCKER_KEY_PROVIDER set to the same value.
    Docs: docs/operations.md ("Master keys in an HSM")."""
    settings = command_settings()
    try:
        location = parse_key_provider(target, os.environ.get("LOCKER_PKCS11_PIN_FILE", ""))
        if location is None:
            raise click.UsageError("--to must name a pkcs11: token")
        handover = prepare_token_from_key_file(settings, location)
        with command_session(settings) as session:
            counts = rewrap_every_key(session, handover.target, handover.source)
    except (CryptoError, LockerError) as exc:
        raise click.ClickException(str(exc)) from exc
    emit(
        {
            "key_provider": str(location),
            "master_key_version": handover.target.current_version(),
            "erasure_keys_copied": handover.erasure_keys_copied,
            **counts,
        }
    )


DEMO_ORG = "Association Démo"
DEMO_EMAIL = "referente@demo.invalid"
DEMO_USERNAME = "demo"


@main.group()
def service() -> None:
    """The service as a whole: its closure (décret 2018-853)."""


@service.command("announce-closure")
@click.option(
    "--date",
    "closes_on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="the closing day (YYYY-MM-DD); every person sees it from now on",
)
@click.option("--withdraw", is_flag=True, help="withdraw the announcement")
def announce_closure_command(closes_on: datetime | None, withdraw: bool) -> None:
    """Announce the closing day; prints {"closes_on", "export_until"}: from that day the
    locker takes nothing new, and everyone can still sign in and take everything until
    export_until (12 months later). Docs: docs/service-closure.md."""
    if (closes_on is None) == (not withdraw):
        raise click.UsageError("give --date YYYY-MM-DD, or --withdraw")
    with command_session(command_settings()) as session:
        announced = announce_closure(session, utc_now, closes_on.date() if closes_on else None)
        if announced is None:
            emit({"closes_on": None, "export_until": None})
            return
        emit(
            {
                "closes_on": announced.closes_on.isoformat(),
                "export_until": announced.export_until.isoformat(),
            }
        )


@main.command()
def demo() -> None:
    """Seed a demo organisation, professional and person; print their credentials.

    Run again, it keeps the accounts, gives them new passwords and says so.
    """
    settings = command_settings()
    keyring = open_keyring(settings)
    pro_password = secrets.token_urlsafe(9)
    person_password = secrets.token_urlsafe(9)
    existed = []
    with command_session(settings) as session:
        org = session.scalar(select(Organization).where(Organization.name == DEMO_ORG))
        if org is None:
            org = accounts.create_organization(session, utc_now, DEMO_ORG)
        pro = session.scalar(select(Professional).where(Professional.email == DEMO_EMAIL))
        if pro is None:
            pro = accounts.create_professional(
                session,
                utc_now,
                organization_id=org.id,
                email=DEMO_EMAIL,
                display_name="Mme Martin (référente)",
                password=pro_password,
            )
        else:
            accounts.set_password(session, utc_now, pro, pro_password)
            existed.append(DEMO_EMAIL)
        pro_id = pro.id
        person = session.scalar(select(Person).where(Person.username == DEMO_USERNAME))
        if person is None:
            person = accounts.create_person(
                session,
                keyring,
                utc_now,
                username=DEMO_USERNAME,
                display_name="Personne de démonstration",
                password=person_password,
                created_by=pro.id,
            )
        else:
            accounts.set_password(session, utc_now, person, person_password)
            existed.append(DEMO_USERNAME)
        emit(
            {
                "organization": {"id": org.id, "name": org.name},
                "professional": {"id": pro.id, "email": DEMO_EMAIL, "password": pro_password},
                "person": {"id": person.id, "username": DEMO_USERNAME, "password": person_password},
            }
        )
    if existed:
        click.echo(
            f"\nThe demo accounts ({', '.join(existed)}) were already there: they have new "
            "passwords now, and the earlier ones no longer work (their papers are kept).",
            err=True,
        )
    click.echo(
        f'\nSign in, at the address `locker serve` gives ("Serving on ..."), as '
        f"'{DEMO_USERNAME}' / '{person_password}' "
        f"(person) or '{DEMO_EMAIL}' / '{pro_password}' (professional: an authenticator "
        "app's code too, enrolled at the first sign-in; `locker reset-second-factor` "
        f"{pro_id} forgets it).",
        err=True,
    )


# Each domain's commands, taken from its own module rather than from web.domains: a
# command then starts without loading every page and route (half its start-up time).
for domain in (accounts_cli, documents_cli, sharing_cli, audit_cli, organisation_cli, backup_cli):
    for command in domain.commands:
        main.add_command(command)

if __name__ == "__main__":
    main()
