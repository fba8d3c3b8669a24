"""The `locker` console command (stable interface: `locker --help` lists its commands)."""

from __future__ import annotations

import json
import secrets
import sys
from typing import Any

import click
from sqlalchemy import select

from crypto.keyring import rotate_master_key
from locker import accounts
from locker.actors import utc_now
from locker.bootstrap import initialize
from locker.db import make_engine, make_session_factory
from locker.errors import LockerError
from locker.models import Organization, Person, Professional
from locker.rotation import rewrap_person_keys
from locker.settings import Settings, load_settings
from web.app import open_keyring


def _settings(create: bool = False) -> Settings:
    try:
        return load_settings(create=create)
    except LockerError as exc:
        raise click.ClickException(str(exc)) from exc


def _emit(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False))


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.ClickException("no password on standard input")
    return password


class _Db:
    """A session for one command: committed on success, rolled back on error."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings.database_url)
        self.session = make_session_factory(self.engine)()

    def __enter__(self) -> _Db:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.session.commit()
        else:
            self.session.rollback()
        self.session.close()
        self.engine.dispose()


def _fail(exc: LockerError) -> click.ClickException:
    field = exc.params.get("field")
    suffix = f" ({field})" if field else ""
    return click.ClickException(f"{exc.code}: {exc}{suffix}")


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
    settings = _settings(create=True)
    try:
        report = initialize(settings, wait_seconds)
    except LockerError as exc:
        raise _fail(exc) from exc
    click.echo(f"data dir:   {report.data_dir}", err=True)
    click.echo(
        f"master key: {settings.master_key_file} "
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

    _settings()
    run(host=host, port=port, workers=workers)


@main.command("create-org")
@click.argument("name")
def create_org(name: str) -> None:
    """Create an organisation; prints {"id", "name"}."""
    with _Db(_settings()) as db:
        try:
            org = accounts.create_organization(db.session, utc_now, name)
        except LockerError as exc:
            raise _fail(exc) from exc
        _emit({"id": org.id, "name": org.name})


@main.command("create-professional")
@click.option("--org", "org_id", required=True, help="organisation id")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role", type=click.Choice(["professional", "org_admin", "auditor"]), default="professional"
)
@click.option("--password-stdin", is_flag=True, required=True, help="read the password from stdin")
def create_professional(
    org_id: str, email: str, name: str, role: str, password_stdin: bool
) -> None:
    """Create a professional account; prints {"id", "email"}."""
    password = _read_password()
    with _Db(_settings()) as db:
        try:
            pro = accounts.create_professional(
                db.session,
                utc_now,
                organization_id=org_id,
                email=email,
                display_name=name,
                password=password,
                role=role,
            )
        except LockerError as exc:
            raise _fail(exc) from exc
        _emit({"id": pro.id, "email": pro.email, "organization_id": pro.organization_id})


@main.command("create-person")
@click.option("--username", required=True)
@click.option("--display-name", required=True)
@click.option("--password-stdin", is_flag=True, required=True, help="read the password from stdin")
@click.option(
    "--must-change-password",
    is_flag=True,
    help="the person must choose their own password at first sign-in (set it when the "
    "password was chosen for them)",
)
def create_person(
    username: str, display_name: str, password_stdin: bool, must_change_password: bool
) -> None:
    """Create a person's account; prints {"id", "username"}."""
    password = _read_password()
    settings = _settings()
    keyring = open_keyring(settings)
    with _Db(settings) as db:
        try:
            person = accounts.create_person(
                db.session,
                keyring,
                utc_now,
                username=username,
                display_name=display_name,
                password=password,
                must_change_password=must_change_password,
            )
        except LockerError as exc:
            raise _fail(exc) from exc
        _emit({"id": person.id, "username": person.username})


@main.command("rotate-master-key")
def rotate_master_key_command() -> None:
    """Add a new master key version and rewrap every person key under it.

    Objects and data keys are not touched; older versions stay in the key file so that
    backups made before the rotation still open.
    """
    settings = _settings()
    version = rotate_master_key(settings.master_key_file)
    keyring = open_keyring(settings)
    with _Db(settings) as db:
        count = rewrap_person_keys(db.session, keyring)
    _emit({"master_key_version": version, "person_keys_rewrapped": count})


DEMO_ORG = "Association Démo"
DEMO_EMAIL = "referente@demo.invalid"
DEMO_USERNAME = "demo"


@main.command()
def demo() -> None:
    """Seed a demo organisation, professional and person; print their credentials.

    Run again, it keeps the accounts, gives them new passwords and says so.
    """
    settings = _settings()
    keyring = open_keyring(settings)
    pro_password = secrets.token_urlsafe(9)
    person_password = secrets.token_urlsafe(9)
    existed = []
    with _Db(settings) as db:
        session = db.session
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
        _emit(
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
        f"(person) or '{DEMO_EMAIL}' / '{pro_password}' (professional).",
        err=True,
    )


from web.cli_uploads import purge, storage  # noqa: E402 (commands kept in their own module)

main.add_command(purge)
main.add_command(storage)

from web.cli_audit import audit  # noqa: E402 (commands kept in their own module)

main.add_command(audit)

from web.cli_sharing import set_org_inclusion  # noqa: E402 (commands kept in their own module)

main.add_command(set_org_inclusion)

if __name__ == "__main__":
    main()
