"""The counter pages' forms (Flask-WTF): which fields each page sends; the service checks
their values and answers a refusal in the person's words."""

from __future__ import annotations

from wtforms import BooleanField, SelectMultipleField, StringField

from web.forms import Form


class CounterLinkForm(Form):
    document_id = SelectMultipleField("document_id", choices=[], validate_choice=False)
    recipient = StringField("recipient")
    minutes = StringField("minutes", default="30")
    allow_download = BooleanField("allow_download")


class CounterCodeForm(Form):
    code = StringField("code")
