"""Issue 11, points 11, 12 and 15: invalid JSON text, logs, file modes, HSTS, compose."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from crypto.keyring import create_keyfile
from locker.settings import Settings, load_settings
from tests.conftest import Actors, bearer, token_for
from tests.test_cli import run
from tests.web.test_pages import csrf
from web import errors
from web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
LONE_SURROGATE = b'"\\ud800"'


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_hsts_exactly_when_cookies_are_secure(settings: Settings) -> None:
    plain = create_app(settings, config={"TESTING": True})
    assert "Strict-Transport-Security" not in plain.test_client().get("/").headers
    secure = create_app(dataclasses.replace(settings, cookie_secure=True), config={"TESTING": True})
    answer = secure.test_client().get("/", base_url="https://locker.example")
    assert answer.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"


def test_compose_sets_the_proxy_hops_of_its_proxy() -> None:
    locker = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["locker"]
    assert locker["environment"]["LOCKER_PROXY_HOPS"] == "1"
    # With one trusted hop, nobody but that proxy may reach the port (else X-Forwarded-For
    # could be forged to dodge sign-in throttling).
    assert all(str(port).startswith("127.0.0.1:") for port in locker["ports"])


def _owner_only(database: Path) -> None:
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if path.exists():
            assert _mode(path) == 0o600, path


def test_sqlite_files_are_owner_only_after_init_and_writes(tmp_path: Path) -> None:
    data = tmp_path / "var"
    env = {"LOCKER_DATA_DIR": str(data), "LOCKER_COOKIE_SECURE": "false"}
    assert run(env, "init").returncode == 0
    database = data / "locker.sqlite3"
    assert _mode(data) == 0o700
    assert _mode(database) == 0o600
    _owner_only(database)
    result = run(env, "create-org", "Association")
    assert result.returncode == 0, result.stderr
    _owner_only(database)
    # The application's own writes (a refused sign-in is audited) keep the modes.
    app = create_app(load_settings(env), config={"TESTING": True})
    answer = app.test_client().post("/api/v1/auth/token", json={"username": "x", "password": "y"})
    assert answer.status_code == 401
    assert Path(f"{database}-wal").exists()
    _owner_only(database)
    app.extensions["locker"].engine.dispose()


def test_a_lone_surrogate_is_refused_with_a_400(client: FlaskClient, world: Actors) -> None:
    body = b'{"username": ' + LONE_SURROGATE + b', "password": "x"}'
    answer = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_text"
    token = token_for(client, "martin@lilas.example")
    answer = client.post(
        "/api/v1/persons",
        data=b'{"username": "zoe", "display_name": ' + LONE_SURROGATE + b', "password": "x"}',
        content_type="application/json",
        headers=bearer(token),
    )
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_text"


def test_a_database_error_carries_no_bound_value(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0LWhhc2g"
    engine = app.extensions["locker"].engine
    with pytest.raises(SQLAlchemyError) as raised, engine.begin() as conn:
        conn.execute(text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": secret})
    assert secret not in str(raised.value)
    assert "argon2" not in caplog.text


def test_an_unexpected_database_error_logs_no_value(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "zoe-secret-username"
    engine = app.extensions["locker"].engine
    with pytest.raises(SQLAlchemyError) as raised, engine.begin() as conn:
        conn.execute(text("CREATE TEMPORARY TABLE t (u TEXT UNIQUE)"))
        for _ in range(2):  # PostgreSQL's message quotes the duplicate value
            conn.execute(text("INSERT INTO t (u) VALUES (:u)"), {"u": secret})
    caplog.set_level(logging.DEBUG)
    with app.test_request_context("/api/v1/persons", method="POST"):
        answer = errors.handle_unexpected(raised.value)
    assert answer.status_code == 500
    assert caplog.records
    for record in caplog.records:
        assert secret not in logging.Formatter().format(record)


@pytest.mark.parametrize(
    "attempt",
    [
        {"path": "/sign-in", "data": {"identifier": "al\x00ice", "password": "x"}},
        {"path": "/sign-in", "data": {"identifier": "alice", "password": "x", "n\x00": "1"}},
        {"path": "/sign-in?next=%00", "data": {"identifier": "alice", "password": "x"}},
    ],
    ids=["value", "name", "query"],
)
def test_a_nul_in_a_form_or_query_is_a_clear_400_on_every_database(
    app: Flask, attempt: dict[str, Any]
) -> None:
    client = app.test_client()
    page = client.get("/sign-in")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data)
    assert token is not None
    answer = client.post(attempt["path"], data={**attempt["data"], "csrf_token": token.group(1)})
    assert answer.status_code == 400
    assert "caractères invalides" in answer.get_data(as_text=True)


def test_pages_still_answer_when_the_database_does_not(tmp_path: Path) -> None:
    """Nothing on every page may need the database (the service-closure notice reads it):
    the sign-in page renders, and a sign-in says "database unavailable" in plain words."""
    settings = load_settings(
        {
            "LOCKER_DATA_DIR": str(tmp_path / "var"),
            "LOCKER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2",
            "LOCKER_SECRET_KEY": "x" * 40,
            "LOCKER_COOKIE_SECURE": "false",
        },
        create=True,
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    create_keyfile(settings.master_key_file)
    client = create_app(settings, config={"TESTING": True}).test_client()
    page = client.get("/sign-in")
    assert page.status_code == 200 and b'id="identifier"' in page.data
    tried = client.post("/api/v1/auth/token", json={"username": "awa", "password": "x" * 12})
    assert tried.status_code == 503 and tried.get_json()["error"] == "database_unavailable"
    shown = client.post(
        "/sign-in",
        data={"identifier": "awa", "password": "x" * 12, "csrf_token": csrf(client, "/sign-in")},
    )
    assert shown.status_code == 503 and b'id="error-summary"' in shown.data
