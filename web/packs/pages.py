"""The packs pages: the procedures with how far the person is, one procedure's checklist,
and the pack shared with the referent (after a question naming them)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from markupsafe import escape

from sharing import packs
from sharing.members import MemberView
from web.auth import pages_for_signed_in, person_id_or_404
from web.context import request_context
from web.forms import ConfirmForm, asks_first, done, sent
from web.packs.words import PAPER_WORDS, PROCEDURE_NAMES

pages = Blueprint("packs", __name__)
pages_for_signed_in(pages)


@pages.get("/packs")
def packs_list() -> Any:
    found = packs.list_packs_for(request_context(), person_id=person_id_or_404())
    return render_template("packs/list.html", packs=found, names=PROCEDURE_NAMES)


def _referent() -> MemberView | None:
    return packs.referent_for(request_context(), person_id=person_id_or_404())


@pages.get("/packs/<procedure>")
def pack(procedure: str) -> Any:
    found = packs.pack_for(request_context(), person_id=person_id_or_404(), procedure=procedure)
    return render_template(
        "packs/pack.html",
        pack=found,
        name=PROCEDURE_NAMES[procedure],
        papers=PAPER_WORDS,
        referent=_referent(),
        # The counter link's page opens with these papers ticked.
        counter_link=url_for("counter.new_link", document=found.document_ids),
        confirm=ConfirmForm(),
    )


def _nothing_to_ask() -> bool:
    """No referent, or no such procedure: then the refusal comes at once, not a question."""
    return (request.view_args or {}).get("procedure") not in packs.PROCEDURES or not _referent()


def _sharing_question() -> str:
    """The question, naming the referent (read when the question is shown). Escaped here:
    a lazy string goes into the page as it is, and the name is someone's own words."""
    referent = _referent()
    name = f"{referent.display_name} ({referent.organization})" if referent else ""
    return escape(gettext("Partager ces papiers avec %(name)s ?", name=name))


@pages.post("/packs/<procedure>/share-referent")
@asks_first(
    LazyString(_sharing_question),
    _l("Votre référent pourra ouvrir ces papiers. Vous pourrez arrêter papier par papier."),
    _l("Oui, partager"),
    "packs.pack",
    "procedure",
    unless=_nothing_to_ask,
)
def share_with_referent(procedure: str) -> Any:
    sent(ConfirmForm())
    packs.share_pack_with_referent(
        request_context(), person_id=person_id_or_404(), procedure=procedure
    )
    return done("shared", "packs.pack", procedure=procedure)
