"""The API's OpenAPI 3.1 document, made from the typed schemas its routes validate.

spectree with pydantic v2, over flask-openapi3 and flask-smorest: it decorates our own Flask
views and blueprints (the others replace the app or the blueprint class), and the same
pydantic models validate each request, shape each answer and write the document. The
committed web/openapi.json is this document: a test keeps them equal, so a change to the
contract shows in review.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, TypeVar, cast

import spectree
from flask import Blueprint, Flask, Response, abort, jsonify
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationError, WithJsonSchema
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType
from spectree.plugins.flask_plugin import FlaskPlugin

from web.auth import api_auth
from web.context import db
from web.errors import error_response
from web.fresh_factor import HEADER, api_fresh_factor

F = TypeVar("F", bound=Callable[..., Any])

PREFIX = "/api/v1"
Answers = spectree.Response  # a route's answers, by status: (schema or None, description)

# Dates as Python writes them (`isoformat`): the shape integrations have always read.
Timestamp = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Day = Annotated[
    date,
    PlainSerializer(date.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date"}),
]


class Shape(BaseModel):
    """An answer's schema, read from the services' views (dataclasses) by attribute:
    only the fields named here ever reach the client."""

    model_config = ConfigDict(from_attributes=True)


class Error(BaseModel):
    """Every refusal: a stable code and a message in the caller's language."""

    error: str = Field(description="stable code")
    message: str = Field(description="in the caller's language")
    field: str | None = Field(
        default=None, description="the field at fault, by its name in the request, when one is"
    )


NOT_FOUND = (Error, "No such resource, or not yours: the same answer for both")
INVALID = (Error, "A field is not valid")
UNAUTHORIZED = (Error, "Missing, expired or revoked token")
BAD_REQUEST = (Error, "A body or query the route cannot read, or text with a NUL byte")
MALFORMED = (Error, "Malformed body")
NOT_A_PROFESSIONAL = (Error, "Not a professional")


def _refuse(_req: Any, _resp: Any, error: Exception | None, _view: Any, _adapter: Any) -> None:
    # A body or query that does not fit its schema gets our error shape, in the caller's
    # language, naming the first field at fault (pydantic's own list would be English).
    if isinstance(error, ValidationError):
        names = [part for part in error.errors()[0]["loc"] if isinstance(part, str)]
        if names:
            abort(error_response("invalid_input", 400, field=names[0]))
    if error is not None:
        abort(400)


class _Plugin(FlaskPlugin):
    def request_validation(self, request: Any, query: Any, json: Any, *models: Any) -> None:
        # A route with a JSON schema gets a JSON object or refuses with 400: no other
        # content type, no "null" read as an empty body, no view called without its body.
        if json is not None and not isinstance(request.get_json(silent=True), dict):
            abort(400)
        super().request_validation(request, query, json, *models)  # type: ignore[no-untyped-call]

    def validate_response(
        self, resp: Any, resp_model: Any, skip_validation: bool, force_resp_serialize: bool
    ) -> Any:
        # A document's bytes and the log export stream to the client: never read them here.
        if isinstance(resp, Response) and resp.is_streamed:
            return resp, None
        return super().validate_response(resp, resp_model, skip_validation, force_resp_serialize)


BEARER = SecuritySchemeData(type=SecureType.HTTP, scheme="bearer")
spec = SpecTree(
    backend=_Plugin,
    mode="strict",
    title="Digital locker API",
    version="1",
    description="Encrypted papers of people without a home, shared on their terms.",
    validation_error_status=400,
    validation_error_model=Error,
    before=_refuse,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    security_schemes=[SecurityScheme(name="bearer", data=BEARER)],
    security={"bearer": []},
)
PUBLIC: dict[str, list[str]] = {}  # a route anyone may call, without a token
# Operations (by id) that take a fresh second factor's code in a header.
FRESH_FACTOR_OPERATIONS: set[str] = set()
FRESH_FACTOR_REFUSAL = (
    "For a professional: fresh_second_factor_required when their second factor passed more "
    f"than LOCKER_FRESH_FACTOR_MINUTES ago (send a current code in {HEADER}), or "
    "bad_second_factor_code when that code is wrong or of a step already used"
)


def operation(
    route: Callable[[str], Callable[[F], F]],
    rule: str,
    *,
    resp: Answers,
    token: bool = True,
    fresh_factor: bool = False,
    **declared: Any,
) -> Callable[[F], F]:
    """One API route: its rule, its schemas and answers (spectree's `validate`), and unless
    `token=False` the bearer token it needs: the document's `security`, its 401 answer and
    the check that enforces them come from the same flag, so they cannot disagree.

    A route with an id in its path may answer 404. A write route (any method but GET) owns
    its transaction: committed once its answer is not an error. With `fresh_factor`, a
    professional's sensitive act (web/fresh_factor.py): its 403 and 429 answers, and the
    code's header, are declared with the check that reads it."""
    # Every route refuses a body or query it cannot read with 400 (unless it says more).
    resp.add_model(400, Error, replace=False, description=BAD_REQUEST[1])
    if token:
        resp.add_model(401, Error, replace=False, description=UNAUTHORIZED[1])
    if "<" in rule:
        resp.add_model(404, Error, replace=False, description=NOT_FOUND[1])
    if fresh_factor:
        for code, said in ((403, FRESH_FACTOR_REFUSAL), (429, "Too many wrong codes lately")):
            earlier = resp.code_descriptions.get(f"HTTP_{code}")
            resp.add_model(code, Error, description=f"{earlier}; or: {said}" if earlier else said)
    writes = route.__name__ != "get"

    def decorate(view: F) -> F:
        checked = spec.validate(
            security=None if token else PUBLIC, operation_id=view.__name__, resp=resp, **declared
        )(view)
        if writes:
            checked = _committed(checked)
        if fresh_factor:
            assert token, "a fresh second factor is a signed-in professional's"
            FRESH_FACTOR_OPERATIONS.add(view.__name__)
            checked = api_fresh_factor(checked)
        return route(rule)(api_auth(checked) if token else checked)

    return decorate


def _committed(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        answer: Response = view(*args, **kwargs)  # spectree made it a Response
        if answer.status_code < 400:
            db().commit()
        return answer

    return cast(F, wrapper)


# (spectree leaves out endpoints named "openapi...": its own)
api = Blueprint("api_document", __name__, url_prefix=PREFIX)


@operation(api.get, "/openapi.json", token=False, resp=Answers(HTTP_200=(None, "OpenAPI document")))
def api_document() -> Any:
    """This document"""
    return jsonify(openapi_document())


_FRESH_FACTOR_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": (
        "A professional's current code of their authenticator app (or a backup code), when "
        "their second factor passed more than LOCKER_FRESH_FACTOR_MINUTES ago; used once"
    ),
}


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The whole description, as a JSON-ready dict, with paths relative to /api/v1."""
    from web.domains import DOMAINS

    # Only the routes matter: a bare app with the API's blueprints, no database behind it.
    app = Flask(__name__)
    app.register_blueprint(api)
    for domain in DOMAINS:
        app.register_blueprint(domain.api)
    with app.app_context():
        made: dict[str, Any] = copy.deepcopy(spec.spec)
    made["servers"] = [{"url": PREFIX}]
    made["paths"] = {path.removeprefix(PREFIX): item for path, item in made["paths"].items()}
    for item in made["paths"].values():
        for op in item.values():
            if op["operationId"] in FRESH_FACTOR_OPERATIONS:
                op.setdefault("parameters", []).append(_FRESH_FACTOR_PARAMETER)
    names = [op["operationId"] for item in made["paths"].values() for op in item.values()]
    assert len(names) == len(set(names)), "two API views share a name (the operationId)"
    return made


if __name__ == "__main__":
    # The committed copy (web/openapi.json), which a test keeps equal to this.
    # (through the imported module: its `spec` is the one the routes are declared with)
    import json

    from web import openapi

    print(json.dumps(openapi.openapi_document(), indent=2, ensure_ascii=False, sort_keys=True))
