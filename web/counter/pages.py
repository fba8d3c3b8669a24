"""Counter pages: the person makes a link for a counter, shows its QR code and code, and
ends it; the agent at the counter opens it, with no account, on the public pages (`/c`).

The link's secret is shown once: it is kept in the person's session just long enough to
show its QR code again on a reload, never in the database.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request, session
from flask_babel import lazy_gettext as _l

from locker.errors import InvalidInput, NotFound
from sharing import counter
from sharing import documents as docs
from web.auth import pages_for_signed_in, person_id_or_404
from web.context import db, request_context
from web.counter.forms import CounterCodeForm, CounterLinkForm
from web.counter.links import keep_viewer, link_url, private, qr_data_uri, spaced, viewers
from web.documents.uploads import sanitize_limits
from web.forms import Problem, asks_first, done, refused, sent
from web.i18n import message
from web.responses import document_response
from web.throttle import counter_guarded

pages = Blueprint("counter", __name__)
PUBLIC = (
    "counter.open_link",
    "counter.type_code",
    "counter.view",
    "counter.paper_page",
    "counter.paper_file",
)
pages_for_signed_in(pages, *PUBLIC)
# How long a link lives, as the form offers it (the API takes any minutes up to a day).
DURATIONS = (15, 30, 60, 120, 240, 1440)
SHOWN = "counter_link_shown"


@pages.get("/counter-links")
def links() -> Any:
    person_id = person_id_or_404()
    made = counter.list_counter_links_for(request_context(), person_id=person_id)
    return render_template("counter/links.html", links=made)


def _new_form(form: CounterLinkForm, problems: list[Any], status: int = 200) -> Any:
    papers = docs.list_documents_for(request_context(), person_id=person_id_or_404())
    ticked = set(form.document_id.data or request.args.getlist("document"))
    page = render_template(
        "counter/new.html",
        form=form,
        papers=papers,
        ticked=ticked,
        durations=DURATIONS,
        problems=problems,
    )
    return page, status


@pages.get("/counter-links/new")
def new_link() -> Any:
    return _new_form(CounterLinkForm(formdata=None), [])


@pages.post("/counter-links/new")
def make_link() -> Any:
    person_id = person_id_or_404()
    form = sent(CounterLinkForm())
    minutes = int(form.text("minutes")) if form.text("minutes").isdigit() else 0
    try:
        made = counter.create_counter_link(
            request_context(),
            person_id=person_id,
            document_ids=form.document_id.data or [],
            recipient=form.text("recipient"),
            minutes=minutes,
            allow_download=bool(form.allow_download.data),
        )
    except InvalidInput as refusal:
        db().rollback()
        return _new_form(form, *refused(refusal, str(refusal.params.get("field"))))
    session[SHOWN] = {"id": made.id, "token": made.token, "code": made.code}
    return done("counter_link_made", "counter.link", link_id=made.id)


@pages.get("/counter-links/<link_id>")
def link(link_id: str) -> Any:
    person_id = person_id_or_404()
    found = counter.counter_link_for(request_context(), person_id=person_id, link_id=link_id)
    shown = session.get(SHOWN) or {}
    secret = None
    if shown.get("id") == link_id and found.live:
        url = link_url(shown["token"])
        secret = {"url": url, "qr": qr_data_uri(url), "code": spaced(shown["code"])}
    return private(Response(render_template("counter/link.html", link=found, secret=secret)))


@pages.post("/counter-links/<link_id>/stop")
@asks_first(
    _l("Arrêter ce lien ?"),
    _l("Le guichet ne pourra plus voir vos papiers, même si la page est ouverte."),
    _l("Oui, arrêter"),
    "counter.links",
)
def stop_link(link_id: str) -> Any:
    person_id_or_404()
    counter.revoke_counter_link(request_context(), link_id=link_id)
    session.pop(SHOWN, None)  # its secret opens nothing any more: not kept either
    return done("counter_link_stopped", "counter.links")


# The agent's side: no account, nothing of the person's but the papers in the link.


@pages.get("/c/<token>")
def open_link(token: str) -> Any:
    """The link's URL shows its papers at once, in the browser that opens it first."""
    with counter_guarded():
        link_id, viewer = counter.claim_counter_link(
            request_context(), token=token, viewers=viewers()
        )
    return _viewing(link_id, viewer)


@pages.route("/c", methods=["GET", "POST"])
def type_code() -> Any:
    """The short code, typed on the service's public page, opens the same view."""
    form = CounterCodeForm()
    if request.method == "POST":
        sent(form)
        try:
            with counter_guarded():
                link_id, viewer = counter.claim_counter_link(
                    request_context(), code=form.text("code"), viewers=viewers()
                )
        except NotFound:
            problems = [Problem("code", message("counter_link_unknown"))]
            page = render_template("counter/code.html", form=form, problems=problems)
            return private(Response(page, 422))
        return _viewing(link_id, viewer)
    return private(Response(render_template("counter/code.html", form=form, problems=[])))


def _viewing(link_id: str, viewer: str) -> Response:
    shown = counter.viewing_for(request_context(), link_id=link_id, viewer=viewer)
    response = private(Response(render_template("counter/view.html", viewing=shown)))
    keep_viewer(response, link_id, viewer, shown.expires_at)
    return response


@pages.get("/c/view/<link_id>")
def view(link_id: str) -> Any:
    shown = counter.viewing_for(
        request_context(), link_id=link_id, viewer=viewers().get(link_id, "")
    )
    return private(Response(render_template("counter/view.html", viewing=shown)))


@pages.get("/c/view/<link_id>/<document_id>/<int:page>.jpg")
def paper_page(link_id: str, document_id: str, page: int) -> Any:
    jpeg = counter.counter_page_for(
        request_context(),
        link_id=link_id,
        viewer=viewers().get(link_id, ""),
        document_id=document_id,
        page=page,
        limits=sanitize_limits(),
    )
    response = private(Response(jpeg, mimetype="image/jpeg"))
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@pages.get("/c/view/<link_id>/<document_id>/file")
def paper_file(link_id: str, document_id: str) -> Any:
    opened = counter.counter_file_for(
        request_context(),
        link_id=link_id,
        viewer=viewers().get(link_id, ""),
        document_id=document_id,
    )
    return private(document_response(opened))
