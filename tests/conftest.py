"""Shared fixtures: strict mode, real PostgreSQL, a real S3 server, apps on both stacks.

Strict mode (LOCKER_TEST_STRICT=1, or CI=true) turns a missing service into a failure
instead of a skip, so CI can never pass by testing less.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse

from crypto.keyring import create_keyfile
from locker.actors import utc_now
from locker.db import make_engine
from locker.models import AuthSession, Organization, Person, Professional
from locker.schema import upgrade_schema
from locker.settings import Settings, load_settings
from tests.factories import (
    PASSWORD,
    Clock,
    new_organization,
    new_person,
    new_professional,
    second_factor_code,
    use_keyring,
)
from tests.postgres_server import answers, throwaway_cluster
from tests.s3_server import (  # noqa: F401  (fixture re-export)
    make_bucket,
    remove_bucket,
    s3_bucket,
    s3_server,
)
from tests.softhsm import (  # noqa: F401  (fixture re-export)
    hsm_settings,
    hsm_token,
    softhsm_conf,
)
from web.app import create_app
from web.fresh_factor import HEADER as FRESH_HEADER
from web.fresh_factor import MARK as FRESH_MARK

STRICT = os.environ.get("LOCKER_TEST_STRICT") == "1" or os.environ.get("CI") == "true"
PG_ADMIN_URL = os.environ.get(
    "LOCKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def require_service(reason: str) -> None:
    """Skip when a service is missing, or fail in strict mode."""
    if STRICT:
        pytest.fail(f"strict mode: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """The machine's PostgreSQL (LOCKER_TEST_PG_URL), or a throwaway cluster of our own."""
    why = answers(PG_ADMIN_URL)
    if why is None:
        yield PG_ADMIN_URL
        return
    try:
        with throwaway_cluster() as url:
            yield url
    except RuntimeError as exc:
        require_service(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({why}), and {exc}")


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> Iterator[str]:
    """A migrated template database; each test clones it (fast on PostgreSQL)."""
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    name = f"locker_tpl_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_admin_url).set(database=name)
    engine = make_engine(url.render_as_string(hide_password=False))
    upgrade_schema(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_admin_url: str, pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    # A bounded connect: a server that stopped answering fails the test, not the whole run.
    admin = create_engine(
        pg_admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 10}
    )
    name = f"locker_t_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test copies it (running the migrations takes ~0.2 s,
    and 400 tests run on SQLite)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "locker.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    engine.dispose()
    # Every connection closed, SQLite has folded its write-ahead log into the file.
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture(params=["sqlite-file", "postgres-s3"])
def stack(request: pytest.FixtureRequest) -> str:
    """Every app-level test runs on the embedded default and on PostgreSQL + real S3."""
    return str(request.param)


@pytest.fixture
def settings(
    stack: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Validated settings for the stack under test, with a fresh data dir and master key
    (and, on S3, a fresh bucket, removed afterwards: a server holds 1,000 at most)."""
    env = {"LOCKER_DATA_DIR": str(tmp_path / "var"), "LOCKER_COOKIE_SECURE": "false"}
    bucket = None
    if stack == "postgres-s3":
        server = request.getfixturevalue("s3_server")
        env["LOCKER_DATABASE_URL"] = request.getfixturevalue("pg_url")
        env["LOCKER_SECRET_KEY"] = secrets.token_urlsafe(40)
        bucket = make_bucket(server)
        env["LOCKER_STORAGE_URL"] = f"s3://{bucket}"
        env["LOCKER_S3_ENDPOINT_URL"] = server.endpoint_url
        env["LOCKER_S3_REGION"] = server.region
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.access_key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret_key)
    result = load_settings(env, create=True)
    result.data_dir.mkdir(parents=True, exist_ok=True)
    create_keyfile(result.master_key_file)
    if stack == "sqlite-file":
        database = make_url(result.database_url).database
        assert database is not None
        shutil.copyfile(request.getfixturevalue("sqlite_template"), database)
    yield result
    if bucket is not None:
        with contextlib.suppress(Exception):  # a test that broke the server loses nothing here
            remove_bucket(server, bucket)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def code_for_email(app: Flask, email: object) -> str | None:
    """A valid unused second-factor code of the professional signing in as `email`."""
    if not isinstance(email, str) or "@" not in email:
        return None
    with app.extensions["locker"].session_factory() as session:
        pro_id = session.scalar(
            select(Professional.id).where(Professional.email == email.strip().lower())
        )
    return second_factor_code(app, pro_id) if pro_id else None


def fresh_code_for(app: Flask, path: str, method: str, headers: object) -> str | None:
    """A valid unused code for an API request to a route that takes a fresh second factor
    (web/fresh_factor.py), when its bearer token is an enrolled professional's."""
    auth = dict(headers) if isinstance(headers, dict | list) else {}
    scheme, _, token = str(auth.get("Authorization", "")).partition(" ")
    if scheme != "Bearer" or not token:
        return None
    try:
        endpoint, _args = app.url_map.bind("localhost").match(urlsplit(path).path, method)
    except HTTPException:
        return None
    if not getattr(app.view_functions.get(endpoint), FRESH_MARK, False):
        return None
    with app.extensions["locker"].session_factory() as session:
        stored = hashlib.sha256(token.strip().encode()).hexdigest()  # as accounts keeps it
        row = session.get(AuthSession, stored)
        pro_id = row.user_id if row is not None and row.user_kind == "professional" else None
    return second_factor_code(app, pro_id) if pro_id else None


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class FactorClient(FlaskClient):
    """The tests' client: a professional's sign-in passes the second factor by itself.

    An API request with an enrolled professional's token, to a route that asks for a fresh
    factor, carries a valid unused code in `X-Second-Factor-Code` (used only when the
    token's factor is no longer fresh).

    `POST /api/v1/auth/token` with an enrolled professional's e-mail and no code gets a
    valid unused one (FACTOR_SECRET, tests/factories.py); `POST /sign-in` that leads to
    the code's page answers that page too, and gives back its answer (where the sign-in
    leads). Existing tests sign professionals in as before. A test about the factor
    itself sets `auto_second_factor = False` (or sends its own code)."""

    auto_second_factor = True

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "")
        method = str(kwargs.get("method", "GET")).upper()
        body = kwargs.get("json")
        headers = kwargs.get("headers")
        if self.auto_second_factor and path.startswith("/api/") and headers is not None:
            code = fresh_code_for(self.application, path, method, headers)
            if code is not None and FRESH_HEADER not in dict(headers):
                kwargs["headers"] = {**dict(headers), FRESH_HEADER: code}
        if (
            self.auto_second_factor
            and method == "POST"
            and path == "/api/v1/auth/token"
            and isinstance(body, dict)
            and "totp" not in body
            and "backup_code" not in body
        ):
            code = code_for_email(self.application, body.get("email"))
            if code is not None:
                kwargs["json"] = {**body, "totp": code}
        if not (self.auto_second_factor and method == "POST" and path.startswith("/sign-in")):
            return super().open(*args, **kwargs)
        follow = kwargs.pop("follow_redirects", False)
        response = super().open(*args, **kwargs)
        location = response.headers.get("Location", "")
        if response.status_code != 302 or urlsplit(location).path != "/sign-in/code":
            return self._followed(response) if follow else response
        data = kwargs.get("data")
        email = data.get("identifier") if isinstance(data, dict) else None
        code = code_for_email(self.application, email)
        if code is None:
            return self._followed(response) if follow else response
        page = super().open(location, method="GET")
        found = _CSRF.search(page.get_data(as_text=True))
        form = {"code": code, **({"csrf_token": found.group(1)} if found else {})}
        answer = super().open(location, method="POST", data=form)
        return self._followed(answer) if follow else answer

    def _followed(self, response: TestResponse) -> TestResponse:
        while response.status_code in {301, 302, 303, 307, 308}:
            response = super().open(response.headers["Location"], method="GET")
        return response


# Every app the tests make (the fixture's, and those a test builds itself) gives this client.
Flask.test_client_class = FactorClient


@pytest.fixture
def app(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """A fresh application on the stack under test: the one app of every test.

    CSRF is checked (a form test reads its token) unless the test is marked `no_csrf`
    (it posts pages as a script would); a test that asks for `clock` gets the app on
    that clock, which it moves instead of waiting.
    """
    config: dict[str, object] = {"TESTING": True}
    if request.node.get_closest_marker("no_csrf") is not None:
        config["WTF_CSRF_ENABLED"] = False
    clock = request.getfixturevalue("clock") if "clock" in request.fixturenames else utc_now
    application = create_app(settings, config=config, clock=clock)
    application.extensions["locker"].store.ensure_ready()
    use_keyring(application.extensions["locker"].keyring)
    yield application
    use_keyring(None)
    application.extensions["locker"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session on the app's database, for arranging and inspecting."""
    session = app.extensions["locker"].session_factory()
    yield session
    session.close()


@dataclass
class Actors:
    """A small world: two organisations, professionals, an admin and two persons."""

    org: Organization
    other_org: Organization
    pro: Professional
    other_pro: Professional
    admin: Professional
    alice: Person
    bob: Person


@pytest.fixture
def world(app: Flask) -> Actors:
    return make_world(app)


def make_world(app: Flask) -> Actors:
    """The small world, on `app` (professionals' factors sealed under its keyring)."""
    found = app.extensions["locker"]
    with found.session_factory() as session:
        org = new_organization(session, utc_now, "CHRS Les Lilas")
        other = new_organization(session, utc_now, "Mission locale")
        actors = Actors(
            org,
            other,
            new_professional(session, utc_now, org, "Mme Martin", email="martin@lilas.example"),
            new_professional(session, utc_now, other, "M. Durand", email="durand@ml.example"),
            new_professional(
                session, utc_now, org, "Admin", "org_admin", email="admin@lilas.example"
            ),
            new_person(session, found.keyring, utc_now, "alice"),
            new_person(session, found.keyring, utc_now, "bob"),
        )
        session.commit()
        return actors


def token_for(client: FlaskClient, identifier: str, password: str = PASSWORD) -> str:
    """Sign in through the API and return the bearer token (a professional's second factor
    passed with a valid unused code, when they have one)."""
    key = "email" if "@" in identifier else "username"
    body = {key: identifier, "password": password}
    code = code_for_email(client.application, identifier)
    if code is not None:
        body["totp"] = code
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "samples"
SHARED_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"


def sample(name: str) -> bytes:
    """Bytes of one of the team's sample uploads."""
    for folder in (SAMPLES, SHARED_SAMPLES):
        if (folder / name).exists():
            return (folder / name).read_bytes()
    raise FileNotFoundError(name)


__all__ = [
    "PASSWORD",
    "Actors",
    "Clock",
    "bearer",
    "replace",
    "require_service",
    "sample",
    "token_for",
]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In strict mode no test may be skipped: a skip means something was not tested."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"strict mode: this test was skipped ({report.longrepr})"
