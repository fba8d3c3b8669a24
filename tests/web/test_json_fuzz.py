"""Hostile JSON on every JSON route of the API: a clear 4xx, never a 500.

The routes come from the app's own route map, so a new route is fuzzed without anyone
remembering to add it. Bodies mix the fields the OpenAPI document names with junk: lone
surrogates, NUL bytes, huge numbers, wrong types, deep nesting, bytes that are not JSON.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from locker.models import Document
from tests.conftest import Actors, bearer, sample, token_for

JSON_METHODS = ("POST", "PUT", "PATCH")
PLAUSIBLE = [
    "alice",
    "correct horse battery",
    "martin@lilas.example",
    "id",
    "share",
    "view upload",
    "2030-01-01",
    "2026-13-45",
]
HOSTILE_TEXT = ["\ud800", "\udfff", "a\ud83d", "\x00", "\r\nX-Forged: 1", "x" * 5000, "é\u202e"]


def _json_routes(app: Flask) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        for method in sorted((rule.methods or set()) & set(JSON_METHODS)):
            routes.append((method, rule.rule))
    return sorted(routes)


def _body_fields(document: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """The JSON body's property names of each operation, keyed like the route map."""
    fields = {}
    for path, operations in document["paths"].items():
        rule = "/api/v1" + path.replace("{", "<").replace("}", ">")
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            schema = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
            )
            fields[(method.upper(), rule)] = sorted(schema.get("properties", {}))
    return fields


def _values() -> st.SearchStrategy[Any]:
    leaves = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(10**40), max_value=10**40)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20)
        | st.sampled_from(HOSTILE_TEXT)
        | st.sampled_from(PLAUSIBLE)
    )
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
        max_leaves=8,
    )


def test_hostile_json_never_gives_a_500(app: Flask, world: Actors) -> None:
    client: FlaskClient = app.test_client()
    person_token = token_for(client, "alice")
    pro_token = token_for(client, "martin@lilas.example")
    uploaded = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers=bearer(person_token),
        data={"file": (io.BytesIO(sample("scan.png")), "scan.png")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201
    ids = [world.alice.id, uploaded.get_json()["id"], str(uuid.uuid4()), "x" * 40, "%ED%A0%80"]
    routes = _json_routes(app)
    assert len(routes) >= 15, routes  # the route map really was read
    fields = _body_fields(client.get("/api/v1/openapi.json").get_json())
    assert fields[("POST", "/api/v1/persons")] == ["display_name", "password", "username"]
    seen_statuses: set[int] = set()

    @settings(
        max_examples=300,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        route=st.sampled_from(routes),
        token=st.sampled_from([person_token, person_token, pro_token, pro_token, None]),
        path_ids=st.lists(st.sampled_from(ids), min_size=3, max_size=3),
        data=st.data(),
        raw=st.none() | st.none() | st.binary(max_size=64) | st.just(b'{"password": "\\ud800"'),
    )
    def probe(
        route: tuple[str, str],
        token: str | None,
        path_ids: list[str],
        data: st.DataObject,
        raw: bytes | None,
    ) -> None:
        method, rule = route
        # The operation's own fields, each plausible or hostile, plus junk now and then.
        known = {name: _values() for name in fields.get(route, [])}
        with_junk = st.fixed_dictionaries({"junk": _values()}, optional=known)
        body = data.draw(st.fixed_dictionaries({}, optional=known) | with_junk | _values())
        path = rule
        for value in path_ids:
            start = path.find("<")
            if start < 0:
                break
            path = path[:start] + value + path[path.index(">", start) + 1 :]
        payload = raw if raw is not None else json.dumps(body).encode()
        response = client.open(
            path,
            method=method,
            data=payload,
            content_type="application/json",
            headers=bearer(token) if token else {},
        )
        seen_statuses.add(response.status_code)
        assert response.status_code < 500 or response.status_code == 503, (
            method,
            path,
            payload[:200],
            response.status_code,
            response.get_data()[:300],
        )
        if response.status_code >= 400:
            assert response.get_json()["error"], (method, path)

    probe()
    assert any(400 <= status < 500 for status in seen_statuses)


def _fill(rule: str, ids: dict[str, str]) -> str:
    path = rule
    for name, value in ids.items():
        path = path.replace(f"<{name}>", value)
    return path


def test_every_field_of_every_route_refuses_hostile_text(app: Flask, world: Actors) -> None:
    # A sweep, not a sample: each field of each operation gets each hostile value once.
    client: FlaskClient = app.test_client()
    tokens = [token_for(client, "alice"), token_for(client, "martin@lilas.example")]
    uploaded = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers=bearer(tokens[0]),
        data={"file": (io.BytesIO(sample("scan.png")), "scan.png")},
        content_type="multipart/form-data",
    )
    ids = {"person_id": world.alice.id, "document_id": uploaded.get_json()["id"]}
    fields = _body_fields(client.get("/api/v1/openapi.json").get_json())
    swept = 0
    for method, rule in _json_routes(app):
        names = fields.get((method, rule), [])
        for name in names:
            for hostile in ("\ud800", "x\udfff", 10**40, ["\ud83d"], {"\ud800": 1}):
                body: dict[str, Any] = {other: "correct horse battery" for other in names}
                body[name] = hostile
                payload = json.dumps(body).encode()
                for token in tokens:
                    response = client.open(
                        _fill(rule, ids),
                        method=method,
                        data=payload,
                        content_type="application/json",
                        headers=bearer(token),
                    )
                    swept += 1
                    assert response.status_code < 500, (method, rule, name, payload)
                    if response.status_code >= 400:
                        assert response.get_json()["error"], (method, rule, name)
    assert swept > 100


def test_a_lone_surrogate_is_a_clear_400(client: FlaskClient, world: Actors) -> None:
    token = token_for(client, "martin@lilas.example")
    body = b'{"username": "bad\\ud800", "display_name": "X\\udfff", "password": "p\\ud800ssword"}'
    for path, headers in (("/api/v1/auth/token", {}), ("/api/v1/persons", bearer(token))):
        response = client.post(path, data=body, content_type="application/json", headers=headers)
        assert response.status_code == 400, (path, response.status_code, response.get_data())
        assert response.get_json()["error"] == "bad_request"
    # Recovery answers every unusable request alike, so that it tells nothing.
    response = client.post("/api/v1/recovery", data=body, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["error"] == "bad_recovery_code"


def test_an_audit_failure_during_upload_is_a_clear_503(
    app: Flask, client: FlaskClient, world: Actors
) -> None:
    token = token_for(client, "alice")
    found = app.extensions["locker"]
    with found.engine.begin() as conn:
        # The audit log cannot take a record: on PostgreSQL a revoked right answers the
        # same way (a programming error of the driver), not a lost connection.
        conn.execute(text("DROP TABLE audit_records"))
    response = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers=bearer(token),
        data={"file": (io.BytesIO(sample("caf_letter.pdf")), "caf.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 503, response.get_data()
    assert response.get_json()["error"] == "audit_unavailable"
    assert list(found.store.list_keys()) == []
    with found.session_factory() as session:
        assert session.scalars(select(Document)).all() == []
