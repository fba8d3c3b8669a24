"""Expiry reminders: "expire bientôt" on the person's and the professional's pages from 60
days before; reminders on the 60th, 30th and 7th day, to those who chose them only,
through a plug-in notifier (by default a log line: nothing leaves)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import update

from locker.errors import ConfigurationError
from locker.models import Document, Person
from locker.reminders import LogNotifier, Reminder, expires_in, load_notifier, send_reminders
from tests.conftest import bearer, token_for
from tests.factories import Clock, build_world
from tests.locker.test_audit_verify import cli_env
from tests.notifier import SENT, Collector
from tests.web.test_pages import sign_in
from web.cli import main


def test_expires_in_counts_days_only_within_sixty() -> None:
    today = date(2027, 1, 10)
    assert expires_in(None, today) is None
    assert expires_in(today + timedelta(days=61), today) is None
    assert expires_in(today + timedelta(days=60), today) == 60
    assert expires_in(today, today) == 0
    assert expires_in(today - timedelta(days=3), today) == -3


def test_a_plug_in_is_loaded_by_name_and_a_bad_name_is_refused() -> None:
    assert isinstance(load_notifier(""), LogNotifier)
    assert isinstance(load_notifier("tests.notifier:Collector"), Collector)
    with pytest.raises(ConfigurationError, match="LOCKER_NOTIFIER"):
        load_notifier("tests.notifier:Nobody")


def _date(app: Flask, document_id: str, valid_until: date) -> None:
    with app.extensions["locker"].session_factory() as session:
        session.execute(
            update(Document).where(Document.id == document_id).values(valid_until=valid_until)
        )
        session.commit()


def test_pages_say_expire_bientot_to_the_person_and_the_referent(app: Flask, clock: Clock) -> None:
    world = build_world(app, clock)
    today = clock().date()
    _date(app, world.doc, today + timedelta(days=30))  # shared with the referent
    _date(app, world.doc_plain, today + timedelta(days=200))
    person = app.test_client()
    sign_in(person, world.alice.username)
    papers = person.get("/papers").get_data(as_text=True)
    assert papers.count('class="meta expiry"') == 1 and "dans 30 jours" in papers
    desk = app.test_client()
    sign_in(desk, world.users["referent_grant"].email)  # type: ignore[union-attr]
    assert "dans 30 jours" in desk.get(f"/pro/persons/{world.alice.id}").get_data(as_text=True)
    clock.advance(days=31)
    sign_in(person, world.alice.username)  # the browser session did not last a month
    assert "Expiré" in person.get("/papers").get_data(as_text=True)


def test_reminders_go_on_the_day_to_those_who_chose_them(
    app: Flask, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    world = build_world(app, clock)
    today = clock().date()
    _date(app, world.doc, today + timedelta(days=30))
    _date(app, world.doc_plain, today + timedelta(days=29))  # not a reminder day
    found = app.extensions["locker"]
    with found.session_factory() as session:
        assert send_reminders(session, today, Collector()) == 0  # nobody chose them yet
    client = app.test_client()
    token = token_for(client, world.alice.username)
    chose = client.patch("/api/v1/me", json={"expiry_reminders": True}, headers=bearer(token))
    assert chose.status_code == 200 and chose.get_json()["expiry_reminders"] is True
    SENT.clear()
    with found.session_factory() as session:
        assert send_reminders(session, today, Collector()) == 1
    assert [Reminder(world.alice.id, world.doc, 30)] == SENT
    # A trashed paper or a closed account is reminded of nothing; the default logs only.
    with found.session_factory() as session:
        session.execute(update(Document).where(Document.id == world.doc).values(deleted_at=clock()))
        session.commit()
        assert send_reminders(session, today, Collector()) == 0
        session.execute(update(Document).where(Document.id == world.doc).values(deleted_at=None))
        session.commit()
        with caplog.at_level(logging.INFO, logger="locker.reminders"):
            assert send_reminders(session, today, LogNotifier()) == 1
        session.execute(update(Person).where(Person.id == world.alice.id).values(closed_at=clock()))
        session.commit()
        assert send_reminders(session, today, Collector()) == 0
    assert any(r.getMessage() == "expiry reminder due" for r in caplog.records)
    # The log line names no paper: a log is read by more people than the person chose.
    assert all(not hasattr(r, "document_id") for r in caplog.records)


def test_the_daily_command_sends_through_the_operators_plug_in(
    app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(app, clock)
    _date(app, world.doc, datetime.now(UTC).date() + timedelta(days=7))  # the command's today
    with app.extensions["locker"].session_factory() as session:
        session.execute(
            update(Person).where(Person.id == world.alice.id).values(expiry_reminders=True)
        )
        session.commit()
    cli_env(app, monkeypatch)
    monkeypatch.setenv("LOCKER_NOTIFIER", "tests.notifier:Collector")
    SENT.clear()
    result = CliRunner().invoke(main, ["remind-expiries"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"sent": 1}
    assert [(r.document_id, r.days_left) for r in SENT] == [(world.doc, 7)]
