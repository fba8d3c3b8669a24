"""Every field of every JSON route, given each hostile value in turn: never a 500.

A sweep, where tests/web/test_fuzz_json.py samples: the routes come from the app's own
route map and the fields from the OpenAPI document, so a new route or field is covered
without anyone remembering to add it.
"""

from __future__ import annotations

import io
import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Actors, bearer, sample, token_for

JSON_METHODS = ("POST", "PUT", "PATCH")


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
            named = document["components"]["schemas"].get(schema.get("$ref", "").split("/")[-1])
            fields[(method.upper(), rule)] = sorted((named or schema).get("properties", {}))
    return fields


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
