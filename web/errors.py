"""One table from error to HTTP status, and the handlers that answer in the right shape."""

from __future__ import annotations

import logging
import traceback

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import ClientDisconnected, HTTPException

from crypto.errors import CryptoError, KeyProviderUnavailable
from locker.documents import UnsupportedType
from locker.errors import (
    AlreadyExists,
    AuditUnavailable,
    DocumentDamaged,
    EmptyFile,
    ForkDetected,
    InvalidInput,
    LockerError,
    NotFound,
    ObjectNotFound,
    ProofUnavailable,
    QuotaExceeded,
    ServiceEnded,
    StorageError,
    StorageUnavailable,
    TooLarge,
    WrongCurrentPassword,
)
from locker.sanitize.errors import (
    DamagedFile,
    EncryptedPdf,
    PhotosOnly,
    TooComplex,
    TooManyFiles,
    TooManyPixels,
    TypeMismatch,
)
from sharing.errors import (
    AccessDenied,
    AlreadyMember,
    BadInvitation,
    BadRecoveryCode,
    BadSecondFactorCode,
    CardLocked,
    CounterLinkEnded,
    CounterLinkUsed,
    FreshFactorRequired,
    LastOrgAdmin,
    NoEnrolment,
    NoReferent,
    NoSuccessor,
    NotAHelper,
    NotAnAuditBody,
    PasswordNotConfirmed,
    SecondFactorEnrolled,
    ServiceClosed,
    TooManyAttempts,
    UnknownShareCode,
)
from web.i18n import message
from web.json_body import InvalidText

log = logging.getLogger(__name__)

# Most specific first: the first matching class decides the status.
STATUS: list[tuple[type[Exception], int]] = [
    (NotFound, 404),
    (AccessDenied, 403),
    (ServiceClosed, 403),
    (FreshFactorRequired, 403),
    (ServiceEnded, 403),
    (UnsupportedType, 415),
    (TypeMismatch, 415),
    (PhotosOnly, 415),
    (TooLarge, 413),
    (QuotaExceeded, 413),
    (TooManyFiles, 413),
    (DamagedFile, 422),
    (EncryptedPdf, 422),
    (TooManyPixels, 422),
    (TooComplex, 422),
    (EmptyFile, 422),
    (InvalidInput, 422),
    (AlreadyExists, 409),
    (UnknownShareCode, 422),
    (NoReferent, 422),
    (AlreadyMember, 409),
    (LastOrgAdmin, 409),
    (BadInvitation, 422),
    (NoSuccessor, 422),
    (PasswordNotConfirmed, 403),
    (BadSecondFactorCode, 403),
    (SecondFactorEnrolled, 409),
    (NoEnrolment, 409),
    (WrongCurrentPassword, 403),
    (CardLocked, 403),
    (NotAHelper, 422),
    (NotAnAuditBody, 422),
    (BadRecoveryCode, 422),
    (TooManyAttempts, 429),
    (CounterLinkEnded, 410),
    (CounterLinkUsed, 410),
    (ProofUnavailable, 404),
    (ForkDetected, 503),
    (AuditUnavailable, 503),
    (StorageUnavailable, 503),
    (ObjectNotFound, 502),
    (DocumentDamaged, 502),
    (StorageError, 502),
]

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


def status_for(error: Exception) -> int:
    """The HTTP status of a typed error (500 only for an error we did not foresee)."""
    for cls, status in STATUS:
        if isinstance(error, cls):
            return status
    return 500


def wants_json() -> bool:
    """API routes answer JSON; pages answer HTML."""
    return request.path.startswith("/api/")


def error_response(code: str, status: int, **params: object) -> Response:
    """An error in the caller's language, as JSON for the API and a page otherwise."""
    text = message(code, **params)
    if wants_json():
        body = {"error": code, "message": text}
        field = params.get("field")
        if isinstance(field, str):
            body["field"] = field
        response = jsonify(body)
    else:
        response = Response(
            render_template("error.html", message=text, problems=[text]), mimetype="text/html"
        )
    response.status_code = status
    return response


def _locker_error(error: LockerError) -> Response:
    return error_response(error.code, status_for(error), **error.params)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    # A route that does not exist is a mistyped address, not someone else's paper.
    code = (
        "page_not_found"
        if status == 404
        else HTTP_CODES.get(status, "bad_request" if status < 500 else "server_error")
    )
    params: dict[str, object] = {}
    if status == 413:
        from web.context import services

        params["limit"] = services().settings.max_upload_bytes
    return error_response(code, status, **params)


def _cut_short(_error: ClientDisconnected) -> Response:
    # The body stopped before its announced length: a phone that lost its connection
    # mid-upload. Nothing was stored; if the client still listens, it reads why.
    return error_response("upload_cut", 400)


def _csrf_error(_error: CSRFError) -> Response:
    return error_response("csrf", 400)


def _invalid_text(_error: InvalidText) -> Response:
    return error_response("invalid_text", 400)


def _database_down(_error: OperationalError) -> Response:
    log.error("database unavailable")
    return error_response("database_unavailable", 503)


def _key_provider_down(_error: KeyProviderUnavailable) -> Response:
    # The token does not answer: nothing is damaged, the service is (briefly) unavailable.
    log.error("key provider unavailable")
    return error_response("key_provider_unavailable", 503)


def _crypto_error(_error: CryptoError) -> Response:
    log.error("cryptographic check failed")
    return error_response("document_damaged", 502)


def handle_unexpected(error: Exception) -> Response:
    """A 500 for an error we did not foresee; the trace goes to our log, never to the client."""
    if isinstance(error, SQLAlchemyError):
        # A driver's message may quote a row's values (PostgreSQL: "Key (username)=(...)"):
        # the log gets the error's class and where it happened, no message.
        cause = error.orig if isinstance(error, DBAPIError) else error
        log.error(
            "unexpected database error %s at\n%s",
            type(cause).__name__,
            "".join(traceback.format_tb(error.__traceback__)),
        )
    else:
        log.exception("unexpected error", exc_info=error)
    return error_response("server_error", 500)


def init_app(app: Flask) -> None:
    """Register the handlers; no stack trace ever reaches a client."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(LockerError, _locker_error)
    app.register_error_handler(InvalidText, _invalid_text)
    app.register_error_handler(ClientDisconnected, _cut_short)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(KeyProviderUnavailable, _key_provider_down)
    app.register_error_handler(CryptoError, _crypto_error)
    app.register_error_handler(Exception, handle_unexpected)
