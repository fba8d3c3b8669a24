"""Forms (Flask-WTF: every form carries and checks a CSRF token) and what the page
actions share: the problems shown on a form, asking first, and the end of an action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from locker.errors import LockerError
from web.context import db
from web.errors import status_for
from web.i18n import message

F = TypeVar("F", bound=Callable[..., Any])
FormT = TypeVar("FormT", bound=FlaskForm)
T = TypeVar("T")


class Form(FlaskForm):  # type: ignore[misc]
    """Every page form: its CSRF token checked, its fields read as text."""

    def text(self, name: str) -> str:
        """A field's value, "" when the page did not send it."""
        value = self[name].data
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with what the person sent, in words, and the id of its field (the
    error summary links to it; None when it concerns the whole form)."""

    field: str | None
    message: str


def form_problems(form: FlaskForm) -> list[Problem]:
    """What the form's own checks found: an expired form, else each field's first problem."""
    if form.errors.get("csrf_token"):
        return [Problem(None, message("csrf"))]
    found = [
        Problem(name, str(errors[0]))
        for name, errors in form.errors.items()
        if errors and name != "csrf_token"
    ]
    return found or [Problem(None, message("bad_request"))]


def refused(refusal: LockerError, field: str | None = None) -> tuple[list[Problem], int]:
    """A service's refusal in the person's words, beside `field`, and its status."""
    return [Problem(field, message(refusal.code, **refusal.params))], status_for(refusal)


def form_acted(
    form: FlaskForm, act: Callable[[], T], field_of: Callable[[LockerError], str | None]
) -> tuple[bool, T | None, list[Problem], int]:
    """A page's form, and `act` once it is sent and passes its checks: whether `act` was
    done, its result, else the problems to show (the service's refusal beside the field
    `field_of` names, or the form's own) and the page's status."""
    if form.validate_on_submit():
        try:
            result = act()
        except LockerError as refusal:
            problems, status = refused(refusal, field_of(refusal))
            return False, None, problems, status
        return True, result, [], 200
    if request.method == "POST":
        return False, None, form_problems(form), 400
    return False, None, [], 200


def sent(form: FormT) -> FormT:
    """The form once it passes its checks (its CSRF token first); else a 400."""
    if not form.validate_on_submit():
        abort(400)
    return form


def done(said: str | None, endpoint: str, **args: Any) -> Response:
    """The end of a page action that worked: its changes committed, then the message
    `said` (a code of `web.i18n.MESSAGES`, if any) shown on the `endpoint` it leads to."""
    db().commit()
    if said is not None:
        flash(message(said), "info")
    return redirect(url_for(endpoint, **args))


def asks_first(
    question: str,
    consequence: str,
    yes: str,
    back: str,
    *back_args: str,
    unless: Callable[[], bool] | None = None,
) -> Callable[[F], F]:
    """A page action that takes something away asks first: until the person confirms, the
    view answers a page with the question, which posts the same form again (its fields
    kept) with `confirmed=1`; "no" leads to `back` (an endpoint, given these view args)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def asking(**kwargs: Any) -> Any:
            if request.form.get("confirmed") == "1" or (unless is not None and unless()):
                return view(**kwargs)
            kept = [
                (name, value)
                for name, value in request.form.items(multi=True)
                if name not in {"csrf_token", "confirmed"}
            ]
            return render_template(
                "confirm.html",
                question=question,
                consequence=consequence,
                yes=yes,
                back=url_for(back, **{arg: kwargs[arg] for arg in back_args}),
                kept=kept,
            )

        return cast(F, asking)

    return decorate


def required(words: str) -> DataRequired:
    """A field that must be filled, and what to say when it is not."""
    return DataRequired(message=_l(words))


class SignInForm(Form):
    identifier = StringField(
        "identifier", validators=[required("Entrez votre identifiant."), Length(max=320)]
    )
    password = PasswordField(
        "password", validators=[required("Entrez votre mot de passe."), Length(max=1024)]
    )


class UploadForm(Form):
    file = FileField("file")
    title = StringField("title", validators=[Length(max=200)])
    # Rendered as a <select> by the template; the service refuses an unknown category.
    category = StringField("category", default="other", validators=[Length(max=32)])
    valid_until = StringField("valid_until", validators=[Length(max=32)])  # YYYY-MM-DD, or ""


class CreatePersonForm(Form):
    username = StringField("username", validators=[DataRequired(), Length(max=64)])
    display_name = StringField("display_name", validators=[DataRequired(), Length(max=200)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=1024)])
    recovery_card = StringField("recovery_card")  # "1": print the card now (ticked by default)


class ConfirmForm(Form):
    """A form with nothing but its CSRF token (sign out, delete)."""


class EditPaperForm(Form):
    """Rename and re-file a paper; the service checks the values."""

    title = StringField("title", validators=[Length(max=200)])
    category = StringField("category", validators=[Length(max=32)])
    valid_until = StringField("valid_until", validators=[Length(max=32)])  # "" clears it


class CloseAccountForm(Form):
    """The person's password, typed again to close their account."""

    password = PasswordField(
        "password", validators=[required("Entrez votre mot de passe."), Length(max=1024)]
    )


class AccountForm(Form):
    """The user's own name and (a person's) username, as they correct them."""

    display_name = StringField("display_name", validators=[Length(max=200)])
    username = StringField("username", validators=[Length(max=64)])
    expiry_reminders = StringField("expiry_reminders")  # "1" when ticked


class SecondFactorForm(Form):
    """A code of the authenticator app (or, at sign-in, a backup code)."""

    code = StringField(
        "code", validators=[required("Entrez le code de l'application."), Length(max=64)]
    )


class PasskeyForm(Form):
    """The browser's answer to a passkey's options (JSON, made by static/passkey.js)."""

    credential = StringField(
        "credential", validators=[required("La clé d'accès n'a pas répondu."), Length(max=65536)]
    )


class NewPasskeyForm(PasskeyForm):
    """A new passkey: the browser's answer, and the name its owner gives it."""

    name = StringField("name", validators=[Length(max=100)])


class ChangePasswordForm(Form):
    """The current password, then the new one (the service checks length and difference)."""

    current_password = PasswordField(
        "current_password",
        validators=[required("Entrez votre mot de passe actuel."), Length(max=1024)],
    )
    new_password = PasswordField(
        "new_password",
        validators=[required("Choisissez un nouveau mot de passe."), Length(max=1024)],
    )
