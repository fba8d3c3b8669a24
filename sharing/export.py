"""A person takes everything (RGPD art. 15 and 20; CPCE art. L103): one ZIP, streamed as it
is made (zipstream-ng), holding every paper as stored (sanitised; the trash in its own
folder), their list with who can see each (JSON and CSV), the person's access log (JSON
and CSV), what verifies that log (signed checkpoint, public key, inclusion proofs of the
person's records) and a note to read first, in the person's language.

One audit record per export, committed before the first byte (the door in
locker/documents.py); the papers are opened one at a time as the archive reaches them.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from zipstream import ZipStream  # type: ignore[import-untyped]

from locker import documents as core
from locker.access_log import LogEntry, person_access_log
from locker.context import RequestContext
from locker.errors import DocumentDamaged
from locker.models import AuditRecord, Person
from locker.proofs import inclusion_proof
from sharing.decisions import Action
from sharing.guard import require_person
from sharing.members import member_views
from sharing.policy import acting_as
from sharing.rights import readers_by_document

EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@dataclass(frozen=True)
class ExportWords:
    """What the archive says in the person's language (the web layer translates)."""

    readme: str
    papers: str  # folder of the papers
    trash: str  # folder of the papers in the trash
    unreadable: str  # left in place of a paper that failed authentication


@dataclass(frozen=True)
class Verification:
    """The signed checkpoint made after the export's own record, and the key that checks it."""

    checkpoint: str
    public_key: str
    tree_size: int


def export_locker(
    ctx: RequestContext,
    *,
    person_id: str,
    words: ExportWords,
    checkpoint: Callable[[], Verification],
) -> Iterator[bytes]:
    """The person's whole locker as ZIP bytes, for the person or a helper whose live mandate
    has the scope "export" (404 for anyone else).

    `checkpoint()` signs the log's head once the export is recorded. Everything but the
    papers' bytes is read now; the papers when the returned iterator reaches them.
    """
    person, decision = require_person(ctx, Action.PERSON_EXPORT, person_id)
    # Under a mandate, the record names the helper and the person they act for.
    actor = acting_as(decision, ctx.actor, person.id)
    papers = core.export_documents(
        ctx, person=person, decision=decision, action=Action.PERSON_EXPORT, actor=actor
    )
    verified = checkpoint()
    log = list(_whole_log(ctx, person))
    proofs = _proofs(ctx, person, verified.tree_size)
    readers = _readers(ctx, person, papers)

    rows = [_row(number, paper.view, words, readers) for number, paper in enumerate(papers, 1)]
    entries = [_log_row(entry) for entry in log]

    def stream() -> Iterator[bytes]:
        archive = ZipStream(compress_type=zipfile.ZIP_DEFLATED)
        archive.add(words.readme, "LISEZMOI.txt")
        for paper, row in zip(papers, rows, strict=True):
            # Opened (fetched and authenticated whole) only when the archive reaches it.
            try:
                chunks = paper.chunks()
            except DocumentDamaged:
                row["unreadable"] = True
                row["file"] = row["file"].rsplit(".", 1)[0] + ".txt"
                archive.add(words.unreadable, row["file"])
            else:
                # Already compressed (JPEG, PDF): stored as is, not deflated again.
                archive.add(_hashed(chunks, row), row["file"], compress_type=zipfile.ZIP_STORED)
            yield from archive.all_files()
        # The lists last: each paper's hash is known once it has gone by.
        archive.add(_json(rows), "papers.json")
        archive.add(_csv(rows), "papers.csv")
        archive.add(_json(entries), "access-log.json")
        archive.add(_csv(entries), "access-log.csv")
        archive.add(verified.checkpoint, "verification/checkpoint.txt")
        archive.add(verified.public_key, "verification/public-key.txt")
        archive.add(_json(proofs), "verification/proofs.json")
        yield from archive.finalize()

    return stream()


def _row(
    number: int, view: core.DocumentView, words: ExportWords, readers: dict[str, list[str]]
) -> dict[str, Any]:
    """A paper's line in papers.json and papers.csv, and its name in the archive."""
    folder = words.trash if view.deleted_at else words.papers
    extension = EXTENSIONS.get(view.content_type, "bin")
    return {
        "file": f"{folder}/{number:03d} {_safe(view.title)}.{extension}",
        "id": view.id,
        "title": view.title,
        "category": view.category,
        "original_filename": view.filename,
        "content_type": view.content_type,
        "size": view.size,
        "pages": view.page_count,
        "added_at": view.created_at,
        "valid_until": view.valid_until,
        "trashed": view.deleted_at is not None,
        "trashed_at": view.deleted_at,
        # The trash hides a paper from everyone but the person (sharing/policy.py).
        "who_can_see": [] if view.deleted_at else readers.get(view.id, []),
    }


def _hashed(chunks: Iterator[bytes], row: dict[str, Any]) -> Iterator[bytes]:
    """The paper's plaintext as it goes by, its SHA-256 noted in its row."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
    row["sha256"] = digest.hexdigest()


def _safe(title: str) -> str:
    """A title as a file name on any system: no separators, controls or reserved marks."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]', "_", title).strip(" .")
    return cleaned[:80] or "document"


def _readers(
    ctx: RequestContext, person: Person, papers: list[core.ExportedDocument]
) -> dict[str, list[str]]:
    """Who may open each paper now: "name (structure)" of each professional."""
    names = {
        m.id: f"{m.display_name} ({m.organization})" for m in member_views(ctx.session, person.id)
    }
    found = readers_by_document(
        ctx.session, person.id, [(p.view.id, p.view.category) for p in papers], ctx.clock()
    )
    return {doc: sorted(names[m] for m in ids if m in names) for doc, ids in found.items()}


def _whole_log(ctx: RequestContext, person: Person) -> Iterable[LogEntry]:
    """Every record about the person, newest first, a page at a time."""
    before = None
    while page := person_access_log(ctx.session, person, before=before, limit=500):
        yield from page
        before = page[-1].seq


def _log_row(entry: LogEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at,
        "action": entry.action,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "who": entry.actor_name or entry.actor_kind,
        "organization": entry.actor_organization,
        "on_behalf_of": entry.on_behalf_of_name,
        "document_id": entry.document_id,
    }


def _proofs(ctx: RequestContext, person: Person, tree_size: int) -> dict[str, Any]:
    """Each of the person's records within the checkpoint: its exact leaf bytes and its
    RFC 9162 inclusion path, so the log can be checked without asking the service."""
    seqs = ctx.session.scalars(
        select(AuditRecord.seq)
        .where(AuditRecord.person_id == person.id, AuditRecord.seq < tree_size)
        .order_by(AuditRecord.seq)
    )
    records = []
    for seq in seqs:
        proof = inclusion_proof(ctx.session, seq, tree_size)
        records.append(
            {
                "index": seq,
                "leaf": _b64(proof.leaf),
                "leaf_hash": _b64(proof.leaf_hash),
                "hashes": [_b64(h) for h in proof.hashes],
            }
        )
    return {"tree_size": tree_size, "hash": "sha256 (RFC 9162)", "records": records}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return " ; ".join(str(v) for v in value)
    return value


def _json(rows: object) -> bytes:
    return json.dumps(rows, ensure_ascii=False, indent=2, default=_plain).encode()


def _csv(rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that a spreadsheet opens the accents right."""
    if not rows:
        return "\ufeff".encode()
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
    writer.writeheader()
    writer.writerows({k: _plain(v) for k, v in row.items()} for row in rows)
    return ("\ufeff" + text.getvalue()).encode()
