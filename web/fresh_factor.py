"""A fresh second factor before a professional's sensitive acts, as the web offers it.

The rule itself lives in `sharing.guard` (FRESH_FACTOR_ACTIONS): the services refuse a
professional's recovery code, deposit, mandate at the desk or export with
FreshFactorRequired (403) unless `RequestContext.fresh_factor`, which `request_context()`
reads from the sign-in (its factor passed within LOCKER_FRESH_FACTOR_MINUTES). A route that
forgot what is here is therefore still refused; what is here only offers the way back:

- API routes declared with `operation(..., fresh_factor=True)` take a current code of the
  app in the `X-Second-Factor-Code` header when the token is stale: checked like any code
  (a step used already is refused), counted with failed sign-ins (429 once over), recorded;
  a good one makes the sign-in fresh again.
- Pages decorated with `@fresh_factor_page(...)` send a stale session to
  `/account/confirm-code`, which comes back to the form (a GET: a POST's data is not kept).

A test lists the routes that carry either mark (tests/web/test_fresh_factor.py), so a new
sensitive route is not forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, redirect, request, url_for

from locker.accounts import SignedIn
from locker.models import Professional
from sharing import second_factor
from web.auth import current_sign_in
from web.context import db, services
from web.throttle import factor_guarded

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "X-Second-Factor-Code"
# The mark a view carries (read by the test that lists sensitive routes).
MARK = "needs_fresh_factor"


def stale(signed_in: SignedIn | None) -> bool:
    """Whether this sign-in is a professional's whose factor is no longer fresh."""
    if signed_in is None or not isinstance(signed_in.user, Professional):
        return False
    found = services()
    return not second_factor.is_fresh(signed_in, found.clock(), found.settings.fresh_factor_minutes)


def api_fresh_factor(view: F) -> F:
    """After `api_auth`: a stale professional's token made fresh by the header's code (a
    wrong one: 403 bad_second_factor_code; too many: 429); without one, the service says
    403 fresh_second_factor_required if the act is theirs to do."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        signed_in = g.get("api_signed_in")
        code = request.headers.get(HEADER, "").strip()
        if code and isinstance(signed_in, SignedIn) and stale(signed_in):
            assert isinstance(signed_in.user, Professional)
            found = services()
            with factor_guarded(signed_in.user):
                second_factor.confirm_again(db(), found.keyring, found.clock, signed_in, code)
            db().commit()  # the code is used up, whatever the act answers next
        return view(*args, **kwargs)

    setattr(wrapper, MARK, True)
    return cast(F, wrapper)


def fresh_factor_page(back: str) -> Callable[[F], F]:
    """A page whose act needs a fresh factor: a stale professional's session goes to the
    code's page first, which leads back to the page `back` (an endpoint taking this
    route's arguments: the form's own page)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if stale(current_sign_in()):
                onward = url_for(back, **(request.view_args or {}))
                return redirect(url_for("accounts.confirm_code", next=onward))
            return view(*args, **kwargs)

        setattr(wrapper, MARK, True)
        return cast(F, wrapper)

    return decorate
