"""Pages of the audit log: the person's "who saw my papers", a professional's own actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from locker.access_log import LogEntry
from locker.documents import DocumentView
from sharing import audit_log
from web.audit.words import ACTIONS, DAYS, DELETED_PAPER, MONTHS, WHO
from web.auth import web_user
from web.context import request_context
from web.messages import language

pages = Blueprint("audit", __name__)

# The people this serves live in France: times read as on their own clocks.
LOCAL_TIME = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class LogLine:
    """One entry as a sentence, with its pictogram."""

    seq: int
    picto: str
    sentence: str
    denied: bool


def when(at: datetime, lang: str) -> str:
    """'le mardi 3 mars à 14:05' / 'on Tuesday 3 March at 14:05', in French local time."""
    local = at.astimezone(LOCAL_TIME)
    day = DAYS[lang][local.weekday()]
    month = MONTHS[lang][local.month - 1]
    if lang == "fr":
        return f"le {day} {local.day} {month} {local.year} à {local:%H:%M}"
    return f"on {day} {local.day} {month} {local.year} at {local:%H:%M}"


def _who(entry: LogEntry, person_id: str | None, lang: str) -> tuple[str, bool]:
    if entry.actor_kind == "person" and entry.actor_id == person_id:
        return WHO[lang]["you"], True
    if entry.actor_kind == "professional" and entry.actor_name:
        organization = f", {entry.actor_organization}" if entry.actor_organization else ""
        return f"{entry.actor_name}{organization}", False
    return WHO[lang].get(entry.actor_kind, WHO[lang]["someone"]), False


def sentence(
    entry: LogEntry, documents: dict[str, DocumentView], person_id: str | None, lang: str
) -> LogLine:
    """The entry in plain words: who, did (or could not do) what, to which paper, when."""
    picto, words = ACTIONS.get(entry.action, ("•", {}))
    done, infinitive = words.get(lang, (entry.action, entry.action))
    who, is_you = _who(entry, person_id, lang)
    paper = ""
    if entry.document_id is not None:
        view = documents.get(entry.document_id)
        paper = f" « {view.title} »" if view is not None else f" {DELETED_PAPER[lang]}"
    if lang == "fr":
        if entry.outcome == "denied":
            verb = f"{'n’avez' if is_you else 'n’a'} pas pu {infinitive}"
        else:
            verb = f"{'avez' if is_you else 'a'} {done}"
    elif entry.outcome == "denied":
        verb = f"could not {infinitive or entry.action}"
    else:
        verb = done
    text = f"{who} {verb}{paper}, {when(entry.at, lang)}."
    denied = entry.outcome == "denied"
    return LogLine(entry.seq, "⛔" if denied else picto, text, denied)


@pages.get("/access-log")
@login_required  # type: ignore[untyped-decorator]
def access_log() -> Any:
    user = web_user()
    if user is None or not user.is_person:
        abort(404)
    person_id = user.signed_in.user.id
    paper = request.args.get("document") or None
    raw_before = request.args.get("before", "")
    before = int(raw_before) if raw_before.isdigit() and len(raw_before) < 12 else None
    log = audit_log.read_access_log_for(
        request_context(),
        person_id=person_id,
        document_id=paper,
        before=before,
        limit=50,
        with_documents=True,
    )
    lang = language()
    lines = [sentence(e, log.documents, person_id, lang) for e in log.entries]
    older = log.entries[-1].seq if len(log.entries) == 50 else None
    return render_template(
        "audit/access_log.html",
        lines=lines,
        documents=list(log.documents.values()),
        selected=paper,
        older=older,
    )


@pages.get("/pro/my-actions")
@login_required  # type: ignore[untyped-decorator]
def my_actions() -> Any:
    user = web_user()
    if user is None or user.is_person:
        abort(404)
    raw_before = request.args.get("before", "")
    before = int(raw_before) if raw_before.isdigit() and len(raw_before) < 12 else None
    entries = audit_log.list_own_actions(request_context(), before=before, limit=50)
    lang = language()
    older = entries[-1].seq if len(entries) == 50 else None
    return render_template(
        "audit/my_actions.html",
        entries=entries,
        picto=lambda action: ACTIONS.get(action, ("•", {}))[0],
        when=lambda at: when(at, lang),
        older=older,
    )
