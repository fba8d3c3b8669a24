"""`locker invite-professional` and `locker deactivate-professional`: the operator acts for
an organisation's admin (recorded as the service)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import click

from locker.actors import Actor, utc_now
from locker.context import RequestContext
from locker.db import make_session_factory
from locker.key_provider import open_keyring
from locker.parts import open_object_store
from sharing import departures, invitations
from web.commands import command_engine, command_settings, emit


@contextmanager
def _operator() -> Iterator[RequestContext]:
    """The operator's context for one command: committed on success."""
    settings = command_settings()
    with command_engine(settings) as engine:
        factory = make_session_factory(engine)
        with factory() as session:
            yield RequestContext(
                session=session,
                session_factory=factory,
                store=open_object_store(settings),
                keyring=open_keyring(settings),
                clock=utc_now,
                actor=Actor.system(),
            )
            session.commit()


@click.command("invite-professional")
@click.option("--org", "org_id", required=True, help="organisation id")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    type=click.Choice(["professional", "helper", "auditor", "org_admin"]),
    default="professional",
)
@click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="the service's public address, which starts the printed link",
)
def invite_professional(org_id: str, email: str, name: str, role: str, base_url: str) -> None:
    """Invite a professional; prints the single-use link (7 days) where they choose their
    password, as {"id", "email", "invitation_url", "expires_at"}. No e-mail is sent."""
    with _operator() as ctx:
        made = invitations.invite_professional(
            ctx, organization_id=org_id, email=email, name=name, role=role
        )
    url = f"{base_url.rstrip('/')}/invitation?{urlencode({'token': made.token})}"
    emit(
        {
            "id": made.professional.id,
            "email": made.professional.email,
            "invitation_url": url,
            "expires_at": made.expires_at.isoformat(),
        }
    )


@click.command("deactivate-professional")
@click.argument("professional_id")
@click.option("--successor", "successor_id", default=None, help="a colleague to propose")
def deactivate_professional(professional_id: str, successor_id: str | None) -> None:
    """Deactivate a professional at once: every session and token ends; each person who had
    them on their list is told (and offered the colleague given with --successor)."""
    with _operator() as ctx:
        departures.deactivate_professional(
            ctx, professional_id=professional_id, successor_id=successor_id
        )
    emit({"id": professional_id, "deactivated": True})


commands = [invite_professional, deactivate_professional]
