"""Audit-log services as seen by an actor: each asks the policy first, refusals are logged."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from locker import access_log
from locker import documents as core
from locker.access_log import LogEntry
from locker.audit import append_allowed
from locker.context import RequestContext
from locker.documents import DocumentView
from locker.errors import ProofUnavailable
from locker.models import AuditRecord, Person
from locker.proofs import InclusionProof, inclusion_proof
from sharing.counter import counter_names
from sharing.decisions import Action, Decision
from sharing.errors import AccessDenied
from sharing.guard import find_person, require_person
from sharing.policy import decide


@dataclass(frozen=True)
class AccessLog:
    """A person's access log page: entries newest first, and their papers' descriptions."""

    person: Person
    entries: list[LogEntry]
    documents: dict[str, DocumentView] = field(default_factory=dict)


# How many of the newest papers the access log's filter offers (any other is reached from
# its own page's "who saw it" link).
FILTER = 50


def read_access_log_for(
    ctx: RequestContext,
    *,
    person_id: str,
    document_id: str | None = None,
    before: int | None = None,
    limit: int = 100,
    with_documents: bool = False,
    also_name: Iterable[str] = (),
    by: str = "anyone",
) -> AccessLog:
    """Who did what to this person's papers, for the person only; 404 for anyone else."""
    person, _ = require_person(ctx, Action.PERSON_READ_ACCESS_LOG, person_id)
    entries = access_log.person_access_log(
        ctx.session, person, document_id=document_id, before=before, limit=limit, by=by
    )
    # A counter link is named by whom the person made it for ("CAF de Lyon").
    counters = {e.actor_id for e in entries if e.actor_kind == "counter" and e.actor_id}
    names = counter_names(ctx.session, ctx.keyring, person, counters)
    entries = [
        replace(entry, actor_name=names[entry.actor_id])
        if entry.actor_kind == "counter" and entry.actor_id in names
        else entry
        for entry in entries
    ]
    documents: dict[str, DocumentView] = {}
    if with_documents:
        # The papers the page names, and the newest for its filter: never every title.
        named = {entry.document_id for entry in entries if entry.document_id}
        named.update(also_name or ())
        documents = core.describe_documents(ctx.session, ctx.keyring, person, named)
        newest = core.page_documents(ctx.session, ctx.keyring, person, after=None, limit=FILTER)
        documents.update((view.id, view) for view in newest.documents)
    return AccessLog(person=person, entries=entries, documents=documents)


def _require_global(ctx: RequestContext, action: Action) -> Decision:
    decision = decide(ctx.session, ctx.actor, action, None, now=ctx.clock())
    if not decision.allowed:
        ctx.record_denied(action, decision.reason)
        raise AccessDenied(decision.reason)
    return decision


def list_own_actions(
    ctx: RequestContext, *, before: int | None = None, limit: int = 100
) -> list[LogEntry]:
    """A professional's own actions, newest first (ids only); 403 for anyone else."""
    _require_global(ctx, Action.AUDIT_OWN_ACTIONS)
    assert ctx.actor.id is not None
    entries = access_log.actions_by(
        ctx.session, ctx.actor.kind, ctx.actor.id, before=before, limit=limit
    )
    # A refusal tells the actor nothing of its target: a probe of someone else's paper
    # reads exactly like a probe of an id that does not exist.
    return [
        replace(entry, person_id=None, document_id=None) if entry.outcome == "denied" else entry
        for entry in entries
    ]


def export_log_by(ctx: RequestContext, *, start: int = 0, end: int | None = None) -> Iterator[Any]:
    """The whole log (ids only, no content) for an auditor; the export itself is recorded.

    The export's record is committed before the first row is read, so the log shows
    every export, including one interrupted half-way.
    """
    decision = _require_global(ctx, Action.AUDIT_EXPORT)
    with ctx.session_factory() as recorder, recorder.begin():
        append_allowed(recorder, ctx.clock, Action.AUDIT_EXPORT, decision.reason, ctx.actor)
    return _export(ctx.session_factory, start, end)


def _export(session_factory: sessionmaker[Session], start: int, end: int | None) -> Iterator[Any]:
    # Its own session: the rows stream after the view has returned.
    with session_factory() as reader:
        yield from access_log.export_rows(reader.connection(), start=start, end=end)


def prove_inclusion_for(ctx: RequestContext, *, index: int, tree_size: int) -> InclusionProof:
    """A record's inclusion proof for an auditor or the person it concerns; 404 otherwise."""
    record = ctx.session.get(AuditRecord, index) if index >= 0 else None
    if record is None:
        raise ProofUnavailable("no such record")
    person = find_person(ctx.session, record.person_id or "")
    decision = decide(ctx.session, ctx.actor, Action.AUDIT_PROVE_INCLUSION, person, now=ctx.clock())
    if not decision.allowed:
        ctx.record_denied(Action.AUDIT_PROVE_INCLUSION, decision.reason, person_id=record.person_id)
        raise ProofUnavailable("no such record")
    return inclusion_proof(ctx.session, index, tree_size)
