"""The sharing pages' forms (Flask-WTF). CSRFProtect has checked every POST's token before
a view reads its form; the services check the values themselves and answer a refusal in
the person's words, so these forms only say which fields each page sends."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import PasswordField, SelectMultipleField, StringField
from wtforms.validators import Length

from web.forms import required


class _Form(FlaskForm):  # type: ignore[misc]
    def text(self, name: str) -> str:
        """A field's value, "" when the page did not send it."""
        value = self[name].data
        return value if isinstance(value, str) else ""


class AddMemberForm(_Form):
    professional_code = StringField("professional_code", validators=[Length(max=64)])
    mission = StringField("mission", validators=[Length(max=200)])


class ReferentForm(_Form):
    member_id = StringField("member_id")


class ShareCategoryForm(_Form):
    member_id = StringField("member_id")
    category = StringField("category")


class SwitchSharingForm(_Form):
    on = StringField("on")  # "1" to share, anything else to stop


def _scopes() -> SelectMultipleField:
    # The service refuses an unknown scope, in the person's words.
    return SelectMultipleField("scopes", choices=[], validate_choice=False)


class MandateForm(_Form):
    """A mandate given on the person's own screen, confirmed with their password."""

    member_id = StringField("member_id")
    scopes = _scopes()
    duration = StringField("duration")
    password = PasswordField("password")


class DeskMandateForm(_Form):
    """A mandate given at the professional's desk, confirmed with the person's credentials."""

    scopes = _scopes()
    duration = StringField("duration")
    username = StringField("username")
    password = PasswordField("password")


class NoticesSeenForm(_Form):
    reset_id = SelectMultipleField("reset_id", choices=[], validate_choice=False)


class RecoverForm(_Form):
    username = StringField("username", validators=[required("Entrez votre identifiant.")])
    code = StringField("code", validators=[required("Entrez le code de secours.")])
    new_password = PasswordField(
        "new_password", validators=[required("Choisissez un nouveau mot de passe.")]
    )


class DepositForm(_Form):
    file = FileField("file")
    title = StringField("title")
    category = StringField("category", default="other")


class JoinForm(_Form):
    username = StringField("username")
    mission = StringField("mission", validators=[Length(max=200)])
