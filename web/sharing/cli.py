"""`locker set-org-inclusion`, `set-org-auditing` and `set-org-siret`: the operator says
which organisations do digital inclusion (helpers), which one audits the service
(auditors), and each one's SIRET (ProConnect sign-in)."""

from __future__ import annotations

import click

from locker.actors import utc_now
from sharing.organizations import set_audits_service, set_digital_inclusion, set_siret
from web.commands import command_session, command_settings, emit


@click.command("set-org-inclusion")
@click.argument("org_id")
@click.option("--on/--off", "on", required=True, help="does digital inclusion, or not")
def set_org_inclusion(org_id: str, on: bool) -> None:
    """Say whether an organisation does digital inclusion; only its professionals may be
    helpers under a mandate. Switching off ends their mandates' effect at once."""
    with command_session(command_settings()) as session:
        set_digital_inclusion(session, utc_now, organization_id=org_id, on=on)
    emit({"id": org_id, "digital_inclusion": on})


@click.command("set-org-auditing")
@click.argument("org_id")
@click.option("--on/--off", "on", required=True, help="audits the service, or not")
def set_org_auditing(org_id: str, on: bool) -> None:
    """Say whether an organisation audits the service: only its professionals with the
    auditor role export the whole log. Switching off ends their reach at once."""
    with command_session(command_settings()) as session:
        set_audits_service(session, utc_now, organization_id=org_id, on=on)
    emit({"id": org_id, "audits_service": on})


@click.command("set-org-siret")
@click.argument("org_id")
@click.argument("siret", required=False)
@click.option("--clear", is_flag=True, help="remove the organisation's SIRET")
def set_org_siret(org_id: str, siret: str | None, clear: bool) -> None:
    """Record an organisation's SIRET (14 digits, checked): its professionals may then sign
    in with ProConnect (docs/proconnect.md). --clear removes it."""
    if (siret is None) != clear:
        raise click.UsageError("give a SIRET, or --clear")
    with command_session(command_settings()) as session:
        set_siret(session, utc_now, organization_id=org_id, siret=None if clear else siret)
    emit({"id": org_id, "siret": None if clear else "".join((siret or "").split())})


commands = [set_org_inclusion, set_org_auditing, set_org_siret]
