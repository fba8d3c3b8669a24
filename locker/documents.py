"""Documents: the upload pipeline and the one door through which plaintext leaves.

`open_document` (one paper) and `export_documents` (all of a person's, for their export)
are the only functions that turn stored objects into plaintext for someone. Each takes
the access policy's answer (from `sharing/`, which sits above this package), commits the
audit record, and only then fetches, authenticates and decrypts, through `_opened_file`.

Each document is stored as three objects under its one data key, each with its own
associated data: the clean file, its thumbnail (the list) and its preview (its page).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial, wraps
from pathlib import Path
from typing import IO, ParamSpec, Protocol

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from crypto.errors import CryptoError, KeyProviderUnavailable
from crypto.keyring import Keyring
from crypto.keys import decrypt_field, encrypt_field, generate_key, unwrap_key, wrap_key
from crypto.streaming import EncryptedObject, decrypt_object, verify_object
from locker.accounts import person_key
from locker.actors import Actor, Clock
from locker.audit import AuditEvent, append_allowed, record_event
from locker.context import RequestContext
from locker.errors import (
    DocumentDamaged,
    EmptyFile,
    InvalidInput,
    LockerError,
    NotFound,
    QuotaExceeded,
    StorageError,
    TooLarge,
)
from locker.metrics import (
    ALLOWED,
    DENIED,
    FAILED,
    REPLAYED,
    STORED,
    count_opening,
    count_upload,
)
from locker.models import Document, Person, new_id
from locker.sanitize import SanitizedFile, SanitizeLimits, Sanitizing, draw_preview
from locker.sanitize.errors import DamagedFile, RefusedFile, TooComplex
from locker.sanitize.errors import UnsupportedType as UnsupportedType  # web/ maps it
from locker.scratch import scratch_dir
from locker.storage import ObjectStore
from locker.views import view_of

log = logging.getLogger(__name__)
P = ParamSpec("P")

CATEGORIES = (
    "identity",
    "residence_permit",
    "income_benefits",
    "health",
    "housing",
    "work",
    "family",
    "taxes",
    "other",
)
# Sniffed from the bytes (in the sanitiser's worker); extension and browser Content-Type
# are never consulted. Stored documents are PDF, JPEG or PNG after sanitising.
ALLOWED_TYPES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heif",
}
CHUNK = 1024 * 1024
MAX_TITLE = 200
MAX_FILENAME = 255
# An upload key: a UUID, or any client's random name of the same kind.
UPLOAD_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


class Verdict(Protocol):
    """The access policy's answer (sharing's Decision), recorded in the audit log."""

    @property
    def allowed(self) -> bool: ...

    @property
    def reason(self) -> str: ...


@dataclass(frozen=True)
class _Refusal:
    allowed: bool
    reason: str


@dataclass(frozen=True)
class UploadRequest:
    """One upload as it arrives: its files, what was typed about it, and the limits it is
    held to (the service's settings)."""

    source: IO[bytes]
    filename: str
    title: str
    category: str
    max_bytes: int
    more_sources: Sequence[IO[bytes]] = ()
    valid_until: date | None = None
    limits: SanitizeLimits | None = None
    quota_bytes: int | None = None
    # The client's own name for this upload: sent again (a retry after an answer lost on
    # a bad connection), it answers the paper already stored instead of a second copy.
    upload_key: str | None = None


@dataclass(frozen=True)
class DocumentView:
    """What a permitted viewer may know about a document (title and name decrypted)."""

    id: str
    person_id: str
    title: str
    filename: str
    category: str
    content_type: str
    size: int
    created_at: datetime
    page_count: int = 1
    valid_until: date | None = None
    has_thumbnail: bool = False
    deleted_at: datetime | None = None


@dataclass
class OpenedDocument:
    """Authenticated plaintext, ready to stream; `chunks` closes the spool when exhausted."""

    view: DocumentView
    chunks: Iterator[bytes]


def _aad(kind: str, document_id: str, version: int) -> bytes:
    """What binds a `kind` ("data-key", "object", "thumbnail", "preview") to its document."""
    return f"locker/{kind}/v1:{document_id}:{version}".encode()


def _field_aad(field: str, document_id: str) -> bytes:
    return f"locker/{field}/v1:{document_id}".encode()


def _data_key(keyring: Keyring, person: Person, document: Document) -> bytes:
    return _unwrap_data_key(person_key(keyring, person), document)


def _unwrap_data_key(key_of_person: bytes, document: Document) -> bytes:
    return unwrap_key(
        key_of_person, document.wrapped_data_key, _aad("data-key", document.id, document.version)
    )


def _views(keyring: Keyring, person: Person, rows: Iterable[Document]) -> list[DocumentView]:
    """The rows described, the person's key unwrapped once for all of them."""
    rows = list(rows)
    if not rows:
        return []
    key_of_person = person_key(keyring, person)
    return [_view(row, person, _unwrap_data_key(key_of_person, row)) for row in rows]


def _clean_text(value: str, limit: int, field: str) -> str:
    # Control characters (CR/LF, RTL override...) have no place in a title or file name.
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > limit:
        raise InvalidInput(f"{field} too long", field=field, maximum=limit)
    return cleaned


def _clean_filename(value: str) -> str:
    # A phone's file name is not the person's choice: shorten it rather than refuse it.
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    cleaned = " ".join(cleaned.replace("/", "_").replace("\\", "_").split()) or "document"
    if len(cleaned) <= MAX_FILENAME:
        return cleaned
    stem, dot, extension = cleaned.rpartition(".")
    if dot and 0 < len(extension) <= 10:
        return f"{stem[: MAX_FILENAME - len(extension) - 1]}.{extension}"
    return cleaned[:MAX_FILENAME]


class ReceivedFile(io.FileIO):
    """A private file (mode 0600) an uploaded file is received into; removed when closed.

    `upload_document` takes it over with a hard link instead of copying it, so an upload
    is written to disk once, not twice (web/app.py has the request parser use it), and
    empties it once the sanitiser has read it.
    """

    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(prefix="locker-received-", dir=scratch_dir())
        super().__init__(fd, "r+b")

    def close(self) -> None:
        try:
            super().close()
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


def _spool(source: IO[bytes], path: Path, max_bytes: int) -> None:
    """Copy an upload to a private temporary file, refusing it past `max_bytes`; a
    ReceivedFile is linked there instead, whole, when both are on one file system."""
    if isinstance(source, ReceivedFile):
        size = os.fstat(source.fileno()).st_size
        if size > max_bytes:
            raise TooLarge("over the limit", limit=max_bytes)
        if size == 0:
            raise EmptyFile("no bytes")
        try:
            os.link(source.path, path)
            return
        except OSError:  # another file system: copy it below
            source.seek(0)
    total = 0
    with path.open("wb") as spool:
        while chunk := source.read(CHUNK):
            total += len(chunk)
            if total > max_bytes:
                raise TooLarge("over the limit", limit=max_bytes)
            spool.write(chunk)
    if total == 0:
        raise EmptyFile("no bytes")


class _Release:
    """Frees the memory of scratch files that are no longer read, on the other core while
    the upload goes on (use as a context manager: leaving it waits until all are freed).

    Freeing a large file's pages would otherwise happen on the request's path, when its
    directory is removed: here they are freed while the object is sent or the row
    committed. The files are emptied, not removed, so the upload's directory still holds
    what it named; it is removed as before, when the upload ends.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="scratch-release")

    def __enter__(self) -> _Release:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True)

    def later(self, paths: Sequence[Path]) -> None:
        self._pool.submit(self._empty, tuple(paths))

    @staticmethod
    def _empty(paths: tuple[Path, ...]) -> None:
        for path in paths:
            with contextlib.suppress(OSError):  # removed with the directory in any case
                os.truncate(path, 0)


def _put_file(
    store: ObjectStore, key: str, path: Path, data_key: bytes, aad: bytes, size: int | None = None
) -> None:
    """Encrypt and store a file of ours of a known `size` (by default, its size now): the
    store may read it twice; a file of another size is refused before anything is kept."""
    with path.open("rb") as handle:
        fd = handle.fileno()

        def one_pass() -> Iterator[bytes]:
            # pread: every pass reads from the start, whatever an earlier pass left behind.
            offset = 0
            while chunk := os.pread(fd, CHUNK, offset):
                offset += len(chunk)
                yield chunk

        expected = os.fstat(fd).st_size if size is None else size
        store.put(key, EncryptedObject(data_key, one_pass, expected, aad))


def check_valid_until(value: date | None) -> date | None:
    """A plausible validity date (papers are not valid before 1900 or after 2200)."""
    if value is not None and not date(1900, 1, 1) <= value <= date(2200, 12, 31):
        raise InvalidInput("valid_until", field="valid_until")
    return value


def stored_bytes(session: Session, person_id: str) -> int:
    """What the person's documents weigh, trash included (it is purged, not free)."""
    total = session.scalar(
        select(func.coalesce(func.sum(Document.size), 0)).where(Document.person_id == person_id)
    )
    return int(total or 0)


def _counted(
    upload: Callable[P, tuple[DocumentView, bool]],
) -> Callable[P, DocumentView]:
    """Count every upload by outcome (metrics): stored, replayed, or the refusal's code."""

    @wraps(upload)
    def counting(*args: P.args, **kwargs: P.kwargs) -> DocumentView:
        try:
            view, replayed = upload(*args, **kwargs)
        except LockerError as refusal:
            count_upload(refusal.code)
            raise
        except BaseException:
            count_upload(FAILED)
            raise
        count_upload(REPLAYED if replayed else STORED)
        return view

    return counting


@_counted
def upload_document(
    session: Session,
    store: ObjectStore,
    keyring: Keyring,
    clock: Clock,
    *,
    actor: Actor,
    person: Person,
    upload: UploadRequest,
    before_commit: Callable[[Session, str], None] | None = None,
) -> tuple[DocumentView, bool]:
    """Sanitise, encrypt and store one document all-or-nothing, and commit it with its audit.

    `before_commit(session, document_id)` adds the caller's rows (a deposit's grant and
    notice) to the same transaction: if it fails, nothing is kept, objects included.

    Several sources (photos) become one PDF. The object, its thumbnail and its preview are
    stored, then the row and audit record are committed; on any failure, whatever was
    stored is deleted, so there is never a row without its objects nor an object without
    a row. Sent again with its upload key, it answers the paper already stored.
    (`_counted` counts the outcome and hands back the view alone.)
    """
    if upload.category not in CATEGORIES:
        raise InvalidInput("category", field="category")
    if upload.upload_key is not None:
        if not UPLOAD_KEY.fullmatch(upload.upload_key):
            raise InvalidInput("upload_key", field="upload_key")
        earlier = _uploaded_before(session, keyring, actor, person, upload.upload_key)
        if earlier is not None:
            return earlier, True
    try:
        category, quota_bytes = upload.category, upload.quota_bytes
        filename = _clean_filename(upload.filename)
        title = _clean_text(upload.title, MAX_TITLE, "title") or filename[:MAX_TITLE]
        valid_until = check_valid_until(upload.valid_until)
        scratch = tempfile.TemporaryDirectory(prefix="locker-upload-", dir=scratch_dir())
        with scratch as workdir, _Release() as release:
            inputs = []
            for index, each in enumerate((upload.source, *upload.more_sources)):
                path = Path(workdir) / f"input-{index}"
                _spool(each, path, upload.max_bytes)
                inputs.append(path)
            # A person already at their quota is refused before any work is done.
            if quota_bytes is not None and stored_bytes(session, person.id) >= quota_bytes:
                raise QuotaExceeded("quota", limit=quota_bytes)
            if len(inputs) > 1 and not filename.lower().endswith(".pdf"):
                filename = f"{filename.rsplit('.', 1)[0]}.pdf"
            with Sanitizing(inputs, Path(workdir), upload.limits or SanitizeLimits()) as sanitizing:
                clean = sanitizing.finish()
                # The child has read the inputs whole (a received file, taken over, with them).
                release.later(inputs)
                # Now that the clean size is known, and before anything is sent to the store.
                if (
                    quota_bytes is not None
                    and stored_bytes(session, person.id) + clean.size > quota_bytes
                ):
                    raise QuotaExceeded("quota", limit=quota_bytes)
                stored_view = _store_document(
                    session,
                    store,
                    keyring,
                    clock,
                    actor=actor,
                    person=person,
                    clean=clean,
                    thumbnail=sanitizing.thumbnail,
                    preview=sanitizing.preview,
                    filename=filename,
                    title=title,
                    category=category,
                    valid_until=valid_until,
                    upload_key=upload.upload_key,
                    before_commit=before_commit,
                    stored=lambda: release.later([clean.path]),
                )
                return stored_view, False
    except IntegrityError:
        # The same upload, sent again while the first was being stored, came second: the
        # unique key refused its row (its objects are already deleted); the first stands.
        if upload.upload_key is None:
            raise
        earlier = _uploaded_before(session, keyring, actor, person, upload.upload_key)
        if earlier is None:
            raise
        return earlier, True


def _uploaded_before(
    session: Session, keyring: Keyring, actor: Actor, person: Person, upload_key: str
) -> DocumentView | None:
    document = session.scalar(
        select(Document).where(
            Document.upload_key == upload_key,
            Document.person_id == person.id,
            Document.uploaded_by_id == (actor.id or ""),
        )
    )
    if document is None:
        return None
    return _view(document, person, _data_key(keyring, person, document))


def _store_document(
    session: Session,
    store: ObjectStore,
    keyring: Keyring,
    clock: Clock,
    *,
    actor: Actor,
    person: Person,
    clean: SanitizedFile,
    thumbnail: Callable[[], Path],
    preview: Callable[[], Path],
    filename: str,
    title: str,
    category: str,
    valid_until: date | None,
    upload_key: str | None = None,
    before_commit: Callable[[Session, str], None] | None = None,
    stored: Callable[[], None] | None = None,
) -> DocumentView:
    """Store the clean file, its thumbnail and its preview, then commit the row and its
    audit record; `stored()` is called once all three objects are stored (their files are
    no longer read)."""
    document_id = new_id()
    version = 1
    data_key = generate_key()
    # Every key a put was started for: a put that failed may still have landed (the
    # server stored the body, then the answer was lost), so on failure all are deleted;
    # deleting a key that holds nothing is harmless.
    attempted: list[str] = []
    try:
        # Each object's size is known and its file can be read again: the store sends it
        # in one request (S3: one PUT, not a multipart upload; bench/README.md, "store").
        # The thumbnail and the preview go alongside, once the sanitiser has drawn them
        # (while the document is already on its way), their round trips hidden behind
        # the document's.
        object_key, thumbnail_key, preview_key = (store.new_key() for _ in range(3))
        attempted += [object_key, thumbnail_key, preview_key]
        thumbnail_aad = _aad("thumbnail", document_id, version)
        preview_aad = _aad("preview", document_id, version)

        def put_when_drawn(key: str, drawn: Callable[[], Path], aad: bytes) -> None:
            _put_file(store, key, drawn(), data_key, aad)

        with ThreadPoolExecutor(2, thread_name_prefix="pictures-put") as alongside:
            pictures_put = [
                alongside.submit(put_when_drawn, thumbnail_key, thumbnail, thumbnail_aad),
                alongside.submit(put_when_drawn, preview_key, preview, preview_aad),
            ]
            try:
                _put_file(
                    store,
                    object_key,
                    clean.path,
                    data_key,
                    _aad("object", document_id, version),
                    size=clean.size,
                )
            finally:
                # Whatever happened to the document, the pictures' puts are over before
                # anything is discarded below. Their own errors surface only if the
                # document's did not.
                for put in pictures_put:
                    put.exception()
            for put in pictures_put:
                put.result()
        if stored is not None:
            stored()
        document = Document(
            id=document_id,
            person_id=person.id,
            version=version,
            object_key=object_key,
            thumbnail_key=thumbnail_key,
            preview_key=preview_key,
            wrapped_data_key=wrap_key(
                person_key(keyring, person), data_key, _aad("data-key", document_id, version)
            ),
            title_ciphertext=encrypt_field(
                data_key, title.encode(), _field_aad("title", document_id)
            ),
            filename_ciphertext=encrypt_field(
                data_key, filename.encode(), _field_aad("filename", document_id)
            ),
            category=category,
            content_type=clean.content_type,
            size=clean.size,
            page_count=clean.pages,
            valid_until=valid_until,
            upload_key=upload_key,
            created_at=clock(),
            uploaded_by_kind=actor.kind,
            uploaded_by_id=actor.id or "",
        )
        session.add(document)
        session.flush()
        append_allowed(
            session,
            clock,
            "document:upload",
            "owner",
            actor,
            person_id=person.id,
            document_id=document_id,
        )
        if before_commit is not None:
            before_commit(session, document_id)
            session.flush()
        session.commit()
    except BaseException:
        session.rollback()
        for key in attempted:
            discard_object(store, key)
        raise
    return _view(document, person, data_key)


# Waits between attempts to remove what a failed upload stored: a store that just
# dropped a connection is often back within a second or two.
DISCARD_BACKOFF = (0.0, 0.5, 1.5)


def discard_object(store: ObjectStore, object_key: str) -> bool:
    """Delete an object, retrying briefly; False (logged) if it stays for reconcile."""
    for pause in DISCARD_BACKOFF:
        time.sleep(pause)
        try:
            store.delete(object_key)
        except StorageError:
            continue
        return True
    # Left for `locker storage reconcile`; the key alone reveals nothing.
    log.error("could not delete an orphaned object")
    return False


def _view(document: Document, person: Person, data_key: bytes) -> DocumentView:
    def field(name: str, ciphertext: bytes) -> str:
        return decrypt_field(data_key, ciphertext, _field_aad(name, document.id)).decode()

    return view_of(
        DocumentView,
        document,
        person_id=person.id,
        title=field("title", document.title_ciphertext),
        filename=field("filename", document.filename_ciphertext),
        has_thumbnail=document.thumbnail_key is not None,
    )


def describe_document(session: Session, keyring: Keyring, document: Document) -> DocumentView:
    """A document's decrypted description; the caller has asked the policy first."""
    person = session.get(Person, document.person_id)
    if person is None:
        raise NotFound("document")
    return _view(document, person, _data_key(keyring, person, document))


def list_documents(session: Session, keyring: Keyring, person: Person) -> list[DocumentView]:
    """The person's documents outside the trash, newest first; the caller asked the policy."""
    rows = session.scalars(
        select(Document)
        .where(Document.person_id == person.id, Document.deleted_at.is_(None))
        .order_by(*NEWEST_FIRST)
    )
    return _views(keyring, person, rows)


@dataclass(frozen=True)
class DocumentPage:
    """A page of a person's list, and the cursor of the next page (None on the last)."""

    documents: list[DocumentView]
    next_after: str | None


# The order of every list of papers: newest first, the id breaking ties (the index's order).
NEWEST_FIRST = (Document.created_at.desc(), Document.id)


def listed_after(anchor: Document) -> ColumnElement[bool]:
    """The papers after `anchor` in the order NEWEST_FIRST: a page starts from a key, so it
    walks the index rather than skipping rows."""
    return or_(
        Document.created_at < anchor.created_at,
        and_(Document.created_at == anchor.created_at, Document.id > anchor.id),
    )


def page_documents(
    session: Session, keyring: Keyring, person: Person, *, after: str | None, limit: int
) -> DocumentPage:
    """`limit` of the person's documents outside the trash, newest first, from the one
    after the document `after` (the last of the previous page); the caller asked the policy.

    Only the page's titles are decrypted, and the query walks the index from a key rather
    than skipping rows, so a page costs the same with 40 papers or 1,000.
    """
    query = select(Document).where(Document.person_id == person.id, Document.deleted_at.is_(None))
    if after is not None:
        anchor = find_document(session, after)
        if anchor is None or anchor.person_id != person.id:
            raise InvalidInput("unknown page cursor", field="after")
        query = query.where(listed_after(anchor))
    rows = list(session.scalars(query.order_by(*NEWEST_FIRST).limit(limit + 1)))
    shown = rows[:limit]
    return DocumentPage(_views(keyring, person, shown), shown[-1].id if len(rows) > limit else None)


def describe_documents(
    session: Session, keyring: Keyring, person: Person, document_ids: Iterable[str]
) -> dict[str, DocumentView]:
    """The person's documents among these ids, outside the trash, by id; others left out."""
    wanted = {each for each in document_ids if isinstance(each, str) and len(each) == 36}
    if not wanted:
        return {}
    rows = session.scalars(
        select(Document).where(
            Document.person_id == person.id,
            Document.id.in_(wanted),
            Document.deleted_at.is_(None),
        )
    )
    return {view.id: view for view in _views(keyring, person, rows)}


def find_document(session: Session, document_id: str) -> Document | None:
    """The row for an id, or None (ids are opaque; anything malformed finds nothing)."""
    if not isinstance(document_id, str) or len(document_id) != 36:
        return None
    return session.get(Document, document_id)


# What of a document the door opens: its file, or the two pictures drawn from it.
PARTS = frozenset({"content", "thumbnail", "preview"})


def _counted_opening(door: Callable[P, OpenedDocument]) -> Callable[P, OpenedDocument]:
    """Count every pass through the door by part and outcome (metrics): allowed, denied
    (refused, unknown and trashed alike, as the answer is), or the error's code."""

    @wraps(door)
    def counting(*args: P.args, **kwargs: P.kwargs) -> OpenedDocument:
        asked = kwargs.get("part", "content")
        part = asked if isinstance(asked, str) and asked in PARTS else "other"
        try:
            opened = door(*args, **kwargs)
        except NotFound:
            count_opening(part, DENIED)
            raise
        except LockerError as error:
            count_opening(part, error.code)
            raise
        except BaseException:
            count_opening(part, FAILED)
            raise
        count_opening(part, ALLOWED)
        return opened

    return counting


@_counted_opening
def open_document(
    ctx: RequestContext,
    *,
    document_id: str,
    decision: Verdict,
    action: str = "document:read",
    part: str = "content",
    limits: SanitizeLimits | None = None,
    page: int = 0,
) -> OpenedDocument:
    """The one door to plaintext: the policy's `decision` on this document, then a
    committed audit record, then decryption.

    `part` is "content", "thumbnail" (the small image the list shows) or "preview" (the
    JPEG its page shows; drawn once, within `limits`, for a document stored before
    previews). The preview of another `page` than the first is drawn each time, within
    `limits`, and not kept. Denied, unknown and trashed ids are recorded and answer
    NotFound alike.
    The whole object is authenticated before the first byte is handed out, so a tampered
    object yields an error and never a partial response.
    """
    document = find_document(ctx.session, document_id)
    other_page = page != 0 and part == "preview"
    if document is None or part not in PARTS or (other_page and not 0 < page < document.page_count):
        ctx.record_denied(action, "not_found")
        raise NotFound("document")
    if document.deleted_at is not None:
        decision = _Refusal(allowed=False, reason="trashed")
    elif part == "thumbnail" and document.thumbnail_key is None:
        decision = _Refusal(allowed=False, reason="no_thumbnail")
    event = AuditEvent(
        action=action,
        outcome="allowed" if decision.allowed else "denied",
        reason=decision.reason,
        actor=ctx.actor,
        person_id=document.person_id,
        document_id=document.id,
    )
    record_event(ctx.session_factory, ctx.clock, event)
    if not decision.allowed:
        raise NotFound("document")

    person = ctx.session.get(Person, document.person_id)
    if person is None:
        raise NotFound("document")
    try:
        data_key = _data_key(ctx.keyring, person, document)
    except KeyProviderUnavailable:
        raise  # the token does not answer: the service is unavailable, nothing is damaged
    except CryptoError as exc:
        log.error("document key failed to unwrap", extra={"document_id": document.id})
        raise DocumentDamaged("key unwrap failed") from exc
    if part == "thumbnail":
        assert document.thumbnail_key is not None
        aad = _aad("thumbnail", document.id, document.version)
        return _open_picture(ctx.store, document, person, data_key, document.thumbnail_key, aad)
    if other_page:
        drawn = _draw_page(ctx.store, document, data_key, limits or SanitizeLimits(), page)
        return _picture(document, person, data_key, drawn)
    if part == "preview":
        aad = _aad("preview", document.id, document.version)
        if document.preview_key is not None:
            return _open_picture(ctx.store, document, person, data_key, document.preview_key, aad)
        preview = _draw_missing_preview(ctx, document, data_key, limits or SanitizeLimits())
        return _picture(document, person, data_key, preview)
    return OpenedDocument(
        view=_view(document, person, data_key),
        chunks=_opened_file(ctx.store, _Stored.of(document), data_key),
    )


@dataclass(frozen=True)
class _Stored:
    """Where a document's file is and what binds it, read off its row while it is at hand
    (an export streams after its request's session is gone)."""

    document_id: str
    object_key: str
    aad: bytes

    @classmethod
    def of(cls, document: Document) -> _Stored:
        aad = _aad("object", document.id, document.version)
        return cls(document.id, document.object_key, aad)


@dataclass(frozen=True)
class ExportedDocument:
    """A paper in a person's export: its description, and its plaintext when `chunks()`
    is called (fetched, authenticated whole, then decrypted; DocumentDamaged otherwise)."""

    view: DocumentView
    chunks: Callable[[], Iterator[bytes]]


def export_documents(
    ctx: RequestContext, *, person: Person, decision: Verdict, action: str, actor: Actor
) -> list[ExportedDocument]:
    """Every paper of the person, the trash included, oldest first, for their export: the
    policy's `decision`, then one committed audit record for the whole export, then each
    paper opened only when the archive reaches it, so memory stays flat."""
    outcome = "allowed" if decision.allowed else "denied"
    event = AuditEvent(action, outcome, decision.reason, actor, person.id)
    record_event(ctx.session_factory, ctx.clock, event)
    if not decision.allowed:
        raise NotFound("person")
    rows = ctx.session.scalars(
        select(Document)
        .where(Document.person_id == person.id)
        .order_by(Document.created_at, Document.id)
    )
    exported = []
    for row in rows:
        data_key = _data_key(ctx.keyring, person, row)
        exported.append(
            ExportedDocument(
                view=_view(row, person, data_key),
                chunks=partial(_opened_file, ctx.store, _Stored.of(row), data_key),
            )
        )
    return exported


def _opened_file(
    store: ObjectStore, stored: _Stored, data_key: bytes
) -> Generator[bytes, None, None]:
    """The one way a document's file becomes plaintext: its ciphertext spooled to disk (it
    is safe there), authenticated whole, then decrypted as a stream: constant memory, and
    no unverified byte leaves. Raises DocumentDamaged before any byte if it was altered."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _decrypting)
    try:
        for chunk in store.get(stored.object_key):
            spool.write(chunk)
        spool.seek(0)
        verify_object(data_key, _read_chunks(spool), stored.aad)
        spool.seek(0)
    except CryptoError as exc:
        spool.close()
        log.error(
            "document object failed authentication", extra={"document_id": stored.document_id}
        )
        raise DocumentDamaged("authentication failed") from exc
    except BaseException:
        spool.close()
        raise
    return _decrypting(spool, data_key, stored.aad)


def _open_picture(
    store: ObjectStore, document: Document, person: Person, data_key: bytes, key: str, aad: bytes
) -> OpenedDocument:
    # A thumbnail or a preview is a few hundred kilobytes at most: authenticated and
    # decrypted whole, in memory.
    blob = b"".join(store.get(key))
    try:
        plain = b"".join(decrypt_object(data_key, [blob], aad))
    except CryptoError as exc:
        log.error("picture failed authentication", extra={"document_id": document.id})
        raise DocumentDamaged("authentication failed") from exc
    return _picture(document, person, data_key, plain)


def _picture(document: Document, person: Person, data_key: bytes, jpeg: bytes) -> OpenedDocument:
    view = replace(_view(document, person, data_key), content_type="image/jpeg", size=len(jpeg))
    return OpenedDocument(view=view, chunks=iter([jpeg]))


def _draw_missing_preview(
    ctx: RequestContext, document: Document, data_key: bytes, limits: SanitizeLimits
) -> bytes:
    """The preview of a document stored before previews, drawn from its clean content in
    the sandbox (never in this process), then stored and named by its row, so it is
    drawn once; the caller has recorded the read.

    Like the audit record, the row's new key commits in a transaction of its own: the
    object is named by a committed row, or removed. When another request named one
    first, or the row is gone, this one's object is removed and its preview still shown.
    """
    preview = _draw_page(ctx.store, document, data_key, limits, 0)
    key = ctx.store.new_key()
    sealed = EncryptedObject(
        data_key, lambda: [preview], len(preview), _aad("preview", document.id, document.version)
    )
    try:
        ctx.store.put(key, sealed)
        with ctx.session_factory() as session:
            named = (
                session.connection()
                .execute(
                    update(Document)
                    .where(Document.id == document.id, Document.preview_key.is_(None))
                    .values(preview_key=key)
                )
                .rowcount
            )
            session.commit()
    except BaseException:
        discard_object(ctx.store, key)  # the put may have landed
        raise
    if not named:
        discard_object(ctx.store, key)
    return preview


def _draw_page(
    store: ObjectStore, document: Document, data_key: bytes, limits: SanitizeLimits, page: int
) -> bytes:
    """The preview of one page, drawn from the clean content in the sandbox (never in this
    process); the caller has recorded the read."""
    # The plaintext waits in the process's scratch folder, as an upload's does, for the
    # moment the sandboxed child reads it; the folder goes when the preview is drawn.
    scratch = tempfile.TemporaryDirectory(prefix="locker-preview-", dir=scratch_dir())
    opened = _opened_file(store, _Stored.of(document), data_key)
    with scratch as workdir, contextlib.closing(opened):
        clean = Path(workdir) / "stored"
        with clean.open("wb") as plain:
            for chunk in opened:
                plain.write(chunk)
        try:
            return draw_preview(clean, Path(workdir), limits, page)
        except (DamagedFile, TooComplex):
            raise
        except RefusedFile as refusal:  # the file was accepted once: it is not the caller's
            log.error("no preview drawn", extra={"document_id": document.id})
            raise DamagedFile("no preview drawn") from refusal


def _read_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while True:
        chunk = handle.read(CHUNK)
        if not chunk:
            return
        yield chunk


def _decrypting(spool: IO[bytes], data_key: bytes, aad: bytes) -> Generator[bytes, None, None]:
    try:
        yield from decrypt_object(data_key, _read_chunks(spool), aad)
    finally:
        spool.close()


def document_keys(document: Document) -> list[str]:
    """Every object a document's row names: its file, and its thumbnail and preview."""
    named = (document.object_key, document.thumbnail_key, document.preview_key)
    return [key for key in named if key is not None]


def delete_document(
    session: Session,
    store: ObjectStore,
    clock: Clock,
    *,
    actor: Actor,
    document: Document,
    reason: str,
) -> None:
    """Remove a document: row and audit record commit first, then the object goes.

    If the object delete fails, the object is an orphan for `storage reconcile`, never a
    row pointing at nothing.
    """
    keys = document_keys(document)
    append_allowed(
        session,
        clock,
        "document:delete",
        reason,
        actor,
        person_id=document.person_id,
        document_id=document.id,
    )
    session.delete(document)
    try:
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        raise
    for key in keys:
        discard_object(store, key)
