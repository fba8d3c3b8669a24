"""The service closes (décret 2018-853): announced by the operator's command, shown to
everyone; from the closing day nothing new is taken while everything can still be read
and taken for 12 months; after that, nobody signs in."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import Flask

from tests.conftest import bearer, sample, token_for
from tests.factories import Clock, build_world
from tests.locker.test_audit_verify import cli_env
from tests.web.test_pages import sign_in
from web.cli import main


def _announce(app: Flask, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, str | None]:
    """`locker service announce-closure ...`, as the operator runs it on this service."""
    cli_env(app, monkeypatch)
    result = CliRunner().invoke(main, ["service", "announce-closure", *args])
    assert result.exit_code == 0, result.output
    answer: dict[str, str | None] = json.loads(result.output)
    return answer


def _upload(client, token: str, person_id: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/persons/{person_id}/documents",
        headers=bearer(token),
        data={"file": (io.BytesIO(sample("scan.png")), "scan.png"), "category": "identity"},
        content_type="multipart/form-data",
    )


def test_a_closure_is_announced_then_keeps_only_what_lets_people_leave(
    app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    token = token_for(client, world.alice.username)
    closes_on = (clock() + timedelta(days=90)).date()
    said = _announce(app, monkeypatch, "--date", closes_on.isoformat())
    assert said["closes_on"] == closes_on.isoformat()
    assert said["export_until"] == closes_on.replace(year=closes_on.year + 1).isoformat()

    # From now on every page says so, before sign-in too; the locker still works.
    page = app.test_client().get("/sign-in").get_data(as_text=True)
    assert 'id="service-closure"' in page and str(closes_on.year) in page
    assert _upload(client, token, world.alice.id).status_code == 201

    # The closing day: nothing new, said as it is; reading, ending and taking stay open.
    clock.advance(days=90)
    token = token_for(client, world.alice.username)  # signing in still works
    refused = _upload(client, token, world.alice.id)
    assert refused.status_code == 403 and refused.get_json()["error"] == "service_closed"
    share = client.post(
        f"/api/v1/documents/{world.doc_plain}/grants",
        json={"member_id": world.members["referent"].id},
        headers=bearer(token),
    )
    assert share.status_code == 403 and share.get_json()["error"] == "service_closed"
    assert (
        client.get(f"/api/v1/documents/{world.doc}/content", headers=bearer(token)).status_code
        == 200
    )
    export = client.get(f"/api/v1/persons/{world.alice.id}/export", headers=bearer(token))
    assert export.status_code == 200 and export.mimetype == "application/zip"
    person = app.test_client()
    assert sign_in(person, world.alice.username).status_code == 302
    home = person.get("/settings").get_data(as_text=True)
    assert "il ne prend plus rien de nouveau" in home and 'href="/settings/export"' in home

    # Twelve months on, the window is over: nobody signs in.
    clock.advance(days=367)
    ended = client.post(
        "/api/v1/auth/token",
        json={"username": world.alice.username, "password": "correct horse battery"},
    )
    assert ended.status_code == 403 and ended.get_json()["error"] == "service_ended"


def test_an_announcement_can_be_withdrawn_and_a_bad_call_is_refused(
    app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_world(app, clock)
    _announce(app, monkeypatch, "--date", "2031-01-31")
    assert _announce(app, monkeypatch, "--withdraw") == {"closes_on": None, "export_until": None}
    assert 'id="service-closure"' not in app.test_client().get("/sign-in").get_data(as_text=True)
    wrong = CliRunner().invoke(main, ["service", "announce-closure"])
    assert wrong.exit_code == 2 and "--date" in wrong.output
