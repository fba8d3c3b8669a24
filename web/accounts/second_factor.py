"""The second factor's pages: the code after the password, enrolment, backup codes, and
the code again before a sensitive act (web/fresh_factor.py).

A professional's browser session that has not passed its factor reaches only these pages
and signing out (`accounts.pages._first_things_first` sends it here)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, TypeVar

import segno
from flask import Blueprint, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup

from locker.models import Professional
from sharing import second_factor
from sharing.errors import TooManyAttempts
from sharing.passkeys import has_passkey
from web.auth import professional_signed_in
from web.context import db, services
from web.forms import Problem, SecondFactorForm, form_acted, form_problems
from web.i18n import message
from web.throttle import account_name, factor_guarded, sign_in_allowed, sign_in_failed

T = TypeVar("T")

# Endpoints a professional's session reaches before its factor passes (with the pages
# open to anyone).
OPEN_BEFORE_SECOND_FACTOR = frozenset(
    {
        "static",
        "accounts.sign_in",
        "accounts.sign_out",
        "accounts.second_factor",
        "accounts.enrol_second_factor",
        "accounts.passkey_use_options",
        "accounts.passkey_use",
        "accounts.accessibility",
        "accounts.information",
        "accounts.privacy",
        "accounts.proconnect_start",
        "accounts.proconnect_callback",
        "accounts.proconnect_signed_out",
    }
)


def local(path: str | None) -> str | None:
    """`path` if it is a page of this service (never another site: no open redirect)."""
    if not path or len(path) > 512 or not path.startswith("/") or path.startswith(("//", "/\\")):
        return None
    return path if path.isprintable() else None


def _onward() -> Any:
    return redirect(local(request.args.get("next")) or url_for("accounts.home"))


def second_factor_page() -> Any:
    """After the password: the app's code (or a backup code), counted like passwords."""
    professional, signed_in = professional_signed_in()
    found = services()
    if not second_factor.is_enrolled(db(), professional):
        return redirect(url_for("accounts.enrol_second_factor", next=request.args.get("next")))
    if not second_factor.factor_pending(signed_in):
        return _onward()
    form = SecondFactorForm()
    problems: list[Problem] = []
    status = 200
    identifier = account_name(professional)
    if request.method == "POST" and not sign_in_allowed(identifier):
        problems, status = [Problem(None, message("too_many_attempts"))], 429
    elif form.validate_on_submit():
        passed = second_factor.check(
            db(), found.keyring, found.clock, professional, code=form.code.data or ""
        )
        if passed:
            second_factor.pass_factor(db(), found.clock, signed_in)
            db().commit()
            return _onward()
        db().commit()  # the refusal's record
        sign_in_failed(identifier)
        problems, status = [Problem("code", message("bad_second_factor_code"))], 401
    elif request.method == "POST":
        problems, status = form_problems(form), 400
    passkey = has_passkey(db(), professional)
    page = render_template("second_factor.html", form=form, problems=problems, passkey=passkey)
    return page, status


def code_form_sent(
    form: FlaskForm, professional: Professional, act: Callable[[], T], field: str | None = "code"
) -> tuple[bool, T | None, list[Problem], int]:
    """A form confirmed with a code (or a passkey's answer), and `act` checking it, counted
    like passwords (`form_acted`): its result once committed, or the refusal beside `field`
    (too many tries: said for the whole form)."""

    def counted() -> T:
        with factor_guarded(professional):
            result = act()
        db().commit()
        return result

    return form_acted(
        form, counted, lambda refusal: None if isinstance(refusal, TooManyAttempts) else field
    )


def confirm_code_page() -> Any:
    """Before a sensitive act, when the factor passed too long ago: the app's code (or a
    backup code) again, counted like passwords; then back to the form (`next`)."""
    professional, signed_in = professional_signed_in()
    found = services()
    form = SecondFactorForm()
    passed, _, problems, status = code_form_sent(
        form,
        professional,
        lambda: second_factor.confirm_again(
            db(), found.keyring, found.clock, signed_in, form.code.data or ""
        ),
    )
    if passed:
        return _onward()
    action = url_for("accounts.confirm_code", next=local(request.args.get("next")))
    return (
        render_template(
            "second_factor.html",
            form=form,
            problems=problems,
            confirm=action,
            intro=message("fresh_second_factor_required"),
            passkey=has_passkey(db(), professional),
        ),
        status,
    )


def _qr_svg(uri: str) -> Markup:
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True, omitsize=True
    )
    svg = buffer.getvalue().decode()
    # Drawn here, inline: the secret never goes to another request or another site.
    return Markup(svg.replace("<svg ", '<svg role="img" aria-labelledby="qr-label" ', 1))  # noqa: S704


def enrol_page() -> Any:
    """Enrolment: the QR code and the text key, then a code typed back; then the backup
    codes, shown this once."""
    professional, signed_in = professional_signed_in()
    found = services()
    if second_factor.is_enrolled(db(), professional):
        if second_factor.factor_pending(signed_in):
            return redirect(url_for("accounts.second_factor", next=request.args.get("next")))
        return redirect(url_for("accounts.backup_codes"))
    form = SecondFactorForm()
    passed, codes, problems, status = code_form_sent(
        form,
        professional,
        lambda: second_factor.confirm_enrolment(
            db(), found.keyring, found.clock, signed_in, form.code.data or "", fresh_codes=True
        ),
    )
    if passed:
        return render_template(
            "second_factor_codes.html", codes=codes, onward=local(request.args.get("next"))
        )
    enrolment = second_factor.begin_enrolment(
        db(), found.keyring, found.clock, professional, keep=True
    )
    db().commit()
    return (
        render_template(
            "second_factor_enrol.html",
            form=form,
            problems=problems,
            secret=" ".join(
                enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4)
            ),
            qr=_qr_svg(enrolment.otpauth_uri),
        ),
        status,
    )


def backup_codes_page() -> Any:
    """Ten new backup codes, against a current code of the app; other sessions end."""
    professional, signed_in = professional_signed_in()
    found = services()
    if not second_factor.is_enrolled(db(), professional):
        return redirect(url_for("accounts.enrol_second_factor"))
    form = SecondFactorForm()
    passed, codes, problems, status = code_form_sent(
        form,
        professional,
        lambda: second_factor.renew_backup_codes(
            db(), found.keyring, found.clock, signed_in, form.code.data or ""
        ),
    )
    if passed:
        return render_template("second_factor_codes.html", codes=codes, onward=None)
    left = second_factor.remaining_backup_codes(db(), professional.id)
    return (
        render_template("second_factor_renew.html", form=form, problems=problems, left=left),
        status,
    )


def register(pages: Blueprint) -> None:
    """The second factor's pages, on the accounts blueprint."""
    pages.add_url_rule(
        "/sign-in/code", "second_factor", second_factor_page, methods=["GET", "POST"]
    )
    pages.add_url_rule(
        "/account/second-factor", "enrol_second_factor", enrol_page, methods=["GET", "POST"]
    )
    pages.add_url_rule(
        "/account/confirm-code", "confirm_code", confirm_code_page, methods=["GET", "POST"]
    )
    pages.add_url_rule(
        "/account/second-factor/backup-codes",
        "backup_codes",
        backup_codes_page,
        methods=["GET", "POST"],
    )
