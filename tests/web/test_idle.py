"""Shared phones: a browser session left unused ends; one in use lives on; the API is apart."""

from __future__ import annotations

from flask import Flask

from tests.conftest import Actors, bearer, token_for
from tests.factories import Clock
from tests.web.test_pages import sign_in


def test_a_person_left_idle_twenty_minutes_is_signed_out(
    app: Flask, world: Actors, clock: Clock
) -> None:
    phone = app.test_client()
    sign_in(phone, "alice")
    for _ in range(3):  # active for 45 minutes: never idle for 20
        clock.advance(minutes=15)
        assert phone.get("/papers").status_code == 200
    clock.advance(minutes=20)
    assert phone.get("/papers").status_code == 302
    # Ended for good: coming back later with the same cookie does not revive it.
    clock.advance(minutes=1)
    assert phone.get("/papers").status_code == 302


def test_a_professional_has_thirty_minutes_and_tokens_their_own_lifetime(
    app: Flask, world: Actors, clock: Clock
) -> None:
    desk = app.test_client()
    sign_in(desk, "martin@lilas.example")
    token = token_for(app.test_client(), "martin@lilas.example")
    clock.advance(minutes=25)
    assert desk.get("/pro/persons").status_code == 200
    clock.advance(minutes=30)
    assert desk.get("/pro/persons").status_code == 302
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 200
