"""`locker create-org`, `create-professional` and `create-person`: accounts made by the operator."""

from __future__ import annotations

import click

from locker import accounts
from locker.actors import utc_now
from locker.key_provider import open_keyring
from sharing.proconnect import unlink_proconnect
from sharing.second_factor import reset_second_factor
from web.commands import command_session, command_settings, emit, read_password


@click.command("create-org")
@click.argument("name")
def create_org(name: str) -> None:
    """Create an organisation; prints {"id", "name"}."""
    with command_session(command_settings()) as session:
        org = accounts.create_organization(session, utc_now, name)
        emit({"id": org.id, "name": org.name})


@click.command("create-professional")
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
    password = read_password()
    with command_session(command_settings()) as session:
        pro = accounts.create_professional(
            session,
            utc_now,
            organization_id=org_id,
            email=email,
            display_name=name,
            password=password,
            role=role,
        )
        emit({"id": pro.id, "email": pro.email, "organization_id": pro.organization_id})


@click.command("create-person")
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
    password = read_password()
    settings = command_settings()
    keyring = open_keyring(settings)
    with command_session(settings) as session:
        person = accounts.create_person(
            session,
            keyring,
            utc_now,
            username=username,
            display_name=display_name,
            password=password,
            must_change_password=must_change_password,
        )
        emit({"id": person.id, "username": person.username})


@click.command("reset-second-factor")
@click.argument("professional_id")
def reset_factor(professional_id: str) -> None:
    """A professional lost their phone: delete their second factor, backup codes and passkeys
    and end every session and token of theirs (recorded); they enrol again at their next
    sign-in.
    Check who asks first (in person, or by their organisation): this opens the account to
    whoever holds its password."""
    with command_session(command_settings()) as session:
        passkeys = reset_second_factor(session, utc_now, professional_id)
    emit({"id": professional_id, "second_factor": "reset", "passkeys_removed": passkeys})


@click.command("unlink-proconnect")
@click.argument("professional_id")
def unlink_proconnect_account(professional_id: str) -> None:
    """A professional's ProConnect account changed (a ProConnect sign-in is refused as
    "another ProConnect account"): forget the old link and end their sign-ins (recorded);
    their next ProConnect sign-in links the new account. Check who asks first."""
    with command_session(command_settings()) as session:
        unlink_proconnect(session, utc_now, professional_id)
    emit({"id": professional_id, "proconnect": "unlinked"})


commands = [create_org, create_professional, create_person, reset_factor, unlink_proconnect_account]
