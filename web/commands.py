"""What every `locker` command shares: its settings, its database session, its output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from locker.db import make_engine, make_session_factory
from locker.errors import LockerError
from locker.settings import Settings, load_settings


def command_settings(create: bool = False) -> Settings:
    """The service's settings, or a one-line error naming the setting that is wrong."""
    try:
        return load_settings(create=create)
    except LockerError as exc:
        raise click.ClickException(str(exc)) from exc


def emit(payload: dict[str, Any]) -> None:
    """Print a command's result as one JSON line (stable interface)."""
    click.echo(json.dumps(payload, ensure_ascii=False))


def read_password() -> str:
    """The first line of standard input: passwords never go on the command line."""
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.ClickException("no password on standard input")
    return password


def failure(exc: LockerError) -> click.ClickException:
    """A refusal as the command prints it: its code, its message and the field."""
    field = exc.params.get("field")
    suffix = f" ({field})" if field else ""
    return click.ClickException(f"{exc.code}: {exc}{suffix}")


@contextmanager
def command_engine(settings: Settings) -> Iterator[Engine]:
    """The database for one command, disposed of at its end; a refusal printed as `failure`."""
    engine = make_engine(settings.database_url)
    try:
        yield engine
    except LockerError as exc:
        raise failure(exc) from exc
    finally:
        engine.dispose()


@contextmanager
def command_session(settings: Settings) -> Iterator[Session]:
    """A session for one command: committed on success, rolled back on error."""
    with command_engine(settings) as engine, make_session_factory(engine)() as session:
        yield session
        session.commit()
