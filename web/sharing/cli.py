"""`locker set-org-inclusion`: say which organisations do digital inclusion (helpers)."""

from __future__ import annotations

import json

import click

from locker.actors import utc_now
from locker.db import make_engine, make_session_factory
from locker.errors import LockerError
from sharing.organizations import set_digital_inclusion
from web.commands import command_settings


@click.command("set-org-inclusion")
@click.argument("org_id")
@click.option("--on/--off", "on", required=True, help="does digital inclusion, or not")
def set_org_inclusion(org_id: str, on: bool) -> None:
    """Say whether an organisation does digital inclusion; only its professionals may be
    helpers under a mandate. Switching off ends their mandates' effect at once."""
    settings = command_settings()
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            set_digital_inclusion(session, utc_now, organization_id=org_id, on=on)
            session.commit()
    except LockerError as exc:
        raise click.ClickException(f"{exc.code}: {exc}") from exc
    finally:
        engine.dispose()
    click.echo(json.dumps({"id": org_id, "digital_inclusion": on}))


commands = [set_org_inclusion]
