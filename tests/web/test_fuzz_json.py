"""Every JSON route of the API, fed generated bodies as a person and as a professional: no 500.

Bodies mix the fields the routes read with junk: lone surrogates, NULs, huge and odd numbers,
wrong types, nested containers. Bounded and derandomised, so CI runs the same cases.
"""

from __future__ import annotations

import io
import json
import re
import uuid

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Actors, bearer, sample, token_for

FIELDS = [
    "username", "password", "display_name", "email", "member_id", "category", "expires_at",
    "title", "mission", "professional_code", "scope", "scopes", "valid_until", "code",
    "current_password", "new_password", "document_ids", "days", "role",
]  # fmt: skip

TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["\ud800", "\udfff", "a\x00b", "", " ", "2026-13-45", "9999-12-31T23:59:59"]),
    st.text(st.characters(categories=["Cs", "Cc"]), max_size=4),
)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS) | TEXT, inner, max_size=3)
    ),
    max_leaves=8,
)
OBJECT = st.dictionaries(st.sampled_from(FIELDS) | TEXT, VALUE, max_size=6)
# Bodies json.dumps cannot write: numbers past Python's digit limit, bare junk.
RAW = st.sampled_from([b"1" * 5000, b'{"title": 1' + b"0" * 5000 + b"}", b"\xff\xfe", b"[[[[", b""])
BODY = st.one_of(
    OBJECT.map(lambda body: json.dumps(body).encode()),
    VALUE.map(lambda body: json.dumps(body).encode()),
    RAW,
)


def json_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) of every API route that may read a body."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}):
            if (method, rule.rule) != ("DELETE", "/api/v1/auth/token"):  # would sign us out
                found.append((method, rule.rule))
    return sorted(found)


def test_no_json_body_gets_a_500(app: Flask, world: Actors) -> None:
    client = app.test_client()
    tokens = {
        "person": token_for(client, "alice"),
        "pro": token_for(client, "martin@lilas.example"),
    }
    uploaded = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers=bearer(tokens["person"]),
        data={"file": (io.BytesIO(sample("scan.png")), "scan.png"), "title": "t"},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201
    ids = [world.alice.id, world.bob.id, world.pro.id, uploaded.get_json()["id"], str(uuid.uuid4())]
    routes = json_routes(app)
    assert len(routes) >= 20  # the route map was read: the check has teeth
    answers: dict[int, int] = {}

    @settings(
        max_examples=400,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        route=st.sampled_from(routes),
        who=st.sampled_from(sorted(tokens)),
        body=BODY,
        path_ids=st.lists(st.sampled_from(ids) | st.just("x"), min_size=3, max_size=3),
    )
    def fuzz(route: tuple[str, str], who: str, body: bytes, path_ids: list[str]) -> None:
        method, rule = route
        values = iter(path_ids)
        path = re.sub(r"<[^>]+>", lambda _: next(values), rule)
        answer = client.open(
            path,
            method=method,
            data=body,
            content_type="application/json",
            headers=bearer(tokens[who]),
        )
        answers[answer.status_code] = answers.get(answer.status_code, 0) + 1
        assert answer.status_code < 500, (
            method,
            path,
            who,
            body[:200],
            answer.get_data()[:300],
        )

    fuzz()
    assert sum(answers.values()) >= 100


@pytest.mark.parametrize("field", ["title", "display_name", "username"])
def test_a_surrogate_anywhere_is_a_400(app: Flask, world: Actors, field: str) -> None:
    client = app.test_client()
    token = token_for(client, "martin@lilas.example")
    body = b'{"nested": [{"' + field.encode() + b'": "\\ud800"}], "username": "zed"}'
    answer = client.post(
        "/api/v1/persons", data=body, content_type="application/json", headers=bearer(token)
    )
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_text"
