"""The professional's desk: my persons as a searchable, paged table; one person's page
with only what they shared with me, a page at a time, what is new since my last visit,
and their paper.

The table says how many papers, never which: no title is decrypted for it, so it costs
the same whatever the persons hold and leaves nothing on their logs. A person's page
shows titles, so it records the listing on that person's log first (`record_read`).
The search runs only over the professional's own live list entries: it never finds,
nor says anything of, a person whose list they are not on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import case, distinct, func, or_, select
from sqlalchemy.orm import Session, aliased

from locker.context import RequestContext
from locker.documents import NEWEST_FIRST, DocumentView, listed_after
from locker.errors import InvalidInput
from locker.models import Document, Organization, Person, Professional
from locker.reminders import expiring_soon
from sharing.decisions import Action
from sharing.documents import describe_document_for, find_document_for
from sharing.errors import AccessDenied
from sharing.guard import require, require_person
from sharing.models import AccompanimentMember, DeskVisit, Grant, Mandate, SharingNotice
from sharing.policy import MANDATE_SCOPE, decide
from sharing.professionals import describable_papers
from sharing.rights import (
    LIVE_MEMBER,
    active_member,
    covered_by,
    does_digital_inclusion,
    grant_is_live,
    live_grants,
    readable_papers,
)

PAGE_SIZE = 50
MAX_QUERY = 100
# Papers in one page of a person's page, and at most in its "new" and "expire soon" lists.
PAPERS_PAGE = 25


@dataclass(frozen=True)
class MandateLine:
    """One live mandate of mine for the person: what it lets me do, until when."""

    scopes: tuple[str, ...]
    expires_at: datetime


@dataclass(frozen=True)
class DeskRow:
    """One line of my persons' table: counts only, no title."""

    person_id: str
    display_name: str
    member_id: str
    mission: str
    referent: bool
    shared: int
    # None: I have never opened this person's page (everything is new).
    new: int | None
    ended: int
    # None: the person's list is not mine to read (only a helper's "share" mandate reads it).
    pending: int | None
    mandates: list[MandateLine]
    expiring: int


@dataclass(frozen=True)
class DeskPage:
    """One page of my persons' table, for a search (empty: everyone on my list)."""

    rows: list[DeskRow]
    query: str
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class EndedShare:
    """A share of mine that ended since my last visit (no title: the paper is no longer mine
    to read; a category share names its category)."""

    ended_at: datetime
    category: str | None


@dataclass(frozen=True)
class PendingRequest:
    """A professional asking to join the person's list, not yet accepted by the person."""

    display_name: str
    organization: str


@dataclass(frozen=True)
class DeskPerson:
    """One person's page on my desk."""

    person_id: str
    display_name: str
    member_id: str
    mission: str
    referent: bool
    # How many of the person's papers I may read, and a page of them, newest first (the
    # cursor of the next page in `older`, None on the last).
    shared: int
    papers: list[DocumentView]
    older: str | None
    # The first page is my visit: what is new since the last one, what expires soon (each
    # at most a page), my shares that ended. A later page (`paged`) shows only the papers.
    paged: bool
    new_papers: list[DocumentView]
    new_categories: list[str]
    ended: list[EndedShare]
    # None: first visit (everything on the page is new to me).
    last_visit: datetime | None
    pending: list[PendingRequest] | None
    unseen_deposits: int
    mandates: list[MandateLine]
    helper: bool
    may_issue_recovery: bool
    expiring: list[DocumentView] = field(default_factory=list)


class _Counts(NamedTuple):
    """What the table says of one person: numbers only, never which papers."""

    shared: int = 0
    new: int = 0
    expiring: int = 0
    ended: int = 0


def search_pattern(query: str) -> str:
    """A LIKE pattern matching `query` anywhere, its own % and _ taken literally."""
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def clean_query(query: object) -> str:
    """The search as typed, on one line, at most MAX_QUERY characters."""
    text = " ".join(str(query or "").split())
    return "".join(ch for ch in text if ch.isprintable())[:MAX_QUERY]


def desk_persons(ctx: RequestContext, *, query: str = "", page: int = 1) -> DeskPage:
    """My persons (live entries of their lists), matching `query` on their name or
    username, by name, PAGE_SIZE a page; a page past the end is the last one."""
    now = ctx.clock()
    decision = decide(ctx.session, ctx.actor, Action.PROFESSIONAL_PERSONS, now=now)
    if not decision.allowed:
        raise AccessDenied(decision.reason)
    query = clean_query(query)
    mine = (AccompanimentMember.professional_id == ctx.actor.id) & LIVE_MEMBER
    if query:
        pattern = search_pattern(query)
        mine = mine & or_(
            func.lower(Person.display_name).like(pattern, escape="\\"),
            func.lower(Person.username).like(pattern, escape="\\"),
        )
    found = select(AccompanimentMember, Person).join(
        Person, Person.id == AccompanimentMember.person_id
    )
    total = ctx.session.scalar(select(func.count()).select_from(found.where(mine).subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = ctx.session.execute(
        found.where(mine)
        # A stable order: two persons of the same name keep their places between pages.
        .order_by(func.lower(Person.display_name), Person.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    visits = _visits(ctx.session, ctx.actor.id or "", [person.id for _, person in rows])
    # A fixed number of queries for the whole page, whatever its rows or their papers.
    members = [member for member, _ in rows]
    counts = _counts(ctx, members)
    mandates = _mandates(ctx, members)
    pending = _pending_counts(ctx, list(rows), mandates)
    return DeskPage(
        rows=[
            DeskRow(
                person_id=person.id,
                display_name=person.display_name,
                member_id=member.id,
                mission=member.mission,
                referent=member.referent,
                shared=counts[member.id].shared,
                new=counts[member.id].new if person.id in visits else None,
                ended=counts[member.id].ended,
                pending=pending.get(person.id),
                mandates=mandates.get(member.id, []),
                expiring=counts[member.id].expiring,
            )
            for member, person in rows
        ],
        query=query,
        page=page,
        pages=pages,
        total=total,
    )


def _visits(session: Session, professional_id: str, person_ids: list[str]) -> dict[str, datetime]:
    rows = session.execute(
        select(DeskVisit.person_id, DeskVisit.visited_at).where(
            DeskVisit.professional_id == professional_id, DeskVisit.person_id.in_(person_ids)
        )
    )
    return {person_id: visited_at for person_id, visited_at in rows}


def _counts(ctx: RequestContext, members: list[AccompanimentMember]) -> dict[str, _Counts]:
    """For each of my list entries: how many of the person's papers I may read now, how
    many of those are new to me since my last visit, how many expire soon, and how many of
    my shares ended since. The database counts, under the policy's condition in SQL
    (`readable_papers`), so a page costs the same whatever the persons hold."""
    now = ctx.clock()
    mine = [member.id for member in members]
    last = DeskVisit.visited_at
    my_visit = (DeskVisit.professional_id == ctx.actor.id) & (
        DeskVisit.person_id == AccompanimentMember.person_id
    )
    seen = aliased(DeskVisit)
    newly_shared = covered_by(
        live_grants(mine, now)
        .join(seen, (seen.professional_id == ctx.actor.id) & (seen.person_id == Grant.person_id))
        .where(Grant.created_at > seen.visited_at)
    )
    is_new = last.is_not(None) & ((Document.created_at > last) | newly_shared)
    papers = ctx.session.execute(
        select(
            AccompanimentMember.id,
            func.count(),
            func.sum(case((is_new, 1), else_=0)),
            func.sum(case((expiring_soon(now.date()), 1), else_=0)),
        )
        .select_from(Document)
        .join(AccompanimentMember, AccompanimentMember.person_id == Document.person_id)
        .outerjoin(DeskVisit, my_visit)
        .where(
            AccompanimentMember.id.in_(mine),
            Document.deleted_at.is_(None),
            readable_papers(mine, now, helper=does_digital_inclusion(ctx.session, ctx.actor.id)),
        )
        .group_by(AccompanimentMember.id)
    )
    counts = {member_id: _Counts() for member_id in mine}
    for member_id, shared, new, expiring in papers:
        counts[member_id] = _Counts(shared, new, expiring)
    # My shares: the categories newly shared whole, and the shares that ended since.
    end = func.coalesce(Grant.revoked_at, Grant.expires_at)
    ended = (end <= now) & (last.is_(None) | (end > last))
    new_category = Grant.document_id.is_(None) & grant_is_live(now) & (Grant.created_at > last)
    shares = ctx.session.execute(
        select(
            Grant.member_id,
            func.count(distinct(case((new_category, Grant.category)))),
            func.sum(case((ended, 1), else_=0)),
        )
        .join(AccompanimentMember, AccompanimentMember.id == Grant.member_id)
        .outerjoin(DeskVisit, my_visit)
        .where(Grant.member_id.in_(mine), ended | new_category)
        .group_by(Grant.member_id)
    )
    for member_id, categories, ended_count in shares:
        known = counts[member_id]
        counts[member_id] = known._replace(new=known.new + categories, ended=ended_count)
    return counts


class _Ends(NamedTuple):
    """What my grants say since my last visit: categories newly shared, shares ended."""

    new_categories: list[str]
    ended: list[EndedShare]


def _ends(
    ctx: RequestContext, member: AccompanimentMember, last: datetime | None, now: datetime
) -> _Ends:
    """My grants' news between `last` and `now` (the table counts the same in SQL:
    `_counts`)."""
    since = last or datetime.min.replace(tzinfo=now.tzinfo)
    rows = ctx.session.execute(
        select(
            Grant.document_id, Grant.category, Grant.created_at, Grant.revoked_at, Grant.expires_at
        ).where(Grant.member_id == member.id)
    )
    categories: set[str] = set()
    ended = []
    for document_id, category, created_at, revoked_at, expires_at in rows:
        end = revoked_at or expires_at
        if end is not None and since < end <= now:
            ended.append(EndedShare(ended_at=end, category=category))
        live = revoked_at is None and (expires_at is None or expires_at > now)
        if live and document_id is None and category and created_at > since:
            categories.add(category)
    ended.sort(key=lambda e: e.ended_at, reverse=True)
    return _Ends(sorted(categories), ended)


def _pending_counts(
    ctx: RequestContext,
    rows: list[tuple[AccompanimentMember, Person]],
    mandates: dict[str, list[MandateLine]],
) -> dict[str, int | None]:
    """How many ask to join each person's list, for the persons whose list I may read
    (None for the others). The policy lets a professional read it only under a live
    mandate naming its scope, so it is asked only for those (usually none)."""
    scope = MANDATE_SCOPE[Action.MEMBER_LIST]
    now = ctx.clock()
    readable = [
        person.id
        for member, person in rows
        if any(scope in line.scopes for line in mandates.get(member.id, []))
        and decide(ctx.session, ctx.actor, Action.MEMBER_LIST, person, now=now).allowed
    ]
    counts: dict[str, int | None] = {person.id: None for _, person in rows}
    counts.update((person_id, 0) for person_id in readable)
    if readable:
        asking = ctx.session.execute(
            select(AccompanimentMember.person_id, func.count())
            .where(
                AccompanimentMember.person_id.in_(readable),
                AccompanimentMember.status == "requested",
                AccompanimentMember.ended_at.is_(None),
            )
            .group_by(AccompanimentMember.person_id)
        )
        counts.update((person_id, count) for person_id, count in asking)
    return counts


def _mandates(
    ctx: RequestContext, members: list[AccompanimentMember]
) -> dict[str, list[MandateLine]]:
    """My live mandates by list entry (none unless my organisation does digital inclusion:
    the policy counts them only then), soonest to end first."""
    if not members or not does_digital_inclusion(ctx.session, ctx.actor.id):
        return {}
    rows = ctx.session.scalars(
        select(Mandate)
        .where(
            Mandate.member_id.in_([member.id for member in members]),
            Mandate.revoked_at.is_(None),
            Mandate.expires_at > ctx.clock(),
        )
        .order_by(Mandate.expires_at)
    )
    lines: dict[str, list[MandateLine]] = {}
    for mandate in rows:
        lines.setdefault(mandate.member_id, []).append(
            MandateLine(tuple(mandate.scopes.split()), mandate.expires_at)
        )
    return lines


def desk_person(ctx: RequestContext, *, person_id: str, after: str | None = None) -> DeskPerson:
    """One person's page on my desk (404 unless I am on their list): a page of the papers I
    may read, from the one after `after`. The first page is my visit, noted: what is new
    is reckoned from my previous visit, then that visit becomes this one.

    The database picks the papers (`readable_papers`, the policy's condition in SQL) and
    the policy still says yes to each title shown, so a page costs the same with 40 papers
    or 1,000; every title shown is listed on the person's log first, once a page."""
    person, _ = require_person(ctx, Action.PERSON_DESK, person_id)
    member = active_member(ctx.session, person.id, ctx.actor.id)
    assert member is not None and ctx.actor.id is not None
    now = ctx.clock()
    mine = (
        (Document.person_id == person.id)
        & Document.deleted_at.is_(None)
        & readable_papers(
            [member.id], now, helper=does_digital_inclusion(ctx.session, ctx.actor.id)
        )
    )
    shared = ctx.session.scalar(select(func.count()).select_from(Document).where(mine)) or 0
    query = select(Document).where(mine)
    if after is not None:
        anchor = ctx.session.scalar(select(Document).where(mine, Document.id == after))
        if anchor is None:
            raise InvalidInput("unknown page cursor", field="after")
        query = query.where(listed_after(anchor))
    rows = list(ctx.session.scalars(query.order_by(*NEWEST_FIRST).limit(PAPERS_PAGE + 1)))
    page = rows[:PAPERS_PAGE]
    visit = ctx.session.get(DeskVisit, (ctx.actor.id, person.id))
    last = visit.visited_at if visit is not None else None
    new: list[Document] = []
    expiring: list[Document] = []
    ends = _Ends([], [])
    if after is None:
        if last is None:
            new = page  # a first visit: all is new, and this page shows the newest
        else:
            newly_shared = covered_by(live_grants([member.id], now).where(Grant.created_at > last))
            new = list(
                ctx.session.scalars(
                    select(Document)
                    .where(mine, (Document.created_at > last) | newly_shared)
                    .order_by(*NEWEST_FIRST)
                    .limit(PAPERS_PAGE)
                )
            )
        expiring = list(
            ctx.session.scalars(
                select(Document)
                .where(mine, expiring_soon(now.date()))
                .order_by(Document.valid_until, *NEWEST_FIRST)
                .limit(PAPERS_PAGE)
            )
        )
        ends = _ends(ctx, member, last, now)
    # One listing on the person's log for all the titles of the page, written (by the
    # audit's own transaction) before this one writes anything.
    # (A paper on several lists is one object: the session holds one per row.)
    distinct = list(dict.fromkeys([*page, *new, *expiring]))
    shown = {view.id: view for view in describable_papers(ctx, person.id, distinct)}
    if after is None:
        if visit is None:
            ctx.session.add(
                DeskVisit(professional_id=ctx.actor.id, person_id=person.id, visited_at=now)
            )
        else:
            visit.visited_at = now
        ctx.session.flush()
    return DeskPerson(
        person_id=person.id,
        display_name=person.display_name,
        member_id=member.id,
        mission=member.mission,
        referent=member.referent,
        shared=shared,
        papers=[shown[d.id] for d in page if d.id in shown],
        older=page[-1].id if len(rows) > PAPERS_PAGE else None,
        paged=after is not None,
        new_papers=[shown[d.id] for d in new if d.id in shown],
        new_categories=ends.new_categories,
        ended=ends.ended,
        last_visit=last,
        pending=_pending(ctx, person),
        unseen_deposits=_unseen_deposits(ctx.session, member),
        mandates=_mandates(ctx, [member]).get(member.id, []),
        helper=decide(ctx.session, ctx.actor, Action.MANDATE_PREPARE, person, now=now).allowed,
        may_issue_recovery=decide(
            ctx.session, ctx.actor, Action.RECOVERY_ISSUE, person, now=now
        ).allowed,
        expiring=[shown[d.id] for d in expiring if d.id in shown],
    )


def _pending(ctx: RequestContext, person: Person) -> list[PendingRequest] | None:
    """Requests to join the person's list, if I may read that list (as the person's list
    page shows them); None otherwise."""
    if not decide(ctx.session, ctx.actor, Action.MEMBER_LIST, person, now=ctx.clock()).allowed:
        return None
    rows = ctx.session.execute(
        select(Professional.display_name, Organization.name)
        .join(AccompanimentMember, AccompanimentMember.professional_id == Professional.id)
        .join(Organization, Organization.id == Professional.organization_id)
        .where(
            AccompanimentMember.person_id == person.id,
            AccompanimentMember.status == "requested",
            AccompanimentMember.ended_at.is_(None),
        )
        .order_by(AccompanimentMember.created_at)
    )
    return [PendingRequest(name, organization) for name, organization in rows]


def _unseen_deposits(session: Session, member: AccompanimentMember) -> int:
    """My deposits the person has not yet been shown."""
    return (
        session.scalar(
            select(func.count())
            .select_from(SharingNotice)
            .where(
                SharingNotice.member_id == member.id,
                SharingNotice.kind == "deposit",
                SharingNotice.seen_at.is_(None),
            )
        )
        or 0
    )


def desk_paper(ctx: RequestContext, *, person_id: str, document_id: str) -> DocumentView:
    """One of the person's papers shared with me, described (and so on their log); 404 for
    anything else: another person's paper, one not shared, one in the trash."""
    person, _ = require_person(ctx, Action.PERSON_DESK, person_id)
    document = find_document_for(ctx, document_id)
    if document is None or document.person_id != person.id:
        require(ctx, Action.DOCUMENT_DESCRIBE, None)
    return describe_document_for(ctx, document_id=document_id)
