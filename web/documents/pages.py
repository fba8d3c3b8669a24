"""The documents pages: a person's papers, adding one, its content, thumbnail, preview
and trash."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from locker.documents import CATEGORIES, UPLOAD_KEY
from locker.errors import LockerError
from locker.trash import RETENTION
from sharing import documents as docs
from sharing.trash import list_trash_for, restore_document_for, trash_document_for
from web.auth import pages_for_signed_in, person_id_or_404
from web.context import request_context, services
from web.documents.uploads import (
    parse_valid_until,
    sanitize_limits,
    upload_request,
    uploaded_files,
)
from web.forms import (
    ConfirmForm,
    EditPaperForm,
    Problem,
    UploadForm,
    asks_first,
    done,
    form_problems,
    refused,
    sent,
)
from web.i18n import category_choices, megabytes, message
from web.responses import document_response

pages = Blueprint("documents", __name__)
pages_for_signed_in(pages)


@pages.get("/papers")
def papers() -> Any:
    person_id = person_id_or_404()
    after = request.args.get("after") or None
    page = docs.page_documents_for(request_context(), person_id=person_id, after=after)
    views = page.documents
    readers = docs.readers_of_papers(request_context(), person_id=person_id, papers=views)
    # By kind of paper, in the order the add form offers them.
    shelves = [(c, [v for v in views if v.category == c]) for c in CATEGORIES]
    return render_template(
        "papers.html",
        documents=views,
        shelves=[(category, papers) for category, papers in shelves if papers],
        readers=readers,
        confirm=ConfirmForm(),
        older=page.next_after,
        paged=after is not None,
    )


@pages.route("/papers/new", methods=["GET", "POST"])
def add_paper() -> Any:
    form = UploadForm()
    problems, status = [], 200
    if form.validate_on_submit():
        files = uploaded_files(request.files)
        if not files:
            problems, status = [Problem("camera", message("no_file"))], 422
        else:
            try:
                _upload(files, form)
            except LockerError as refusal:
                # The refusal is shown on the form itself, so the title and category the
                # person typed are still there for the next try.
                field = refusal.params.get("field")
                problems, status = refused(refusal, field if field in _TEXT_FIELDS else "camera")
            else:
                return done("added", "documents.papers")
    elif request.method == "POST":
        problems, status = form_problems(form), 400
    limit_bytes = services().settings.max_upload_bytes
    return (
        render_template(
            "paper_new.html",
            upload_key=_upload_key(),
            form=form,
            problems=problems,
            categories=category_choices(),
            limit_mb=megabytes(limit_bytes),
            limit_bytes=limit_bytes,
        ),
        status,
    )


def _upload_key() -> str:
    """This form's upload key: the one it was sent with when shown again after a refusal (so
    a retry stays the same upload), else a new one."""
    given = request.form.get("upload_key", "")
    return given if UPLOAD_KEY.fullmatch(given) else uuid.uuid4().hex


# A refusal naming one of these is shown beside it; any other concerns the file itself.
_TEXT_FIELDS = {"title", "category", "valid_until"}


def _upload(files: list[FileStorage], form: UploadForm) -> None:
    upload = upload_request(
        files, form.title.data or "", form.category.data or "other", form.valid_until.data
    )
    docs.upload_document_for(request_context(), person_id=person_id_or_404(), upload=upload)


@pages.get("/papers/<document_id>")
def paper(document_id: str) -> Any:
    view = docs.describe_document_for(request_context(), document_id=document_id)
    return render_template(
        "paper.html",
        document=view,
        confirm=ConfirmForm(),
        edit=EditPaperForm(formdata=None, title=view.title, category=view.category),
        categories=category_choices(),
    )


@pages.get("/papers/<document_id>/content")
def paper_content(document_id: str) -> Response:
    opened = docs.open_document_for(request_context(), document_id=document_id)
    return document_response(opened, inline=request.args.get("view") == "1")


@pages.post("/papers/<document_id>/delete")
@asks_first(
    _l("Mettre ce papier à la corbeille ?"),
    _l("Vous pourrez le remettre pendant 30 jours. Ensuite, il sera effacé."),
    _l("Oui, mettre à la corbeille"),
    "documents.paper",
    "document_id",
)
def delete_paper(document_id: str) -> Any:
    sent(ConfirmForm())
    # Deleting moves to the trash: restorable for 30 days, then purged.
    trash_document_for(request_context(), document_id=document_id)
    return done("trashed", "documents.papers")


@pages.post("/papers/<document_id>/edit")
def edit_paper(document_id: str) -> Any:
    form = sent(EditPaperForm())
    docs.edit_document_for(
        request_context(),
        document_id=document_id,
        title=form.title.data or None,
        category=form.category.data or None,
        valid_until=parse_valid_until(form.valid_until.data),
    )
    return done("paper_edited", "documents.paper", document_id=document_id)


@pages.get("/papers/<document_id>/thumbnail")
def paper_thumbnail(document_id: str) -> Response:
    opened = docs.open_document_for(request_context(), document_id=document_id, part="thumbnail")
    return document_response(opened, inline=True)


@pages.get("/papers/<document_id>/preview")
def paper_preview(document_id: str) -> Response:
    opened = docs.open_document_for(
        request_context(), document_id=document_id, part="preview", limits=sanitize_limits()
    )
    return document_response(opened, inline=True)


@pages.get("/trash")
def trash() -> Any:
    views = list_trash_for(request_context(), person_id=person_id_or_404())
    return render_template(
        "trash.html", documents=views, retention=RETENTION, confirm=ConfirmForm()
    )


@pages.post("/trash/<document_id>/restore")
def restore_paper(document_id: str) -> Any:
    sent(ConfirmForm())
    restore_document_for(request_context(), document_id=document_id)
    return done("restored", "documents.papers")
