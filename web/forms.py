"""Forms (Flask-WTF: every form carries and checks a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class SignInForm(FlaskForm):  # type: ignore[misc]
    identifier = StringField("identifier", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=1024)])


class UploadForm(FlaskForm):  # type: ignore[misc]
    file = FileField("file")
    title = StringField("title", validators=[Length(max=200)])
    # Rendered as a <select> by the template; the service refuses an unknown category.
    category = StringField("category", default="other", validators=[Length(max=32)])
    valid_until = StringField("valid_until", validators=[Length(max=32)])  # YYYY-MM-DD, or ""


class CreatePersonForm(FlaskForm):  # type: ignore[misc]
    username = StringField("username", validators=[DataRequired(), Length(max=64)])
    display_name = StringField("display_name", validators=[DataRequired(), Length(max=200)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=1024)])
    recovery_card = StringField("recovery_card")  # "1": print the card now (ticked by default)


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A form with nothing but its CSRF token (sign out, delete)."""


class EditPaperForm(FlaskForm):  # type: ignore[misc]
    """Rename and re-file a paper; the service checks the values."""

    title = StringField("title", validators=[Length(max=200)])
    category = StringField("category", validators=[Length(max=32)])


class ChangePasswordForm(FlaskForm):  # type: ignore[misc]
    """The current password, then the new one (the service checks length and difference)."""

    current_password = PasswordField(
        "current_password", validators=[DataRequired(), Length(max=1024)]
    )
    new_password = PasswordField("new_password", validators=[DataRequired(), Length(max=1024)])
