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
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from locker import accounts
from tests.factories import new_person
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
def sign_in(app: Flask) -> Any:
    """A new token of one person, made without the sign-in route (whose throttle the
    generated wrong passwords would soon close)."""
    found = app.extensions["locker"]
    with found.session_factory() as session:
        person = new_person(session, found.keyring, found.clock, "schema")
        session.commit()

    def token() -> str:
        with found.session_factory() as session:
            made = accounts.start_session(session, found.clock, person, "api", hours=1)
            session.commit()
        return made

    return token


def test_every_answer_is_described(app: Flask, sign_in: Any) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    token = sign_in()
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            database=None,
            derandomize=True,  # the same requests on every run
            suppress_health_check=list(HealthCheck),
        )
        def answer(case: Any) -> None:
            own = sign_in() if case.path.startswith(OWN_TOKEN) else token
            case.call_and_validate(headers={"Authorization": f"Bearer {own}"}, checks=CHECKS)

        try:
            answer()
        except BaseException as exc:  # a check failed: its message names it and the request
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures[operation.label] = str(exc)[:2000]
    assert failures == {}
