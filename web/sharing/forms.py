"""The sharing pages' forms (Flask-WTF). CSRFProtect has checked every POST's token before
a view reads its form; the services check the values themselves and answer a refusal in
the person's words, so these forms only say which fields each page sends."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import PasswordField, SelectMultipleField, StringField
from wtforms.validators import Length

from web.forms import Form, required


def _ticked(name: str) -> SelectMultipleField:
    # Any boxes ticked: the service refuses a value it does not know, in the person's words.
    return SelectMultipleField(name, choices=[], validate_choice=False)


class AddMemberForm(Form):
    professional_code = StringField("professional_code", validators=[Length(max=64)])
    mission = StringField("mission", validators=[Length(max=200)])


class ReferentForm(Form):
    member_id = StringField("member_id")


class ShareCategoryForm(Form):
    member_id = StringField("member_id")
    category = StringField("category")


class PaperReadersForm(Form):
    member_id = _ticked("member_id")


class MandateForm(Form):
    """A mandate given on the person's own screen, confirmed with their password."""

    member_id = StringField("member_id")
    scopes = _ticked("scopes")
    duration = StringField("duration")
    password = PasswordField("password")


class DeskMandateForm(Form):
    """A mandate given at the professional's desk, confirmed with the person's credentials."""

    scopes = _ticked("scopes")
    duration = StringField("duration")
    username = StringField("username")
    password = PasswordField("password")


class NoticesSeenForm(Form):
    reset_id = _ticked("reset_id")


class RecoverForm(Form):
    username = StringField("username", validators=[required("Entrez votre identifiant.")])
    code = StringField("code", validators=[required("Entrez le code de secours.")])
    new_password = PasswordField(
        "new_password", validators=[required("Choisissez un nouveau mot de passe.")]
    )


class DepositForm(Form):
    file = FileField("file")
    title = StringField("title")
    category = StringField("category", default="other")


class JoinForm(Form):
    username = StringField("username")
    mission = StringField("mission", validators=[Length(max=200)])


class DeskSearchForm(Form):
    """The desk's person search: a GET form (a link that can be kept), no token to check."""

    class Meta:
        csrf = False

    q = StringField("q", validators=[Length(max=100)])
