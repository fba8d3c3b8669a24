"""Sharing pages: my accompaniment list, who can see each paper, my helpers, recovery;
and for professionals: my persons, deposit, ask to join, share code and QR, recovery code.

Thin views: read the page's form (`web.sharing.forms`), call one service, render or
redirect. Every POST carries its CSRF token; everything works without JavaScript.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from locker.errors import LockerError
from sharing import desk, grants, mandates, members, notices, professionals, recovery
from sharing.errors import BadRecoveryCode
from web.auth import (
    current_actor,
    pages_for_signed_in,
    person_id_or_404,
    professional_or_404,
    sign_out_browser,
    web_user,
)
from web.context import db, request_context, services
from web.documents.uploads import upload_request
from web.forms import asks_first, done, form_acted
from web.fresh_factor import fresh_factor_page
from web.i18n import category_choices, message
from web.sharing.forms import (
    AddMemberForm,
    DepositForm,
    DeskMandateForm,
    DeskSearchForm,
    JoinForm,
    MandateForm,
    NoticesSeenForm,
    PaperReadersForm,
    RecoverForm,
    ReferentForm,
    ShareCategoryForm,
)
from web.throttle import redeem_with_throttle

pages = Blueprint("sharing", __name__)
pages_for_signed_in(pages, "sharing.recover")


@pages.app_context_processor
def _notices() -> dict[str, Any]:
    def unread() -> tuple[list[recovery.ResetNotice], list[professionals.DepositNotice]]:
        user = web_user()
        if user is None or not user.is_person:
            return [], []
        return notices.person_notices(
            request_context().acting(user.actor), person_id=user.signed_in.user.id
        )

    return {"sharing_notices": unread}


@pages.get("/accompaniment")
def accompaniment() -> Any:
    views = members.list_members(request_context(), person_id=person_id_or_404())
    return render_template(
        "sharing/accompaniment.html", members=views, categories=category_choices()
    )


@pages.post("/accompaniment/add")
def add_member() -> Any:
    members.add_member(
        request_context(),
        person_id=person_id_or_404(),
        professional_code=(form := AddMemberForm()).text("professional_code"),
        mission=form.text("mission"),
    )
    return done("member_added", "sharing.accompaniment")


@pages.post("/accompaniment/<member_id>/accept")
def accept_member(member_id: str) -> Any:
    members.accept_member(request_context(), person_id=person_id_or_404(), member_id=member_id)
    return done(None, "sharing.accompaniment")


@pages.post("/accompaniment/<member_id>/remove")
@asks_first(
    _l("Retirer ce professionnel de votre liste ?"),
    _l("Il ne verra plus aucun de vos papiers. Vous pourrez l'ajouter à nouveau."),
    _l("Oui, retirer"),
    "sharing.accompaniment",
)
def remove_member(member_id: str) -> Any:
    members.remove_member(request_context(), person_id=person_id_or_404(), member_id=member_id)
    return done("member_removed", "sharing.accompaniment")


@pages.post("/accompaniment/referent")
def set_referent() -> Any:
    members.set_referent(
        request_context(),
        person_id=person_id_or_404(),
        member_id=ReferentForm().text("member_id") or None,
    )
    return done(None, "sharing.accompaniment")


@pages.post("/accompaniment/category")
def share_category() -> Any:
    grants.create_category_grant(
        request_context(),
        person_id=person_id_or_404(),
        member_id=(form := ShareCategoryForm()).text("member_id"),
        category=form.text("category"),
    )
    return done("shared", "sharing.accompaniment")


@pages.get("/papers/<document_id>/sharing")
def paper_sharing(document_id: str) -> Any:
    rows = grants.sharing_of_document(request_context(), document_id=document_id)
    return render_template("sharing/paper_sharing.html", rows=rows, document_id=document_id)


def _ticked() -> list[str]:
    return PaperReadersForm().member_id.data or []


@pages.post("/papers/<document_id>/sharing")
@asks_first(
    _l("Arrêter de partager ce papier ?"),
    _l("Les personnes décochées ne pourront plus l'ouvrir. Vous pourrez le partager à nouveau."),
    _l("Oui, enregistrer"),
    "sharing.paper_sharing",
    "document_id",
    # Only taking the paper away from someone asks first; sharing it asks nothing.
    unless=lambda: (
        not grants.stops_sharing(
            request_context(),
            document_id=(request.view_args or {})["document_id"],
            ticked=_ticked(),
        )
    ),
)
def save_paper_sharing(document_id: str) -> Any:
    grants.set_document_readers(request_context(), document_id=document_id, ticked=_ticked())
    return done("sharing_saved", "sharing.paper_sharing", document_id=document_id)


@pages.route("/helpers", methods=["GET", "POST"])
def helpers() -> Any:
    person_id = person_id_or_404()
    if request.method == "POST":
        mandates.create_mandate(
            request_context(),
            person_id=person_id,
            member_id=(form := MandateForm()).text("member_id"),
            scopes=form.scopes.data or [],
            duration=form.text("duration"),
            password=form.text("password"),
        )
        return done("mandate_given", "sharing.helpers")
    views = mandates.list_mandates(request_context(), person_id=person_id)
    names = {m.id: m for m in members.member_views(db(), person_id)}
    return render_template("sharing/helpers.html", mandates=views, members=names)


@pages.post("/helpers/<mandate_id>/revoke")
@asks_first(
    _l("Retirer ce mandat ?"),
    _l("Cet aidant ne pourra plus rien faire pour vous."),
    _l("Oui, retirer le mandat"),
    "sharing.helpers",
)
def revoke_mandate(mandate_id: str) -> Any:
    mandates.revoke_mandate(request_context(), mandate_id=mandate_id)
    return done(None, "sharing.helpers")


@pages.route("/recovery-card", methods=["GET", "POST"])
def recovery_card() -> Any:
    person_id = person_id_or_404()
    codes: list[str] = []
    if request.method == "POST":
        codes = recovery.print_recovery_card(request_context(), person_id=person_id)
        db().commit()
    # Said before the person tries: 7 days after a reset by someone's code, the card stays.
    locked_until = recovery.reset_lock_until(db(), person_id, services().clock())
    return render_template("sharing/recovery_card.html", codes=codes, locked_until=locked_until)


@pages.post("/notices/seen")
def notices_seen() -> Any:
    found = services()
    person_id = person_id_or_404()
    kept = [
        notice_id
        for notice_id in NoticesSeenForm().reset_id.data or []
        if not recovery.acknowledge_reset(
            db(), found.clock, actor=current_actor(), notice_id=notice_id
        )
    ]
    professionals.acknowledge_deposits(
        db(), found.clock, actor=current_actor(), person_id=person_id
    )
    return done("reset_notice_kept" if kept else None, "accounts.home")


@pages.post("/notices/<notice_id>/not-me")
def dispute_reset(notice_id: str) -> Any:
    """ "Ce n'était pas moi": every session ends (this one too); the issuer is barred."""
    recovery.dispute_reset(request_context(), notice_id=notice_id)
    db().commit()
    sign_out_browser()
    flash(message("reset_disputed"), "info")
    return redirect(url_for("accounts.sign_in"))


def _recovery_field(refusal: LockerError) -> str | None:
    if isinstance(refusal, BadRecoveryCode):
        return "code"
    return "new_password" if refusal.params.get("field") else None


@pages.route("/recover", methods=["GET", "POST"])
def recover() -> Any:
    form = RecoverForm()
    redeemed, _, problems, status = form_acted(
        form,
        lambda: redeem_with_throttle(
            form.text("username"), form.text("code"), form.text("new_password")
        ),
        _recovery_field,
    )
    if redeemed:
        return done("password_reset", "accounts.sign_in")
    return render_template("sharing/recover.html", form=form, problems=problems), status


@pages.get("/pro/persons")
def my_persons() -> Any:
    professional_or_404()
    search = DeskSearchForm(formdata=request.args)
    table = desk.desk_persons(
        request_context(),
        query=search.text("q"),
        page=request.args.get("page", 1, type=int) or 1,
    )
    return render_template("sharing/pro_persons.html", table=table, search=search)


@pages.get("/pro/persons/<person_id>")
def desk_person(person_id: str) -> Any:
    professional_or_404()
    after = request.args.get("after") or None
    view = desk.desk_person(request_context(), person_id=person_id, after=after)
    db().commit()  # this visit: what is new next time is reckoned from now
    return render_template("sharing/desk_person.html", person=view, categories=category_choices())


@pages.get("/pro/persons/<person_id>/papers/<document_id>")
def desk_paper(person_id: str, document_id: str) -> Any:
    professional_or_404()
    view = desk.desk_paper(request_context(), person_id=person_id, document_id=document_id)
    return render_template("sharing/desk_paper.html", document=view, person_id=person_id)


@pages.post("/pro/persons/<person_id>/deposit")
@fresh_factor_page("sharing.desk_person")
def deposit(person_id: str) -> Any:
    form = DepositForm()
    upload = form.file.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        abort(422)
    professionals.deposit_document(
        request_context(),
        person_id=person_id,
        upload=upload_request([upload], form.text("title"), form.text("category") or "other"),
    )
    return done("deposited", "sharing.desk_person", person_id=person_id)


@pages.post("/pro/persons/<person_id>/recovery-code")
@fresh_factor_page("sharing.desk_person")
def issue_recovery_code(person_id: str) -> Any:
    code, expires_at = recovery.issue_recovery_code(request_context(), person_id=person_id)
    db().commit()
    return render_template("sharing/recovery_code.html", code=code, expires_at=expires_at)


@pages.route("/pro/persons/<person_id>/mandate", methods=["GET", "POST"])
@fresh_factor_page("sharing.desk_mandate")
def desk_mandate(person_id: str) -> Any:
    professional_or_404()
    if request.method == "POST":
        mandates.create_mandate_at_desk(
            request_context(),
            person_id=person_id,
            scopes=(form := DeskMandateForm()).scopes.data or [],
            duration=form.text("duration"),
            username=form.text("username"),
            password=form.text("password"),
        )
        return done("mandate_given", "sharing.desk_person", person_id=person_id)
    name = mandates.prepare_desk_mandate(request_context(), person_id=person_id)
    return render_template("sharing/desk_mandate.html", person_id=person_id, name=name)


@pages.post("/pro/persons/<person_id>/members/<member_id>/leave")
@asks_first(
    _l("Quitter la liste de cette personne ?"),
    _l("Vous ne verrez plus ses papiers. Seule la personne peut vous ajouter à nouveau."),
    _l("Oui, quitter sa liste"),
    "sharing.my_persons",
)
def leave(person_id: str, member_id: str) -> Any:
    members.remove_member(request_context(), person_id=person_id, member_id=member_id)
    return done(None, "sharing.my_persons")


@pages.route("/pro/join", methods=["GET", "POST"])
def join() -> Any:
    professional_or_404()
    if request.method == "POST":
        members.request_to_join(
            request_context(),
            username=(form := JoinForm()).text("username"),
            mission=form.text("mission"),
        )
        return done("join_sent", "sharing.my_persons")
    return render_template("sharing/join.html")


@pages.get("/pro/profile")
def profile() -> Any:
    professional = professional_or_404()
    code = members.share_code_for(db(), services().clock, professional)
    db().commit()
    return render_template("sharing/profile.html", code=code)


@pages.get("/pro/share-code.svg")
def share_code_qr() -> Response:
    code = members.share_code_for(db(), services().clock, professional_or_404())
    db().commit()
    if code is None:
        abort(404)
    # A link, not the bare code: the phone's camera opens the person's list with it filled.
    link = url_for("sharing.accompaniment", code=code, _external=True)
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="svg", scale=6, border=2)
    return Response(buffer.getvalue(), mimetype="image/svg+xml")
