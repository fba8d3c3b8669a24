"""Counter links: the person shows chosen papers to an agent at a counter (CAF, préfecture,
hôpital) who has no account, for a few minutes, watermarked.

- The person alone makes, lists and ends their links (a helper cannot: see the policy).
- A link's secret (256 random bits, in its URL) and its short code (about 49 bits, typed
  on the service's public page; the web layer throttles wrong tries per address) are
  given once and kept only as SHA-256 hashes.
- It is for one browser: the first that opens it claims it and receives a viewer secret
  (kept in its cookie, hashed here); the URL or code opened anywhere else answers that it
  was already used, and that attempt is on the person's log.
- Each page is drawn with the watermark in its pixels (`locker.watermark`); the original
  file only if the person allowed its download. Every page shown passes the one door
  (`locker.documents.open_document`) as the counter actor, so each is on the person's
  access log as "Guichet « CAF de Lyon » a regardé …".
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crypto.keyring import Keyring
from crypto.keys import decrypt_field, encrypt_field
from locker import documents as core
from locker.accounts import person_key
from locker.actors import Actor
from locker.audit import AuditEvent, append_event
from locker.context import RequestContext
from locker.documents import OpenedDocument
from locker.errors import InvalidInput, NotFound
from locker.models import Document, Person
from locker.sanitize import SanitizeLimits
from locker.watermark import watermark
from sharing.decisions import Action
from sharing.errors import CounterLinkEnded, CounterLinkUsed
from sharing.guard import find_person, record, require, require_person
from sharing.models import CounterLink, CounterLinkPaper
from sharing.policy import decide_counter

DEFAULT_MINUTES = 30
MAX_MINUTES = 24 * 60
MAX_PAPERS = 20
MAX_RECIPIENT = 100
# No 0/O, 1/I/L, U/V lookalikes: read aloud or typed from a phone's screen.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
CODE_LENGTH = 10
# The watermark's dates are the counter's: in France.
COUNTER_TIME_ZONE = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class NewCounterLink:
    """A link just made: its secret and code, shown to the person this once."""

    id: str
    token: str
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class CounterLinkView:
    """A link as its person sees it in their list."""

    id: str
    recipient: str
    document_ids: list[str]
    allow_download: bool
    created_at: datetime
    expires_at: datetime
    opened_at: datetime | None
    revoked_at: datetime | None
    live: bool


@dataclass(frozen=True)
class CounterPaper:
    id: str
    title: str
    page_count: int
    content_type: str


@dataclass(frozen=True)
class CounterViewing:
    """What the claiming browser sees: who it is for, until when, and the papers."""

    link_id: str
    recipient: str
    created_at: datetime
    expires_at: datetime
    allow_download: bool
    papers: list[CounterPaper]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normal_code(typed: str) -> str:
    """A typed code as it was made: capitals, without the spaces and dashes that help
    reading it."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def _recipient_aad(link_id: str) -> bytes:
    return f"locker/counter-recipient/v1:{link_id}".encode()


def _recipient(keyring: Keyring, person: Person, link: CounterLink) -> str:
    key = person_key(keyring, person)
    return decrypt_field(key, link.recipient_ciphertext, _recipient_aad(link.id)).decode()


def _papers(session: Session, person: Person, document_ids: Sequence[object]) -> list[str]:
    """The chosen ids, each once, each a paper of the person outside the trash."""
    chosen = list(dict.fromkeys(document_ids))
    if not 1 <= len(chosen) <= MAX_PAPERS:
        raise InvalidInput("document_ids", field="document_ids", maximum=MAX_PAPERS)
    for document_id in chosen:
        document = (
            core.find_document(session, document_id) if isinstance(document_id, str) else None
        )
        if document is None or document.person_id != person.id or document.deleted_at:
            raise InvalidInput("document_ids", field="document_ids", maximum=MAX_PAPERS)
    return [str(document_id) for document_id in chosen]


def _clean_recipient(value: object) -> str:
    text = " ".join("".join(ch for ch in str(value or "") if ch.isprintable()).split())
    if not 1 <= len(text) <= MAX_RECIPIENT:
        raise InvalidInput("recipient", field="recipient", maximum=MAX_RECIPIENT)
    return text


def create_counter_link(
    ctx: RequestContext,
    *,
    person_id: str,
    document_ids: Sequence[object],
    recipient: object,
    minutes: object = DEFAULT_MINUTES,
    allow_download: bool = False,
) -> NewCounterLink:
    """A new link to the chosen papers for `minutes` (at most a day); the person only.
    The caller commits."""
    person, decision = require_person(ctx, Action.COUNTER_CREATE, person_id)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
        raise InvalidInput("minutes", field="minutes", maximum=MAX_MINUTES)
    recipient_text = _clean_recipient(recipient)
    chosen = _papers(ctx.session, person, document_ids)
    token = secrets.token_urlsafe(32)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = ctx.clock()
    link = CounterLink(
        person_id=person.id,
        token_hash=_hash(token),
        code_hash=_hash(code),
        recipient_ciphertext=b"",
        allow_download=bool(allow_download),
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    ctx.session.add(link)
    ctx.session.flush()
    link.recipient_ciphertext = encrypt_field(
        person_key(ctx.keyring, person), recipient_text.encode(), _recipient_aad(link.id)
    )
    for position, document_id in enumerate(chosen):
        ctx.session.add(
            CounterLinkPaper(link_id=link.id, document_id=document_id, position=position)
        )
    record(ctx.session, ctx.clock, ctx.actor, Action.COUNTER_CREATE, decision, person.id)
    ctx.session.flush()
    return NewCounterLink(link.id, token, code, link.expires_at)


def _document_ids(session: Session, link_id: str) -> list[str]:
    return list(
        session.scalars(
            select(CounterLinkPaper.document_id)
            .where(CounterLinkPaper.link_id == link_id)
            .order_by(CounterLinkPaper.position)
        )
    )


def _view(ctx: RequestContext, person: Person, link: CounterLink, now: datetime) -> CounterLinkView:
    return CounterLinkView(
        id=link.id,
        recipient=_recipient(ctx.keyring, person, link),
        document_ids=_document_ids(ctx.session, link.id),
        allow_download=link.allow_download,
        created_at=link.created_at,
        expires_at=link.expires_at,
        opened_at=link.opened_at,
        revoked_at=link.revoked_at,
        live=link.revoked_at is None and link.expires_at > now,
    )


def list_counter_links_for(ctx: RequestContext, *, person_id: str) -> list[CounterLinkView]:
    """The person's links, newest first (ended ones too, for the last week)."""
    person, _ = require_person(ctx, Action.COUNTER_LIST, person_id)
    now = ctx.clock()
    links = ctx.session.scalars(
        select(CounterLink)
        .where(CounterLink.person_id == person.id, CounterLink.expires_at > now - timedelta(days=7))
        .order_by(CounterLink.created_at.desc())
    )
    return [_view(ctx, person, link, now) for link in links]


def counter_link_for(ctx: RequestContext, *, person_id: str, link_id: str) -> CounterLinkView:
    """One of the person's links (as the list shows it); NotFound for anyone else's."""
    person, _ = require_person(ctx, Action.COUNTER_LIST, person_id)
    link = ctx.session.get(CounterLink, link_id) if isinstance(link_id, str) else None
    if link is None or link.person_id != person.id:
        raise NotFound("counter_link")
    return _view(ctx, person, link, ctx.clock())


def revoke_counter_link(ctx: RequestContext, *, link_id: str) -> None:
    """End a link at once (its viewer's next page is refused); the person only, 404 for
    anyone else. Ending an ended link changes nothing. The caller commits."""
    link = ctx.session.get(CounterLink, link_id) if isinstance(link_id, str) else None
    person = find_person(ctx.session, link.person_id) if link is not None else None
    decision = require(ctx, Action.COUNTER_REVOKE, person)
    assert link is not None and person is not None
    if link.revoked_at is None:
        link.revoked_at = ctx.clock()
        record(ctx.session, ctx.clock, ctx.actor, Action.COUNTER_REVOKE, decision, person.id)
        ctx.session.flush()


def counter_names(
    session: Session, keyring: Keyring, person: Person, link_ids: set[str]
) -> dict[str, str]:
    """Whom each of the person's links was for, to name them in the person's access log."""
    if not link_ids:
        return {}
    links = session.scalars(
        select(CounterLink).where(CounterLink.id.in_(link_ids), CounterLink.person_id == person.id)
    )
    return {link.id: _recipient(keyring, person, link) for link in links}


def _ended(link: CounterLink, now: datetime) -> str | None:
    if link.revoked_at is not None:
        return "counter_revoked"
    if link.expires_at <= now:
        return "counter_expired"
    return None


def _as_counter(ctx: RequestContext, link: CounterLink) -> RequestContext:
    return ctx.acting(Actor(kind="counter", id=link.id))


def claim_counter_link(
    ctx: RequestContext,
    *,
    token: str | None = None,
    code: str | None = None,
    viewers: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The link opened by its URL's `token` or its typed `code`, claimed by this browser:
    returns (link id, viewer secret for its cookie). Commits the claim and its record
    before anything of the person's is shown. The browser that claimed it (its viewer
    secret among `viewers`, by link id) opens it again as long as it lives.

    NotFound when neither names a link (the caller counts it as a wrong try);
    CounterLinkEnded when it was ended or is past its time; CounterLinkUsed when another
    browser claimed it first. Both refusals are on the person's log.
    """
    secret = token if token is not None else normal_code(code or "")
    column = CounterLink.token_hash if token is not None else CounterLink.code_hash
    link = (
        ctx.session.scalar(select(CounterLink).where(column == _hash(secret))) if secret else None
    )
    if link is None:
        raise NotFound("counter_link")
    now = ctx.clock()
    counter = _as_counter(ctx, link)
    ended = _ended(link, now)
    if ended is not None:
        counter.record_denied(Action.COUNTER_OPEN, ended, person_id=link.person_id)
        raise CounterLinkEnded(ended)
    again = (viewers or {}).get(link.id)
    if again and link.viewer_hash and hmac.compare_digest(link.viewer_hash, _hash(again)):
        return link.id, again
    viewer = secrets.token_urlsafe(32)
    claimed = (
        ctx.session.connection()
        .execute(
            update(CounterLink)
            .where(CounterLink.id == link.id, CounterLink.opened_at.is_(None))
            .values(opened_at=now, viewer_hash=_hash(viewer))
        )
        .rowcount
    )
    if not claimed:
        ctx.session.rollback()
        counter.record_denied(Action.COUNTER_OPEN, "counter_used", person_id=link.person_id)
        raise CounterLinkUsed("counter_used")
    event = AuditEvent(
        Action.COUNTER_OPEN, "allowed", "counter_link", counter.actor, link.person_id
    )
    append_event(ctx.session, ctx.clock, event)
    ctx.session.commit()
    return link.id, viewer


def _viewed_link(ctx: RequestContext, link_id: str, viewer: str) -> CounterLink:
    """The link this browser claimed, while it lives; NotFound for any other browser."""
    link = ctx.session.get(CounterLink, link_id) if isinstance(link_id, str) else None
    known = link is not None and link.viewer_hash is not None
    if not known or not hmac.compare_digest(link.viewer_hash or "", _hash(viewer or "")):  # type: ignore[union-attr]
        raise NotFound("counter_link")
    assert link is not None
    ended = _ended(link, ctx.clock())
    if ended is not None:  # the person ended it while the agent still had the page open
        _as_counter(ctx, link).record_denied(Action.COUNTER_OPEN, ended, person_id=link.person_id)
        raise CounterLinkEnded(ended)
    return link


def viewing_for(ctx: RequestContext, *, link_id: str, viewer: str) -> CounterViewing:
    """The claimed link's page: for whom, until when, and the papers' titles (their
    showing was recorded when the link was claimed)."""
    link = _viewed_link(ctx, link_id, viewer)
    person = ctx.session.get(Person, link.person_id)
    assert person is not None
    papers = []
    for document_id in _document_ids(ctx.session, link.id):
        document = ctx.session.get(Document, document_id)
        if document is None or document.deleted_at is not None:
            continue
        view = core.describe_document(ctx.session, ctx.keyring, document)
        papers.append(CounterPaper(view.id, view.title, view.page_count, view.content_type))
    return CounterViewing(
        link_id=link.id,
        recipient=_recipient(ctx.keyring, person, link),
        created_at=link.created_at,
        expires_at=link.expires_at,
        allow_download=link.allow_download,
        papers=papers,
    )


def stamp(recipient: str, created_at: datetime, expires_at: datetime) -> str:
    """The watermark's sentence, in French: the agent and the counter's files are."""
    sent = format_datetime(created_at, "d MMMM y", tzinfo=COUNTER_TIME_ZONE, locale="fr_FR")
    until = format_datetime(
        expires_at, "d MMMM y 'à' HH:mm", tzinfo=COUNTER_TIME_ZONE, locale="fr_FR"
    )
    return f"Copie transmise via le coffre-fort le {sent} à {recipient} — valable jusqu'au {until}"


def _opened(
    ctx: RequestContext,
    link: CounterLink,
    document_id: str,
    action: Action,
    *,
    part: str,
    page: int = 0,
    limits: SanitizeLimits | None = None,
) -> OpenedDocument:
    document = core.find_document(ctx.session, document_id)
    decision = decide_counter(ctx.session, link, document, action, now=ctx.clock())
    return core.open_document(
        _as_counter(ctx, link),
        document_id=document_id,
        decision=decision,
        action=action,
        part=part,
        page=page,
        limits=limits,
    )


def counter_page_for(
    ctx: RequestContext,
    *,
    link_id: str,
    viewer: str,
    document_id: str,
    page: int = 0,
    limits: SanitizeLimits | None = None,
) -> bytes:
    """One page of a paper in the link, as a JPEG with the watermark drawn into it; the
    reading is on the person's log first (the door's)."""
    link = _viewed_link(ctx, link_id, viewer)
    opened = _opened(
        ctx, link, document_id, Action.DOCUMENT_PREVIEW, part="preview", page=page, limits=limits
    )
    jpeg = b"".join(opened.chunks)
    person = ctx.session.get(Person, link.person_id)
    assert person is not None
    recipient = _recipient(ctx.keyring, person, link)
    return watermark(jpeg, stamp(recipient, link.created_at, link.expires_at))


def counter_file_for(
    ctx: RequestContext, *, link_id: str, viewer: str, document_id: str
) -> OpenedDocument:
    """The paper's file itself, only if the person allowed its download in this link."""
    link = _viewed_link(ctx, link_id, viewer)
    return _opened(ctx, link, document_id, Action.DOCUMENT_READ, part="content")
