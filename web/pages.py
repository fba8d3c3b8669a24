"""Server-rendered pages that work without JavaScript. Thin: parse, call one service, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.datastructures import FileStorage

from locker import accounts
from locker.errors import LockerError, WrongCurrentPassword
from locker.models import Person
from sharing import documents as docs
from sharing.accounts import change_own_password, create_person_with_card
from sharing.trash import trash_document_for
from web.auth import (
    WebUser,
    current_actor,
    must_change_password,
    sign_in_browser,
    sign_out_browser,
    web_user,
)
from web.context import Services, db, services
from web.errors import status_for
from web.forms import (
    ChangePasswordForm,
    ConfirmForm,
    CreatePersonForm,
    EditPaperForm,
    SignInForm,
    UploadForm,
)
from web.messages import language, message
from web.responses import document_response
from web.throttle import sign_in_allowed, sign_in_failed
from web.ui import category_choices, text
from web.uploads import parse_valid_until, upload_options, uploaded_files

pages = Blueprint("pages", __name__)

# Pages open to someone whose password another person chose: changing it, signing out,
# and saying "Ce n'était pas moi" about a reset.
OPEN_BEFORE_PASSWORD_CHANGE = frozenset(
    {
        "static",
        "pages.sign_in",
        "pages.sign_out",
        "pages.change_password",
        "pages_sharing.recover",
        "pages_sharing.dispute_reset",
    }
)


@pages.before_app_request
def _own_password_first() -> Any:
    """A person whose password someone else chose goes to the change page first."""
    if request.path.startswith("/api/") or request.endpoint in OPEN_BEFORE_PASSWORD_CHANGE:
        return None
    user = web_user()
    if user is not None and must_change_password(user.signed_in):
        return redirect(url_for("pages.change_password"))
    return None


@pages.route("/account/password", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def change_password() -> Any:
    user = web_user()
    assert user is not None
    form = ChangePasswordForm()
    error, status = None, 200
    identifier = _identifier(user)
    if request.method == "POST" and not sign_in_allowed(identifier):
        # A stolen session must not become a way to guess the password.
        error, status = message("too_many_attempts"), 429
    elif form.validate_on_submit():
        found = services()
        try:
            codes = change_own_password(
                db(),
                found.clock,
                user.signed_in,
                current_password=form.current_password.data or "",
                new_password=form.new_password.data or "",
                fresh_card=True,
            )
        except LockerError as refusal:
            db().rollback()
            if isinstance(refusal, WrongCurrentPassword):
                sign_in_failed(identifier)
            error, status = message(refusal.code, **refusal.params), status_for(refusal)
        else:
            db().commit()
            if not codes:
                flash(message("password_changed"), "info")
                return redirect(url_for("pages.home"))
            # The person's fresh card (the one shown at creation no longer works): once.
            return render_template("change_password.html", form=None, codes=codes)
    elif request.method == "POST":
        error, status = message("csrf" if form.csrf_token.errors else "bad_request"), 400
    forced = must_change_password(user.signed_in)
    return (
        render_template("change_password.html", form=form, error=error, forced=forced, codes=[]),
        status,
    )


def _identifier(user: WebUser) -> str:
    found = user.signed_in.user
    return found.username if isinstance(found, Person) else found.email


@pages.get("/")
def home() -> Any:
    user = web_user()
    if user is None:
        return redirect(url_for("pages.sign_in"))
    return redirect(url_for("pages.papers" if user.is_person else "pages.professional_home"))


@pages.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    form = SignInForm()
    error, status = None, 200
    identifier = form.identifier.data or ""
    if request.method == "POST" and not sign_in_allowed(identifier):
        error, status = message("too_many_attempts"), 429
    elif form.validate_on_submit():
        found = services()
        result = accounts.sign_in(
            db(),
            found.clock,
            identifier=identifier,
            password=form.password.data or "",
            channel="web",
            hours=found.settings.session_hours,
        )
        db().commit()
        if result is not None:
            sign_in_browser(*result)
            return redirect(url_for("pages.home"))
        sign_in_failed(identifier)
        error, status = message("bad_credentials"), 401
    elif request.method == "POST":
        # An incomplete form (or one without its CSRF token) checked no password: it is
        # refused, not counted as a guess.
        error, status = message("bad_credentials"), 401
    return render_template("sign_in.html", form=form, error=error), status


@pages.post("/sign-out")
@login_required  # type: ignore[untyped-decorator]
def sign_out() -> Any:
    form = ConfirmForm()
    user = web_user()
    if form.validate_on_submit() and user is not None:
        accounts.sign_out(db(), services().clock, user.token, user.actor)
        db().commit()
        sign_out_browser()
    return redirect(url_for("pages.sign_in"))


def _person_id() -> str:
    user = web_user()
    if user is None or not user.is_person:
        abort(404)
    return user.signed_in.user.id


@pages.get("/papers")
@login_required  # type: ignore[untyped-decorator]
def papers() -> Any:
    found = services()
    views = docs.list_documents_for(
        db(),
        found.session_factory,
        found.keyring,
        found.clock,
        actor=current_actor(),
        person_id=_person_id(),
    )
    return render_template("papers.html", documents=views, confirm=ConfirmForm())


@pages.route("/papers/new", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def add_paper() -> Any:
    form = UploadForm()
    error = None
    status = 200
    if form.validate_on_submit():
        files = uploaded_files(request.files)
        if not files:
            error, status = message("no_file"), 422
        else:
            try:
                _upload(services(), files, form)
            except LockerError as refusal:
                # The refusal is shown on the form itself, so the title and category the
                # person typed are still there for the next try.
                error = message(refusal.code, **refusal.params)
                status = status_for(refusal)
            else:
                flash(message("added"), "info")
                return redirect(url_for("pages.papers"))
    elif request.method == "POST":
        error, status = message("csrf" if form.csrf_token.errors else "bad_request"), 400
    return (
        render_template(
            "paper_new.html", form=form, error=error, categories=category_choices(language())
        ),
        status,
    )


def _upload(found: Services, files: list[FileStorage], form: UploadForm) -> None:
    upload = files[0]
    docs.upload_document_for(
        db(),
        found.session_factory,
        found.store,
        found.keyring,
        found.clock,
        actor=current_actor(),
        person_id=_person_id(),
        source=upload.stream,
        filename=upload.filename or "",
        title=form.title.data or "",
        category=form.category.data or "other",
        more_sources=[f.stream for f in files[1:]],
        valid_until=parse_valid_until(request.form.get("valid_until")),
        **upload_options(),
    )


@pages.get("/papers/<document_id>")
@login_required  # type: ignore[untyped-decorator]
def paper(document_id: str) -> Any:
    found = services()
    view = docs.describe_document_for(
        db(),
        found.session_factory,
        found.keyring,
        found.clock,
        actor=current_actor(),
        document_id=document_id,
    )
    return render_template(
        "paper.html",
        document=view,
        confirm=ConfirmForm(),
        edit=EditPaperForm(formdata=None, title=view.title, category=view.category),
        categories=category_choices(language()),
    )


@pages.get("/papers/<document_id>/content")
@login_required  # type: ignore[untyped-decorator]
def paper_content(document_id: str) -> Response:
    found = services()
    opened = docs.open_document_for(
        db(),
        found.session_factory,
        found.store,
        found.keyring,
        found.clock,
        actor=current_actor(),
        document_id=document_id,
    )
    return document_response(opened, inline=request.args.get("view") == "1")


@pages.post("/papers/<document_id>/delete")
@login_required  # type: ignore[untyped-decorator]
def delete_paper(document_id: str) -> Any:
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    found = services()
    # Deleting moves to the trash: restorable for 30 days, then purged.
    trash_document_for(
        db(), found.session_factory, found.clock, actor=current_actor(), document_id=document_id
    )
    flash(text("trashed", language()), "info")
    return redirect(url_for("pages.papers"))


@pages.post("/papers/<document_id>/edit")
@login_required  # type: ignore[untyped-decorator]
def edit_paper(document_id: str) -> Any:
    form = EditPaperForm()
    if not form.validate_on_submit():
        abort(400)
    found = services()
    docs.edit_document_for(
        db(),
        found.session_factory,
        found.keyring,
        found.clock,
        actor=current_actor(),
        document_id=document_id,
        title=form.title.data or None,
        category=form.category.data or None,
    )
    db().commit()
    flash(text("paper_updated", language()), "info")
    return redirect(url_for("pages.paper", document_id=document_id))


@pages.route("/pro", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def professional_home() -> Any:
    user = web_user()
    if user is None or user.is_person:
        abort(404)
    form = CreatePersonForm()
    created: str | None = None
    card_codes: list[str] = []
    if form.validate_on_submit():
        found = services()
        # The recovery card is offered (ticked by default) and printed right here.
        person, card_codes = create_person_with_card(
            db(),
            found.keyring,
            found.clock,
            actor=current_actor(),
            username=form.username.data or "",
            display_name=form.display_name.data or "",
            password=form.password.data or "",
            card=request.form.get("recovery_card") == "1",
        )
        db().commit()
        created = person.username
        form = CreatePersonForm(formdata=None)
    return render_template("pro.html", form=form, created=created, card_codes=card_codes)
