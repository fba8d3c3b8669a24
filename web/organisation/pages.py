"""Organisation pages: the admin's list of professionals (invite, role, deactivate with a
confirmation step), the page where an invited professional chooses their password, and
the person's choice after a professional of their list left. Without JavaScript."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import lazy_gettext as _l

from locker.errors import AlreadyExists, InvalidInput, LockerError
from sharing import departures, invitations, staff
from sharing.errors import NotAHelper, NotAnAuditBody
from web.auth import pages_for_signed_in, person_id_or_404, professional_or_404, web_user
from web.context import db, request_context, services
from web.forms import Problem, asks_first, done, form_problems, refused, sent
from web.organisation.api import invitation_url
from web.organisation.forms import AcceptInvitationForm, DeactivateForm, InviteForm, RoleForm

pages = Blueprint("organisation", __name__)
pages_for_signed_in(pages, "organisation.invitation")

# The roles as the admin reads them (the keys are sharing.staff.ROLES).
ROLE_NAMES = {
    "professional": _l("Professionnel"),
    "helper": _l("Aidant numérique"),
    "auditor": _l("Auditeur du journal"),
    "org_admin": _l("Gestionnaire de la structure"),
}


@pages.app_context_processor
def _departure_notices() -> dict[str, Any]:
    def unread() -> list[departures.DepartureNotice]:
        user = web_user()
        if user is None or not user.is_person:
            return []
        return departures.departure_notices(db(), user.signed_in.user.id)

    return {"departure_notices": unread, "role_names": ROLE_NAMES}


def _organization_id() -> str:
    return professional_or_404().organization_id


def _staff_page(problems: list[Problem] | None = None, status: int = 200, **shown: Any) -> Any:
    rows = staff.list_staff(request_context(), organization_id=_organization_id())
    form = shown.pop("form", None) or InviteForm(formdata=None)
    return (
        render_template(
            "organisation/staff.html",
            rows=rows,
            form=form,
            role_form=RoleForm(formdata=None),
            problems=problems or [],
            **shown,
        ),
        status,
    )


@pages.get("/org")
def staff_list() -> Any:
    return _staff_page()


@pages.post("/org/invite")
def invite() -> Any:
    form = InviteForm()
    if not form.validate_on_submit():
        professional_or_404()
        return _staff_page(form_problems(form), 400, form=form)
    try:
        made = invitations.invite_professional(
            request_context(),
            organization_id=_organization_id(),
            email=form.text("email"),
            name=form.text("name"),
            role=form.text("role"),
        )
    except (InvalidInput, AlreadyExists, NotAHelper, NotAnAuditBody) as refusal:
        db().rollback()
        field = str(refusal.params.get("field") or "role")
        problems, status = refused(refusal, field if field in {"email", "name"} else "role")
        return _staff_page(problems, status, form=form)
    db().commit()
    return _shown(made)


def _shown(made: invitations.Invited) -> Any:
    return render_template(
        "organisation/invited.html",
        invited=made.professional,
        url=invitation_url(made.token),
        expires_at=made.expires_at,
    )


@pages.post("/org/professionals/<professional_id>/invitation")
def reinvite(professional_id: str) -> Any:
    professional_or_404()
    sent(RoleForm())  # its CSRF token only
    made = invitations.reissue_invitation(request_context(), professional_id=professional_id)
    db().commit()
    return _shown(made)


@pages.post("/org/professionals/<professional_id>/role")
def set_role(professional_id: str) -> Any:
    professional_or_404()
    form = sent(RoleForm())
    staff.set_role(request_context(), professional_id=professional_id, role=form.text("role"))
    return done("role_set", "organisation.staff_list")


@pages.route("/org/professionals/<professional_id>/deactivate", methods=["GET", "POST"])
def deactivate(professional_id: str) -> Any:
    """A confirmation step first (with the colleague to propose), then the act."""
    rows = staff.list_staff(request_context(), organization_id=_organization_id())
    target = next((row for row in rows if row.id == professional_id), None)
    if target is None:
        abort(404)
    form = DeactivateForm()
    if request.method == "POST":
        sent(form)
        departures.deactivate_professional(
            request_context(),
            professional_id=professional_id,
            successor_id=form.text("successor_id") or None,
        )
        return done("professional_deactivated", "organisation.staff_list")
    colleagues = [
        row
        for row in rows
        if row.id != target.id and row.status == "active" and row.role in staff.ACCOMPANYING
    ]
    return render_template(
        "organisation/deactivate.html", target=target, colleagues=colleagues, form=form
    )


@pages.route("/invitation", methods=["GET", "POST"])
def invitation() -> Any:
    """Open to anyone holding the link: the invited professional chooses their password."""
    form = AcceptInvitationForm()
    problems: list[Problem] = []
    status = 200
    if request.method == "GET":
        form.token.data = request.args.get("token", "")[: invitations.MAX_TOKEN]
    elif form.validate_on_submit():
        try:
            invitations.accept_invitation(
                db(), services().clock, token=form.text("token"), password=form.text("password")
            )
        except LockerError as refusal:
            db().rollback()
            field = "password" if refusal.params.get("field") else None
            problems, status = refused(refusal, field)
        else:
            return done("invitation_accepted", "accounts.sign_in")
    else:
        problems, status = form_problems(form), 400
    return render_template("organisation/invitation.html", form=form, problems=problems), status


@pages.post("/departures/<departure_id>/end")
@asks_first(
    _l("Arrêter de partager avec ce professionnel ?"),
    _l("Il sera retiré de votre liste. Tous les partages avec lui s'arrêtent."),
    _l("Oui, arrêter"),
    "sharing.accompaniment",
)
def end_departed(departure_id: str) -> Any:
    departures.end_departed(
        request_context(), person_id=person_id_or_404(), departure_id=departure_id
    )
    return done("departure_ended", "sharing.accompaniment")


@pages.post("/departures/<departure_id>/hand-over")
@asks_first(
    _l("Confier vos partages à ce collègue ?"),
    _l(
        "Il verra les papiers que vous aviez partagés avec la personne partie. "
        "Vous pourrez arrêter quand vous voulez."
    ),
    _l("Oui, confier"),
    "sharing.accompaniment",
)
def hand_over(departure_id: str) -> Any:
    departures.hand_over(request_context(), person_id=person_id_or_404(), departure_id=departure_id)
    return done("departure_handed_over", "sharing.accompaniment")
