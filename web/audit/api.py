"""The audit log's JSON and text API: checkpoints, proofs, access logs, the auditor's export.

Checkpoint, public key and consistency proofs hold no record content and are public, so
any outside verifier can follow the log; everything that shows records needs a token.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify, stream_with_context

from locker.access_log import EXPORT_COLUMNS, LogEntry
from locker.proofs import consistency_proof
from sharing import audit_log
from web.audit.schemas import (
    AccessLogQuery,
    Consistency,
    ConsistencyQuery,
    Entries,
    ExportQuery,
    Inclusion,
    InclusionQuery,
    Page,
)
from web.audit.signing import current_checkpoint, service_verifier_key
from web.context import db, request_context
from web.openapi import NOT_A_PROFESSIONAL, NOT_FOUND, Answers, Error, operation

api = Blueprint("audit_api", __name__, url_prefix="/api/v1")

TEXT_PLAIN = "text/plain; charset=utf-8"
BAD_NUMBER = (Error, "A parameter is missing or not a whole number")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def entry_json(entry: LogEntry, *, names: bool) -> dict[str, Any]:
    """The public shape of one access-log entry (names only on the person's own log)."""
    actor: dict[str, Any] = {"kind": entry.actor_kind}
    if names:
        actor.update(name=entry.actor_name, organization=entry.actor_organization)
    else:
        actor["id"] = entry.actor_id
    shaped: dict[str, Any] = {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "action": entry.action,
        "actor": actor,
        "on_behalf_of": entry.on_behalf_of_name if names else entry.on_behalf_of,
        "document_id": entry.document_id,
        "outcome": entry.outcome,
    }
    if not names:
        shaped["person_id"] = entry.person_id
    return shaped


@operation(
    api.get,
    "/audit/checkpoint",
    token=False,
    resp=Answers(HTTP_200=(None, "text/plain: origin, tree size, base64 root, blank, signature")),
)
def checkpoint() -> Response:
    """The latest signed checkpoint (C2SP tlog-checkpoint signed note)"""
    return Response(current_checkpoint().note, content_type=TEXT_PLAIN)


@operation(
    api.get,
    "/audit/public-key",
    token=False,
    resp=Answers(HTTP_200=(None, "text/plain: the verifier key")),
)
def public_key() -> Response:
    """The C2SP verifier key: <name>+<hex key hash>+<base64(0x01 ‖ key)>"""
    return Response(service_verifier_key(), content_type=TEXT_PLAIN)


@operation(
    api.get,
    "/audit/proofs/inclusion",
    resp=Answers(
        HTTP_200=(Inclusion, "The record's canonical bytes, leaf hash and inclusion path"),
        HTTP_400=BAD_NUMBER,
        HTTP_404=NOT_FOUND,
    ),
)
def inclusion(query: InclusionQuery) -> Any:
    """RFC 9162 inclusion proof of one record (auditor or its person)"""
    proof = audit_log.prove_inclusion_for(
        request_context(), index=query.index, tree_size=query.tree_size
    )
    return Inclusion(
        leaf=_b64(proof.leaf),
        leaf_hash=_b64(proof.leaf_hash),
        hashes=[_b64(h) for h in proof.hashes],
    )


@operation(
    api.get,
    "/audit/proofs/consistency",
    token=False,
    resp=Answers(
        HTTP_200=(Consistency, "The consistency proof"),
        HTTP_400=BAD_NUMBER,
        HTTP_404=(Error, "A size is beyond the tree"),
    ),
)
def consistency(query: ConsistencyQuery) -> Any:
    """RFC 9162 consistency proof between two tree sizes"""
    hashes = consistency_proof(db(), query.first, query.second)
    return Consistency(hashes=[_b64(h) for h in hashes])


@operation(
    api.get,
    "/persons/<person_id>/access-log",
    resp=Answers(HTTP_200=(Entries, "Entries, newest first")),
)
def access_log(person_id: str, query: AccessLogQuery) -> Any:
    """Who did what to the person's papers, newest first (the person only)"""
    log = audit_log.read_access_log_for(
        request_context(),
        person_id=person_id,
        document_id=query.document_id or None,
        before=query.before,
        limit=query.limit or 100,
    )
    return jsonify([entry_json(e, names=True) for e in log.entries])


@operation(
    api.get,
    "/audit/my-actions",
    resp=Answers(HTTP_200=(Entries, "Entries, newest first"), HTTP_403=NOT_A_PROFESSIONAL),
)
def my_actions(query: Page) -> Any:
    """A professional's own recorded actions, newest first (ids only)"""
    entries = audit_log.list_own_actions(
        request_context(), before=query.before, limit=query.limit or 100
    )
    return jsonify([entry_json(e, names=False) for e in entries])


def _export_value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _csv_lines(rows: Iterator[Any]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([_export_value(v) for v in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_lines(rows: Iterator[Any]) -> Iterator[str]:
    yield "["
    separator = "\n"
    for row in rows:
        record = {name: _export_value(v) for name, v in zip(EXPORT_COLUMNS, row, strict=True)}
        yield separator + json.dumps(record, ensure_ascii=True)
        separator = ",\n"
    yield "\n]\n"


@operation(
    api.get,
    "/audit/export",
    resp=Answers(
        HTTP_200=(None, "Records in leaf order, as application/json or text/csv"),
        HTTP_403=(Error, "Not an auditor"),
    ),
)
def export(query: ExportQuery) -> Any:
    """The whole log for an auditor, as JSON or CSV (ids only, no content)"""
    rows = audit_log.export_log_by(request_context(), start=query.start, end=query.end)
    if query.format == "csv":
        body, mimetype, name = _csv_lines(rows), "text/csv", "audit-log.csv"
    else:
        body, mimetype, name = _json_lines(rows), "application/json", "audit-log.json"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
