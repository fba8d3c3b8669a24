"""The API answers as its OpenAPI document says: generated requests (schemathesis, a
bounded number per operation) against the real app on both stacks find no server error
and no answer the document does not describe (status, content type, body, `Allow`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from locker import accounts
from tests.conftest import PASSWORD
from web.openapi import openapi_document

COMMITTED = Path(__file__).resolve().parents[2] / "web" / "openapi.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    allow_header_conformance,
]
# Operations that end or change the token they are called with get a token of their own.
OWN_TOKEN = ("/auth/token", "/me/password")


def test_the_committed_document_is_the_one_the_service_serves() -> None:
    # Regenerate with: .venv/bin/python -m web.openapi > web/openapi.json
    assert json.loads(COMMITTED.read_text()) == openapi_document()


@pytest.fixture
def api_schema(app: Flask) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def sign_in(app: Flask) -> Any:
    """A new token of one person, made without the sign-in route (whose throttle the
    generated wrong passwords would soon close)."""
    found = app.extensions["locker"]
    with found.session_factory() as session:
        person = accounts.create_person(
            session,
            found.keyring,
            found.clock,
            username="schema",
            display_name="S",
            password=PASSWORD,
        )
        session.commit()

    def token() -> str:
        with found.session_factory() as session:
            made = accounts.start_session(session, found.clock, person, "api", hours=1)
            session.commit()
        return made

    return token


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_described(case: Any, sign_in: Any, request: pytest.FixtureRequest) -> None:
    token = request.node.stash.setdefault(_TOKEN, None)
    if token is None or case.path.startswith(OWN_TOKEN):
        token = sign_in()
        request.node.stash[_TOKEN] = token
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


_TOKEN = pytest.StashKey[Any]()
