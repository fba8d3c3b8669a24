"""The organisation pages' forms (Flask-WTF, CSRF checked before a view reads them). The
services check the values and refuse in the reader's words."""

from __future__ import annotations

from wtforms import PasswordField, StringField
from wtforms.validators import Length

from web.forms import Form, required


def _role() -> StringField:
    # Rendered as a <select> by the template; the service refuses an unknown role.
    return StringField("role", default="professional", validators=[Length(max=16)])


class InviteForm(Form):
    email = StringField("email", validators=[required("Entrez l'adresse e-mail."), Length(max=320)])
    name = StringField("name", validators=[required("Entrez le nom."), Length(max=200)])
    role = _role()


class RoleForm(Form):
    role = _role()


class DeactivateForm(Form):
    """The confirmation step of a deactivation, with the colleague proposed (or none)."""

    successor_id = StringField("successor_id", validators=[Length(max=36)])


class AcceptInvitationForm(Form):
    token = StringField("token", validators=[Length(max=128)])
    password = PasswordField(
        "password", validators=[required("Choisissez un mot de passe."), Length(max=1024)]
    )
