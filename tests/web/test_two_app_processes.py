"""Two app processes behind one load balancer (issue 16): a sign-in made on one is good on
the other, failed sign-ins counted on one are refused on the other (Redis), and an ending
(sign out everywhere, a deactivated account) on one holds at once on the other."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from flask import Flask

from locker.settings import Settings
from tests.app_processes import app_processes
from tests.conftest import PASSWORD, Actors, code_for_email
from tests.factories import new_person
from tests.web.test_throttle import redis_url  # noqa: F401  (fixture re-export)
from web.throttle import PER_ACCOUNT

TIMEOUT = 30


@pytest.fixture
def shared_settings(settings: Settings, redis_url: str) -> Settings:  # noqa: F811
    """The stack's settings as several processes behind a proxy run them."""
    return replace(settings, throttle_storage_url=redis_url, proxy_hops=1)


@pytest.fixture
def two(app: Flask, shared_settings: Settings, tmp_path: Path) -> Iterator[list[str]]:
    """The base URLs of two `locker serve` processes on one database and one Redis."""
    with app_processes(shared_settings, tmp_path) as bases:
        yield bases


def _address() -> str:
    """A client address of its own (the proxy's header), so that no run counts for another."""
    return f"198.51.100.{secrets.randbelow(250) + 1}"


def _browser() -> requests.Session:
    browser = requests.Session()
    browser.headers["X-Forwarded-For"] = _address()
    return browser


def _csrf(browser: requests.Session, url: str) -> str:
    page = browser.get(url, timeout=TIMEOUT)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def _sign_in_page(base: str, username: str) -> requests.Session:
    browser = _browser()
    form = {"identifier": username, "password": PASSWORD}
    form["csrf_token"] = _csrf(browser, f"{base}/sign-in")
    answer = browser.post(f"{base}/sign-in", data=form, allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code == 302, answer.text[:300]
    return browser


def _signed_in(browser: requests.Session, base: str) -> bool:
    answer = browser.get(f"{base}/settings", allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code in {200, 302}
    return answer.status_code == 200


def _token(base: str, body: dict[str, str], address: str | None = None) -> requests.Response:
    headers = {"X-Forwarded-For": address or _address()}
    return requests.post(f"{base}/api/v1/auth/token", json=body, headers=headers, timeout=TIMEOUT)


def _me(base: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{base}/api/v1/me", headers=headers, timeout=TIMEOUT).status_code


def _pro_token(app: Flask, base: str, email: str) -> str:
    body = {"email": email, "password": PASSWORD, "totp": code_for_email(app, email) or ""}
    answer = _token(base, body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def test_two_processes_share_sign_ins_their_endings_and_the_failure_counts(
    app: Flask, world: Actors, two: list[str]
) -> None:
    # One pair of processes for the three (each takes seconds to start on a busy machine).
    _sign_in_holds_on_both_until_signed_out_everywhere(world, two)
    _deactivation_holds_on_both(app, world, two)
    _failures_are_counted_together(app, two)


def _sign_in_holds_on_both_until_signed_out_everywhere(world: Actors, two: list[str]) -> None:
    first, second = two
    phone = _sign_in_page(first, world.alice.username)
    assert _signed_in(phone, second)  # the cookie from the first opens the second
    assert not _signed_in(_browser(), second)
    desk = _sign_in_page(second, world.alice.username)
    made = _token(second, {"username": world.alice.username, "password": PASSWORD})
    assert made.status_code == 201
    token = made.json()["token"]
    assert _me(first, token) == 200
    kept_cookies = desk.cookies.copy()

    # Sign out everywhere on the first process: the second no longer knows any of them.
    form = {"csrf_token": _csrf(phone, f"{first}/settings"), "confirmed": "1"}
    ended = phone.post(
        f"{first}/sign-out-everywhere", data=form, allow_redirects=False, timeout=TIMEOUT
    )
    assert ended.status_code == 302
    assert not _signed_in(desk, second)
    assert _me(second, token) == 401
    replayed = _browser()
    replayed.cookies.update(kept_cookies)
    assert not _signed_in(replayed, second)


def _deactivation_holds_on_both(app: Flask, world: Actors, two: list[str]) -> None:
    first, second = two
    token = _pro_token(app, second, world.pro.email)
    assert _me(second, token) == 200
    admin = _pro_token(app, first, world.admin.email)
    deactivated = requests.post(
        f"{first}/api/v1/professionals/{world.pro.id}/deactivate",
        headers={"Authorization": f"Bearer {admin}", "X-Forwarded-For": _address()},
        timeout=TIMEOUT,
    )
    assert deactivated.status_code == 204, deactivated.text
    assert _me(second, token) == 401
    assert _me(first, token) == 401


def _failures_are_counted_together(app: Flask, two: list[str]) -> None:
    first, second = two
    found = app.extensions["locker"]
    # A name of its own: the counters live in Redis, beyond this test's database.
    username = f"carol-{secrets.token_hex(4)}"
    with found.session_factory() as session:
        new_person(session, found.keyring, found.clock, username)
        session.commit()
    wrong = {"username": username, "password": "not-her-password"}
    for _ in range(PER_ACCOUNT.amount):
        assert _token(first, wrong).status_code == 401
    right = {"username": username, "password": PASSWORD}
    assert _token(second, right).status_code == 429  # counted on the first, from anywhere
    assert _token(first, right).status_code == 429
