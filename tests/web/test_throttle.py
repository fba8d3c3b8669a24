"""Sign-in throttling (THREATS: per account and per address, never global; the same
answer for an unknown user and a wrong password)."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from locker.errors import ConfigurationError
from locker.settings import Settings, load_settings
from tests.conftest import PASSWORD, Actors, require_service
from tests.uploads.helpers import csrf_token
from web.app import create_app
from web.throttle import PER_ACCOUNT, PER_ADDRESS, SignInThrottle

REDIS_URL = os.environ.get("LOCKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
OFFICE, HOME = "203.0.113.7", "198.51.100.9"


def _token(
    client: FlaskClient, username: str, password: str, address: str = OFFICE
) -> TestResponse:
    return client.post(
        "/api/v1/auth/token",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_wrong_passwords_throttle_that_account_and_no_other(app: Flask, world: Actors) -> None:
    client = app.test_client()
    for _ in range(PER_ACCOUNT.amount):
        response = _token(client, "alice", "not her password")
        assert response.status_code == 401
    # Now even the right password waits: guessing stops here for a quarter of an hour.
    throttled = _token(client, "ALICE ", PASSWORD)
    assert throttled.status_code == 429
    body = throttled.get_json()
    assert body["error"] == "too_many_attempts" and "15 minutes" in body["message"]
    assert "token" not in body
    # Bob, from the same address, is not locked out by Alice's account.
    assert _token(client, "bob", PASSWORD).status_code == 201


def test_unknown_user_and_wrong_password_get_the_same_answer(app: Flask, world: Actors) -> None:
    client = app.test_client()
    unknown = _token(client, "nobody-here", "whatever")
    wrong = _token(client, "alice", "whatever")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()
    # An unknown name is throttled like a real one: throttling reveals no account.
    for _ in range(PER_ACCOUNT.amount):
        _token(client, "nobody-here", "whatever")
    assert _token(client, "nobody-here", "x").status_code == 429


def test_one_address_is_throttled_and_not_the_others(app: Flask, world: Actors) -> None:
    client = app.test_client()
    # Many accounts guessed from one address, each below its own limit.
    per_name = PER_ACCOUNT.amount - 1
    names = [f"guess-{n}" for n in range(-(-PER_ADDRESS.amount // per_name))]
    for name in names:
        for _ in range(per_name):
            _token(client, name, "guess")
    assert _token(client, "alice", PASSWORD, OFFICE).status_code == 429
    assert _token(client, "alice", PASSWORD, HOME).status_code == 201


def test_behind_a_proxy_each_client_address_counts(settings: Settings, world: Actors) -> None:
    app = create_app(replace(settings, proxy_hops=1), config={"TESTING": True})
    client = app.test_client()

    def attempt(forwarded: str, password: str) -> int:
        response = client.post(
            "/api/v1/auth/token",
            json={"username": f"guess-{secrets.token_hex(3)}", "password": password},
            headers={"X-Forwarded-For": forwarded},
        )
        return response.status_code

    for _ in range(PER_ADDRESS.amount):
        assert attempt(OFFICE, "guess") == 401
    assert attempt(OFFICE, "guess") == 429
    # The proxy's own address is the same for both: only the forwarded one counts.
    assert attempt(HOME, "guess") == 401
    app.extensions["locker"].engine.dispose()


def test_only_the_trusted_proxy_names_the_client(settings: Settings, world: Actors) -> None:
    proxy = "10.20.30.2"
    trusted = replace(settings, proxy_hops=1, trusted_proxies=("10.20.30.0/28",))
    app = create_app(trusted, config={"TESTING": True})
    client = app.test_client()

    def attempt(peer: str, forwarded: str) -> int:
        response = client.post(
            "/api/v1/auth/token",
            json={"username": f"guess-{secrets.token_hex(3)}", "password": "guess"},
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": peer},
        )
        return response.status_code

    # A client reaching the app around the proxy forges a new address at each attempt:
    # its own address is counted all the same.
    for n in range(PER_ADDRESS.amount):
        assert attempt(OFFICE, f"192.0.2.{n + 1}") == 401
    assert attempt(OFFICE, "192.0.2.250") == 429
    # Through the proxy, the address it forwards is the one counted.
    assert attempt(proxy, HOME) == 401
    assert attempt(proxy, OFFICE) == 429
    app.extensions["locker"].engine.dispose()


def test_the_sign_in_page_is_throttled_too(app: Flask, world: Actors) -> None:
    client = app.test_client()

    def submit(password: str) -> tuple[int, str]:
        token = csrf_token(client, "/sign-in")
        response = client.post(
            "/sign-in",
            data={"identifier": "alice", "password": password, "csrf_token": token},
            environ_base={"REMOTE_ADDR": OFFICE},
        )
        return response.status_code, response.get_data(as_text=True)

    for _ in range(PER_ACCOUNT.amount):
        assert submit("not her password")[0] == 401
    status, page = submit(PASSWORD)
    assert status == 429
    assert re.search(r"Trop d.essais", page.replace("&#39;", "'"))
    assert 'name="identifier"' in page  # the form is still there, to try again later


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """The machine's Redis, or one started here from Debian's redis-server (no disk)."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
        yield REDIS_URL
        return
    except redis.RedisError as exc:
        reason = f"Redis not reachable at {REDIS_URL}: {exc}"
    binary = shutil.which("redis-server")
    if binary is None:
        require_service(f"{reason}; redis-server not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            str(binary),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.RedisError:
                time.sleep(0.05)
        else:
            require_service(f"{reason}; redis-server did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_counts_are_shared_through_redis_and_hold_no_username(redis_url: str) -> None:
    name = f"alice-{secrets.token_hex(4)}"
    address = f"192.0.2.{secrets.randbelow(250) + 1}"
    first, second = SignInThrottle(redis_url), SignInThrottle(redis_url)  # two processes
    for _ in range(PER_ACCOUNT.amount):
        assert second.allows(name, address)
        first.failed(name, address)
    assert not second.allows(name, address)
    assert not first.allows(name.upper(), "192.0.2.254")
    keys = redis.Redis.from_url(redis_url).keys("*")
    assert keys and not any(name.encode() in key for key in keys)


def test_an_unreachable_counter_store_does_not_lock_everyone_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    throttle = SignInThrottle("redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert throttle.allows("alice", OFFICE)
    throttle.failed("alice", OFFICE)
    assert "sign-in throttle store unavailable" in caplog.text


@pytest.mark.parametrize(
    ("variable", "value"),
    [("LOCKER_THROTTLE_STORAGE_URL", "ftp://x"), ("LOCKER_PROXY_HOPS", "many")],
)
def test_bad_throttle_settings_name_the_variable(
    variable: str, value: str, tmp_path: object
) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        load_settings({"LOCKER_DATA_DIR": str(tmp_path), variable: value}, create=True)
