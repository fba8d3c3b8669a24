"""The professional's side: my persons, what each shared with me, and deposits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from locker import documents as core
from locker.actors import Actor, Clock
from locker.context import RequestContext
from locker.documents import DocumentView, UploadRequest
from locker.models import Document, Person
from locker.views import view_of
from sharing.decisions import Action, Decision
from sharing.errors import AccessDenied
from sharing.guard import find_person, record, record_read, require_person
from sharing.models import AccompanimentMember, Grant, SharingNotice
from sharing.policy import decide
from sharing.rights import LIVE_MEMBER, active_member


@dataclass(frozen=True)
class MyPerson:
    """A person whose list I am on, and the documents I may see now."""

    person_id: str
    display_name: str
    member_id: str
    mission: str
    status: str
    referent: bool
    documents: list[DocumentView]


@dataclass(frozen=True)
class DepositNotice:
    """A paper a member put into the person's locker, not yet acknowledged."""

    id: str
    member_id: str
    document_id: str | None


def describable_papers(
    ctx: RequestContext, person_id: str, papers: Iterable[Document]
) -> list[DocumentView]:
    """Those of the person's papers the policy lets the actor describe, described: the
    listing goes on the person's log (once) before any title is decrypted."""
    now = ctx.clock()
    shown: list[Document] = []
    shown_by: Decision | None = None
    for document in papers:  # the policy's own yes for each title shown
        seen = decide(ctx.session, ctx.actor, Action.DOCUMENT_DESCRIBE, document, now=now)
        if seen.allowed:
            shown_by = shown_by or seen
            shown.append(document)
    if shown_by is not None:
        record_read(ctx, Action.PERSON_LIST_DOCUMENTS, shown_by, person_id)
    return [core.describe_document(ctx.session, ctx.keyring, document) for document in shown]


def my_persons(ctx: RequestContext) -> list[MyPerson]:
    """The persons whose list I am on (accepted), each with the documents I may see."""
    decision = decide(ctx.session, ctx.actor, Action.PROFESSIONAL_PERSONS, now=ctx.clock())
    if not decision.allowed:
        raise AccessDenied(decision.reason)
    rows = ctx.session.execute(
        select(AccompanimentMember, Person)
        .join(Person, Person.id == AccompanimentMember.person_id)
        .where(
            AccompanimentMember.professional_id == ctx.actor.id,
            # A request the person has not accepted shows nothing: listing it would tell
            # the professional that the username they typed exists (and whose it is).
            LIVE_MEMBER,
        )
        .order_by(Person.display_name)
    )
    result = []
    for member, person in rows:
        papers = ctx.session.scalars(
            select(Document)
            .where(Document.person_id == person.id, Document.deleted_at.is_(None))
            .order_by(Document.created_at.desc())
        )
        views = describable_papers(ctx, person.id, papers)
        result.append(
            view_of(
                MyPerson,
                member,
                person_id=person.id,
                display_name=person.display_name,
                member_id=member.id,
                documents=views,
            )
        )
    return result


def deposit_document(
    ctx: RequestContext,
    *,
    person_id: str,
    upload: UploadRequest,
) -> DocumentView:
    """A member puts a paper into the person's locker: it is the person's; they are told;
    the depositor keeps a grant on it that the person can revoke. One transaction: the
    paper, the grant, the notice and the records are all committed, or none (and no
    object is left in the store)."""
    person, decision = require_person(ctx, Action.PERSON_DEPOSIT, person_id)
    member = active_member(ctx.session, person.id, ctx.actor.id)
    assert member is not None
    person_key, member_key = person.id, member.id

    def grant_and_notice(tx: Session, document_id: str) -> None:
        # In the upload's own transaction: the paper, its grant, the notice and the
        # records are committed together or not at all (objects deleted on failure).
        now = ctx.clock()
        tx.add(
            Grant(
                person_id=person_key,
                member_id=member_key,
                document_id=document_id,
                origin="deposit",
                created_at=now,
            )
        )
        tx.add(
            SharingNotice(
                person_id=person_key,
                kind="deposit",
                member_id=member_key,
                document_id=document_id,
                created_at=now,
            )
        )
        tx.flush()
        record(tx, ctx.clock, ctx.actor, Action.DOCUMENT_DEPOSIT, decision, person_key, document_id)

    return core.upload_document(
        ctx.session,
        ctx.store,
        ctx.keyring,
        ctx.clock,
        actor=ctx.actor,
        person=person,
        # With the person's own limits: a deposit fills their quota, and its parsing
        # child gets no more memory or time than the person's own uploads.
        upload=upload,
        before_commit=grant_and_notice,
    )


def deposit_notices(session: Session, person_id: str) -> list[DepositNotice]:
    """Deposits the person has not yet acknowledged."""
    rows = session.scalars(
        select(SharingNotice).where(
            SharingNotice.person_id == person_id, SharingNotice.seen_at.is_(None)
        )
    )
    return [DepositNotice(id=n.id, member_id=n.member_id, document_id=n.document_id) for n in rows]


def acknowledge_deposits(session: Session, clock: Clock, *, actor: Actor, person_id: str) -> None:
    """The person has read their deposit notices (only the person may clear them)."""
    person = find_person(session, person_id)
    if (
        person is None
        or not decide(session, actor, Action.NOTICE_LIST, person, now=clock()).allowed
    ):
        return
    session.execute(
        update(SharingNotice)
        .where(SharingNotice.person_id == person.id, SharingNotice.seen_at.is_(None))
        .values(seen_at=clock())
    )
