"""Pages of the audit log: the person's "who saw my papers", a professional's own actions."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from babel import Locale
from babel.dates import format_skeleton, match_skeleton
from flask import Blueprint, render_template, request
from flask_babel import format_decimal, format_time, get_locale, get_timezone, to_user_timezone

from locker.access_log import LogEntry
from locker.documents import DocumentView
from sharing import audit_log
from web.audit.words import (
    A_PAPER,
    ACTIONS,
    AT_TIME,
    COUNTER_WHO,
    DELETED_PAPER,
    LOOKED,
    ON_DAY,
    REFUSED,
    REFUSED_YOU,
    WHO,
)
from web.auth import pages_for_signed_in, person_id_or_404, professional_or_404
from web.context import request_context

pages = Blueprint("audit", __name__)
pages_for_signed_in(pages)
_PAGE = 50  # entries a page; the link to older ones starts after the last


@dataclass(frozen=True)
class LogLine:
    """One entry as a sentence, with its pictogram."""

    seq: int
    picto: str
    sentence: str
    denied: bool


DAY = "yMMMMEEEEd"


@functools.cache
def _day_skeleton(locale: str) -> str:
    # Babel matches a skeleton to the locale's nearest one on every call, most of a log
    # page's cost: matched once per language instead.
    return match_skeleton(DAY, Locale.parse(locale).datetime_skeletons) or DAY


def when(at: datetime) -> tuple[str, str]:
    """The day and the time of `at`, in the person's language and time zone."""
    locale = get_locale()
    day = format_skeleton(_day_skeleton(str(locale)), at, tzinfo=get_timezone(), locale=locale)
    return day, format_time(at, "short")


def _who(entry: LogEntry, reader_id: str) -> str | None:
    """Who did it, or None for the reader themselves."""
    if entry.actor_id == reader_id:
        return None
    if entry.actor_kind == "professional" and entry.actor_name:
        organization = f", {entry.actor_organization}" if entry.actor_organization else ""
        return f"{entry.actor_name}{organization}"
    if entry.actor_kind == "counter" and entry.actor_name:
        return str(COUNTER_WHO.format(name=entry.actor_name))
    return str(WHO.get(entry.actor_kind, WHO["someone"]))


def sentence(entry: LogEntry, documents: dict[str, DocumentView] | None, reader_id: str) -> LogLine:
    """The entry in plain words: who, did (or could not do) what, to which paper, when.

    Without `documents` (a professional's own actions) a paper is not named.
    """
    paper = ""
    if entry.document_id is not None and documents is None:
        paper = str(A_PAPER)
    elif entry.document_id is not None and documents is not None:
        view = documents.get(entry.document_id)
        paper = f"« {view.title} »" if view is not None else str(DELETED_PAPER)
    who = _who(entry, reader_id)
    known = ACTIONS.get(entry.action)
    if known is None:
        said = f"{who or WHO['you']} : {entry.action} {paper}"
    elif entry.outcome == "denied":
        attempt = known[3].format(paper=paper)
        said = (REFUSED_YOU if who is None else REFUSED).format(who=who, attempt=attempt)
    else:
        said = (known[2] if who is None else known[1]).format(who=who, paper=paper)
    day, time = when(entry.at)
    denied = entry.outcome == "denied"
    text = AT_TIME.format(sentence=said.strip(), date=day, time=time)
    return LogLine(entry.seq, "⛔" if denied else (known[0] if known else "•"), text, denied)


@pages.get("/access-log")
def access_log() -> Any:
    person_id = person_id_or_404()
    paper = request.args.get("document") or None
    before = _before()
    # Others first, 50 at a time; the person's own last 200 records folded by day below.
    mine = audit_log.read_access_log_for(
        request_context(), person_id=person_id, document_id=paper, limit=200, by="self"
    )
    log = audit_log.read_access_log_for(
        request_context(),
        person_id=person_id,
        document_id=paper,
        before=before,
        limit=_PAGE,
        with_documents=True,
        also_name=[paper or "", *(entry.document_id or "" for entry in mine.entries)],
        by="others",
    )
    return render_template(
        "audit/access_log.html",
        lines=[sentence(e, log.documents, person_id) for e in log.entries],
        own_lines=_folded(mine.entries, log.documents, person_id) if before is None else [],
        documents=list(log.documents.values()),
        selected=paper,
        older=log.entries[-1].seq if len(log.entries) == _PAGE else None,
    )


# What the person does to look at their own papers: one line a day says how often.
_LOOKING = {
    "document:thumbnail",
    "document:describe",
    "document:preview",
    "document:read",
    "person:list_documents",
    "person:read_access_log",
}


def _folded(
    entries: list[LogEntry], documents: dict[str, DocumentView], person_id: str
) -> list[LogLine]:
    """The person's own records, newest first, their looks folded into one line per day."""
    looks: dict[date, list[LogEntry]] = {}
    lines: list[LogLine | date] = []
    for entry in entries:
        if entry.action in _LOOKING and entry.outcome == "allowed":
            day = to_user_timezone(entry.at).date()
            if day not in looks:
                lines.append(day)
            looks.setdefault(day, []).append(entry)
        else:
            lines.append(sentence(entry, documents, person_id))
    return [line if isinstance(line, LogLine) else _looked(looks[line]) for line in lines]


def _looked(entries: list[LogEntry]) -> LogLine:
    said = LOOKED.format(count=format_decimal(len(entries)))
    text = ON_DAY.format(sentence=said, date=when(entries[0].at)[0])
    return LogLine(entries[0].seq, "👁️", text, denied=False)


@pages.get("/pro/my-actions")
def my_actions() -> Any:
    professional_id = professional_or_404().id
    entries = audit_log.list_own_actions(request_context(), before=_before(), limit=_PAGE)
    lines = [(e, sentence(e, None, professional_id)) for e in entries]
    older = entries[-1].seq if len(entries) == _PAGE else None
    return render_template("audit/my_actions.html", lines=lines, older=older)


def _before() -> int | None:
    """The page asked for: the entries before this sequence number (None: the newest)."""
    raw = request.args.get("before", "")
    return int(raw) if raw.isdigit() and len(raw) < 12 else None
