"""Random sequences of sign-ins, codes, enrolments, sign-outs and revocations by two
professionals, in browsers and over the API, each step checked against a tiny model of
which sessions have passed their second factor (hypothesis state machine).

What it proves: a session that has not passed its factor never opens a paper, and no
paper is opened (so none is on her log) but by a session that has; sign-outs and a
factor's confirmation end exactly the sessions they should.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from locker.models import AuditRecord
from tests.conftest import PASSWORD, bearer
from tests.factories import (
    Clock,
    add_grant,
    add_member,
    new_organization,
    new_person,
    new_professional,
    second_factor_code,
    upload,
)
from tests.web.test_pages import csrf

BROWSERS = 2
NONE, PENDING, PASSED = "none", "pending", "passed"
WRONG = "000000"
# Wrong codes stay well under the throttle's limit: the model does not count its window.
MAX_WRONG = 3


@dataclass
class Token:
    value: str
    state: str


@dataclass
class Model:
    browsers: list[str] = field(default_factory=lambda: [NONE] * BROWSERS)
    tokens: list[Token] = field(default_factory=list)
    enrolled_secret: str | None = None  # the API professional's, once confirmed
    pending_secret: str | None = None  # given by POST /me/totp, not yet confirmed
    wrong: int = 0
    opened: int = 0  # papers opened, each of which her log must show


def raw(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.auto_second_factor = False  # type: ignore[attr-defined]
    return client


# A page that shows a form (and so the session's CSRF token) in each state.
FORM_PAGE = {NONE: "/sign-in", PENDING: "/sign-in/code", PASSED: "/settings"}


def test_no_session_opens_a_paper_before_its_factor(app: Flask, clock: Clock) -> None:
    found = app.extensions["locker"]

    class Sessions(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            tag = secrets.token_hex(4)
            with found.session_factory() as s:
                org = new_organization(s, clock, f"CHRS {tag}")
                person = new_person(s, found.keyring, clock, f"p{tag}")
                # In the browser: enrolled already. Over the API: enrols during the run.
                desk = new_professional(s, clock, org, f"desk{tag}")
                api = new_professional(s, clock, org, f"api{tag}", enrolled=False)
                s.commit()
                self.paper = upload(found, s, clock, person, "Titre de séjour")
                for pro in (desk, api):
                    add_grant(s, clock, add_member(s, clock, person, pro), self.paper)
                s.commit()
                self.person_id, self.desk_id = person.id, desk.id
                self.desk_email, self.api_email = desk.email, api.email
            self.browsers = [raw(app) for _ in range(BROWSERS)]
            self.http = raw(app)
            self.model = Model()

        # --- the browser professional ---

        @rule(i=st.integers(0, BROWSERS - 1))
        def sign_in_with_password(self, i: int) -> None:
            browser = self.browsers[i]
            form = {"identifier": self.desk_email, "password": PASSWORD}
            token = csrf(browser, FORM_PAGE[self.model.browsers[i]])
            answer = browser.post("/sign-in", data={**form, "csrf_token": token})
            assert answer.status_code == 302
            assert answer.headers["Location"].startswith("/sign-in/code")
            self.model.browsers[i] = PENDING

        @rule(i=st.integers(0, BROWSERS - 1), right=st.booleans())
        def send_the_code(self, i: int, right: bool) -> None:
            if not right and self.model.wrong >= MAX_WRONG:
                return
            browser, state = self.browsers[i], self.model.browsers[i]
            clock.advance(seconds=31)  # a new step: the one before is used up
            code = second_factor_code(app, self.desk_id) if right else WRONG
            token = csrf(browser, FORM_PAGE[state])
            answer = browser.post("/sign-in/code", data={"code": code, "csrf_token": token})
            if state == PENDING and right:
                assert answer.status_code == 302, answer.status_code
                self.model.browsers[i] = PASSED
            elif state == PENDING:
                assert answer.status_code == 401, answer.status_code  # the form again, refused
                self.model.wrong += 1
            # Without a pending sign-in the page has nothing to pass: the state stays.

        @rule(i=st.integers(0, BROWSERS - 1))
        def sign_out(self, i: int) -> None:
            browser = self.browsers[i]
            token = csrf(browser, FORM_PAGE[self.model.browsers[i]])
            browser.post("/sign-out", data={"csrf_token": token})
            self.model.browsers[i] = NONE

        # --- the API professional ---

        @rule(with_code=st.booleans())
        def ask_for_a_token(self, with_code: bool) -> None:
            body = {"email": self.api_email, "password": PASSWORD}
            secret = self.model.enrolled_secret
            if with_code and secret is not None:
                clock.advance(seconds=31)
                body["totp"] = pyotp.TOTP(secret).at(clock())
            answer = self.http.post("/api/v1/auth/token", json=body)
            if secret is None:
                assert answer.status_code == 201
                self.model.tokens.append(Token(answer.get_json()["token"], PENDING))
            elif with_code:
                assert answer.status_code == 201
                self.model.tokens.append(Token(answer.get_json()["token"], PASSED))
            else:
                assert answer.status_code == 401  # enrolled: the password alone is not enough

        @precondition(lambda self: any(t.state == PENDING for t in self.model.tokens))
        @rule(data=st.data())
        def begin_enrolment(self, data: st.DataObject) -> None:
            pending = [t for t in self.model.tokens if t.state == PENDING]
            token = data.draw(st.sampled_from(pending))
            answer = self.http.post("/api/v1/me/totp", headers=bearer(token.value))
            assert answer.status_code == 200
            self.model.pending_secret = answer.get_json()["secret"]

        @precondition(lambda self: self.model.pending_secret is not None)
        @rule(data=st.data(), right=st.booleans())
        def confirm_enrolment(self, data: st.DataObject, right: bool) -> None:
            pending = [t for t in self.model.tokens if t.state == PENDING]
            if not pending or (not right and self.model.wrong >= MAX_WRONG):
                return
            token = data.draw(st.sampled_from(pending))
            secret = self.model.pending_secret
            assert secret is not None
            clock.advance(seconds=31)
            code = pyotp.TOTP(secret).at(clock()) if right else WRONG
            answer = self.http.post(
                "/api/v1/me/totp/confirm", headers=bearer(token.value), json={"code": code}
            )
            if not right:
                assert answer.status_code == 403
                self.model.wrong += 1
                return
            assert answer.status_code == 204
            # This token passes; confirming a factor ends every other session of theirs.
            for other in self.model.tokens:
                if other.state != NONE:
                    other.state = PASSED if other is token else NONE
            self.model.enrolled_secret, self.model.pending_secret = secret, None

        @precondition(lambda self: any(t.state != NONE for t in self.model.tokens))
        @rule(data=st.data())
        def revoke_a_token(self, data: st.DataObject) -> None:
            live = [t for t in self.model.tokens if t.state != NONE]
            token = data.draw(st.sampled_from(live))
            assert (
                self.http.delete("/api/v1/auth/token", headers=bearer(token.value)).status_code
                == 204
            )
            token.state = NONE

        # --- what each session may do, and her log ---

        @invariant()
        def only_a_passed_session_opens_the_paper(self) -> None:
            for browser, state in zip(self.browsers, self.model.browsers, strict=True):
                answer = browser.get(f"/papers/{self.paper}/preview")
                if state == PASSED:
                    assert answer.status_code == 200, answer.status_code
                    self.model.opened += 1
                else:
                    assert answer.status_code == 302, (state, answer.status_code)
                    where = "/sign-in/code" if state == PENDING else "/sign-in"
                    assert answer.headers["Location"].startswith(where), state
            for token in self.model.tokens:
                headers = bearer(token.value)
                answer = self.http.get(f"/api/v1/documents/{self.paper}/content", headers=headers)
                me = self.http.get("/api/v1/me", headers=headers)
                if token.state == PASSED:
                    assert answer.status_code == 200 and me.status_code == 200
                    self.model.opened += 1
                elif token.state == PENDING:
                    assert answer.status_code == 403 and me.status_code == 200
                    assert answer.get_json() == {"error": "second_factor_required"}
                else:
                    assert answer.status_code == 401 and me.status_code == 401

        @invariant()
        def her_log_shows_exactly_the_openings(self) -> None:
            with found.session_factory() as s:
                logged = s.scalar(
                    select(func.count())
                    .select_from(AuditRecord)
                    .where(
                        AuditRecord.document_id == self.paper,
                        AuditRecord.action.in_(["document:preview", "document:read"]),
                        AuditRecord.outcome == "allowed",
                    )
                )
            assert logged == self.model.opened

    run_state_machine_as_test(
        Sessions,
        settings=settings(
            max_examples=10,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
