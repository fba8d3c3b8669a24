"""The accounts pages: signing in and out, the home page, the password, the professional's desk."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l

from locker import accounts
from locker.errors import LockerError, WrongCurrentPassword
from locker.models import Person, Professional
from sharing.accounts import (
    change_own_password,
    correct_own_account,
    create_person_with_card,
    may_create_persons,
)
from sharing.proconnect import take_id_token
from sharing.second_factor import factor_pending, is_enrolled
from web.accounts import INFORMATION_VERSION
from web.accounts import passkeys as passkey_pages
from web.accounts import proconnect as proconnect_pages
from web.accounts import second_factor as second_factor_pages
from web.accounts.closure import close_account
from web.accounts.second_factor import OPEN_BEFORE_SECOND_FACTOR, local
from web.auth import (
    current_actor,
    must_change_password,
    pages_for_signed_in,
    person_id_or_404,
    professional_or_404,
    sign_in_browser,
    sign_out_browser,
    web_user,
)
from web.context import db, services
from web.documents.export import export_response
from web.forms import (
    AccountForm,
    ChangePasswordForm,
    CloseAccountForm,
    ConfirmForm,
    CreatePersonForm,
    Problem,
    SignInForm,
    asks_first,
    done,
    form_acted,
    form_problems,
    refused,
    sent,
)
from web.i18n import message
from web.throttle import account_name, password_guarded, sign_in_allowed, sign_in_failed

pages = Blueprint("accounts", __name__)
pages_for_signed_in(
    pages,
    "accounts.home",
    "accounts.sign_in",
    "accounts.accessibility",
    "accounts.information",
    "accounts.privacy",
    *proconnect_pages.OPEN_ENDPOINTS,
)
second_factor_pages.register(pages)
proconnect_pages.register(pages)
passkey_pages.register(pages)


OPEN_BEFORE_PASSWORD_CHANGE = frozenset(
    {
        "static",
        "accounts.sign_in",
        "accounts.sign_out",
        "accounts.change_password",
        "sharing.recover",
        "sharing.dispute_reset",
    }
)


# What a person who has not accepted the information page yet may still reach.
OPEN_BEFORE_INFORMATION = OPEN_BEFORE_PASSWORD_CHANGE | {
    "accounts.information",
    "accounts.privacy",
    "accounts.accessibility",
}


@pages.before_app_request
def _first_things_first() -> Any:
    """Before any other page: a professional passes the second factor (or enrols it), a
    person whose password someone else chose changes it, then a person reads and accepts
    the information page. The API refuses nothing for the information page (clients show
    the text themselves: GET /api/v1/me)."""
    if request.path.startswith("/api/"):
        return None
    user = web_user()
    if user is None:
        return None
    if factor_pending(user.signed_in) and request.endpoint not in OPEN_BEFORE_SECOND_FACTOR:
        # A professional's session opens nothing before the second factor passes.
        enrolled = is_enrolled(db(), user.signed_in.user)
        wanted = request.full_path.rstrip("?") if request.method == "GET" else None
        target = "accounts.second_factor" if enrolled else "accounts.enrol_second_factor"
        return redirect(url_for(target, next=local(wanted)))
    if request.endpoint in OPEN_BEFORE_PASSWORD_CHANGE:
        return None
    if must_change_password(user.signed_in):
        return redirect(url_for("accounts.change_password"))
    person = user.signed_in.user
    if (
        isinstance(person, Person)
        and person.information_version != INFORMATION_VERSION
        and request.endpoint not in OPEN_BEFORE_INFORMATION
    ):
        return redirect(url_for("accounts.information"))
    return None


@pages.route("/information", methods=["GET", "POST"])
def information() -> Any:
    """What the locker does, who sees what, how to take everything and leave, who runs it:
    open to anyone, and accepted once by each person before first use."""
    user = web_user()
    person = user.signed_in.user if user is not None and user.is_person else None
    form = ConfirmForm()
    if isinstance(person, Person) and request.method == "POST":
        sent(form)
        accounts.accept_information(db(), services().clock, person, INFORMATION_VERSION)
        return done(None, "accounts.home")
    must_accept = isinstance(person, Person) and person.information_version != INFORMATION_VERSION
    return render_template(
        "information.html",
        form=form,
        must_accept=must_accept,
        version=INFORMATION_VERSION,
        **_operator(),
    )


@pages.get("/privacy")
def privacy() -> Any:
    """The privacy notice (RGPD art. 13), open to anyone."""
    return render_template("privacy.html", **_operator())


def _operator() -> dict[str, str]:
    settings = services().settings
    return {"operator_name": settings.operator_name, "operator_contact": settings.operator_contact}


@pages.route("/account/password", methods=["GET", "POST"])
def change_password() -> Any:
    user = web_user()
    assert user is not None
    form = ChangePasswordForm()
    problems, status = [], 200
    identifier = account_name(user.signed_in.user)
    if request.method == "POST" and not sign_in_allowed(identifier):
        # A stolen session must not become a way to guess the password.
        problems, status = [Problem(None, message("too_many_attempts"))], 429
    elif form.validate_on_submit():
        found = services()
        try:
            codes = change_own_password(
                db(),
                found.clock,
                user.signed_in,
                current_password=form.current_password.data or "",
                new_password=form.new_password.data or "",
                fresh_card=True,
            )
        except LockerError as refusal:
            db().rollback()
            field = "current_password" if isinstance(refusal, WrongCurrentPassword) else None
            if field is not None:
                sign_in_failed(identifier)
            field = field or ("new_password" if refusal.params.get("field") else None)
            problems, status = refused(refusal, field)
        else:
            if not codes:
                return done("password_changed", "accounts.home")
            db().commit()
            # The person's fresh card (the one shown at creation no longer works): once.
            return render_template("change_password.html", form=None, codes=codes)
    elif request.method == "POST":
        problems, status = form_problems(form), 400
    forced = must_change_password(user.signed_in)
    return (
        render_template(
            "change_password.html", form=form, problems=problems, forced=forced, codes=[]
        ),
        status,
    )


@pages.get("/")
def home() -> Any:
    user = web_user()
    if user is None:
        return redirect(url_for("accounts.sign_in"))
    if user.is_person:
        return redirect(url_for("documents.papers"))
    admin = user.actor.role == "org_admin"
    return redirect(url_for("organisation.staff_list" if admin else "accounts.professional_home"))


@pages.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    form = SignInForm()
    problems, status = [], 200
    identifier = form.identifier.data or ""
    if request.method == "POST" and not sign_in_allowed(identifier):
        problems, status = [Problem(None, message("too_many_attempts"))], 429
    elif form.validate_on_submit():
        found = services()
        result = accounts.sign_in(
            db(),
            found.clock,
            identifier=identifier,
            password=form.password.data or "",
            channel="web",
            hours=found.settings.session_hours,
            professional_hours=found.settings.professional_session_hours,
        )
        db().commit()
        if result is not None:
            sign_in_browser(*result)
            onward = local(request.args.get("next"))
            if isinstance(result[1].user, Professional):
                # The second factor's page next (or its enrolment), then where they wanted.
                return redirect(url_for("accounts.second_factor", next=onward))
            return redirect(onward or url_for("accounts.home"))
        sign_in_failed(identifier)
        problems, status = [Problem(None, message("bad_credentials"))], 401
    elif request.method == "POST":
        # An incomplete form (or one without its CSRF token) checked no password: it is
        # refused, not counted as a guess.
        problems, status = form_problems(form), 401
    return render_template("sign_in.html", form=form, problems=problems), status


@pages.post("/sign-out")
def sign_out() -> Any:
    form = ConfirmForm()
    user = web_user()
    if form.validate_on_submit() and user is not None:
        id_token = take_id_token(db(), user.signed_in)
        accounts.sign_out(db(), services().clock, user.token, user.actor)
        db().commit()
        sign_out_browser()
        # Signed in through ProConnect: signed out there too, or the next person at this
        # desk would be let back in by the provider's own session.
        onward = proconnect_pages.end_at_provider(id_token) if id_token else None
        if onward is not None:
            return onward
    return redirect(url_for("accounts.sign_in"))


@pages.get("/accessibility")
def accessibility() -> Any:
    return render_template("accessibility.html")


@pages.get("/settings")
def settings() -> Any:
    return render_template("settings.html", confirm=ConfirmForm(), problems=[])


@pages.route("/settings/close", methods=["GET", "POST"])
def close_my_account() -> Any:
    """The person closes their account, after the offer to take everything first."""
    user = web_user()
    if user is None or not user.is_person:
        abort(404)
    form = CloseAccountForm()

    def close() -> None:
        with password_guarded(user.signed_in.user):
            close_account(user.signed_in, form.password.data or "")

    # Refused: a wrong password, or too many.
    closed, _, problems, status = form_acted(form, close, lambda _refusal: "password")
    if closed:
        sign_out_browser()
        flash(message("account_closed"), "info")
        return redirect(url_for("accounts.sign_in"))
    return render_template("close_account.html", form=form, problems=problems), status


@pages.post("/settings/account")
def correct_account() -> Any:
    """The name, and a person's username, corrected by their owner (RGPD art. 16)."""
    user = web_user()
    assert user is not None
    form = sent(AccountForm())
    try:
        correct_own_account(
            db(),
            services().clock,
            user.signed_in,
            display_name=form.display_name.data,
            username=form.username.data if user.is_person else None,
            expiry_reminders=form.expiry_reminders.data == "1" if user.is_person else None,
        )
    except LockerError as refusal:
        db().rollback()
        problems, status = refused(refusal, str(refusal.params.get("field") or "") or None)
        return render_template("settings.html", confirm=ConfirmForm(), problems=problems), status
    return done("account_corrected", "accounts.settings")


@pages.get("/settings/export")
def export_mine() -> Response:
    """Everything the locker keeps for the signed-in person, in one ZIP."""
    return export_response(person_id_or_404())


@pages.post("/sign-out-everywhere")
@asks_first(
    _l("Se déconnecter partout ?"),
    _l("Tous vos téléphones, ordinateurs et applications seront déconnectés."),
    _l("Oui, me déconnecter partout"),
    "accounts.settings",
)
def sign_out_everywhere() -> Any:
    user = web_user()
    if not ConfirmForm().validate_on_submit() or user is None:
        abort(400)
    accounts.sign_out(
        db(), services().clock, user.token, user.actor, everywhere=user.signed_in.user
    )
    db().commit()
    sign_out_browser()
    return redirect(url_for("accounts.sign_in"))


@pages.route("/pro", methods=["GET", "POST"])
def professional_home() -> Any:
    professional = professional_or_404()
    if not may_create_persons(db(), services().clock, current_actor()):
        # As over the API (POST /api/v1/persons: 403): an admin handles accounts of
        # professionals, never persons; the form is not offered, and its post refused.
        if request.method == "POST":
            abort(403)
        if professional.role == "org_admin":
            return redirect(url_for("organisation.staff_list"))
        return render_template("pro.html", form=None, created=None, card_codes=[])
    form = CreatePersonForm()
    created: str | None = None
    card_codes: list[str] = []
    if form.validate_on_submit():
        found = services()
        # The recovery card is offered (ticked by default) and printed right here.
        person, card_codes = create_person_with_card(
            db(),
            found.keyring,
            found.clock,
            actor=current_actor(),
            username=form.username.data or "",
            display_name=form.display_name.data or "",
            password=form.password.data or "",
            card=form.recovery_card.data == "1",
        )
        db().commit()
        created = person.username
        form = CreatePersonForm(formdata=None)
    return render_template("pro.html", form=form, created=created, card_codes=card_codes)
