"""Pages of the uploads feature: thumbnails in the list, and the trash."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import login_required

from locker.trash import RETENTION
from sharing import documents as docs
from sharing.trash import list_trash_for, restore_document_for
from web.auth import current_actor, web_user
from web.context import db, services
from web.forms import ConfirmForm
from web.messages import language
from web.responses import document_response
from web.ui import text

pages_uploads = Blueprint("pages_uploads", __name__)


def _person_id() -> str:
    user = web_user()
    if user is None or not user.is_person:
        abort(404)
    return user.signed_in.user.id


@pages_uploads.get("/papers/<document_id>/thumbnail")
@login_required  # type: ignore[untyped-decorator]
def paper_thumbnail(document_id: str) -> Response:
    found = services()
    opened = docs.open_document_for(
        db(),
        found.session_factory,
        found.store,
        found.keyring,
        found.clock,
        actor=current_actor(),
        document_id=document_id,
        part="thumbnail",
    )
    return document_response(opened, inline=True)


@pages_uploads.get("/trash")
@login_required  # type: ignore[untyped-decorator]
def trash() -> Any:
    found = services()
    views = list_trash_for(
        db(),
        found.session_factory,
        found.keyring,
        found.clock,
        actor=current_actor(),
        person_id=_person_id(),
    )
    return render_template(
        "trash.html", documents=views, retention=RETENTION, confirm=ConfirmForm()
    )


@pages_uploads.post("/trash/<document_id>/restore")
@login_required  # type: ignore[untyped-decorator]
def restore_paper(document_id: str) -> Any:
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    found = services()
    restore_document_for(
        db(), found.session_factory, found.clock, actor=current_actor(), document_id=document_id
    )
    flash(text("restored", language()), "info")
    return redirect(url_for("pages.papers"))
