"""Passkeys in a real headless Chromium, with the browser's own virtual authenticator
(DevTools protocol, WebAuthn domain: CTAP2, built in, user verified): a professional adds a
passkey in the settings, signs out, and signs in again with the password and the passkey,
instead of the app's code. Without JavaScript the code's page offers no passkey."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Browser, BrowserContext, Page, expect

from locker.actors import utc_now
from locker.models import Organization, Professional
from tests.conftest import code_for_email
from tests.factories import PASSWORD, add_passkey, new_professional
from tests.web.test_browser import (  # noqa: F401 (fixtures are used by name)
    SUBMIT,
    LiveServer,
    browser,
    live_server,
)

DESK = {"width": 1280, "height": 800}


def _professional(server: LiveServer) -> str:
    """A professional of the server's organisation, TOTP enrolled; their e-mail."""
    found = server.app.extensions["locker"]
    with found.session_factory() as s:
        org = s.query(Organization).first()
        assert org is not None
        pro = new_professional(s, utc_now, org, f"pk{secrets.token_hex(4)}", keyring=found.keyring)
        s.commit()
        return pro.email


def _localhost(server: LiveServer) -> str:
    # Browsers refuse an IP address as a passkey's site: the same server, named localhost.
    return server.url.replace("127.0.0.1", "localhost")


def _desk(browser: Browser, server: LiveServer, *, javascript: bool = True) -> BrowserContext:  # noqa: F811
    context = browser.new_context(
        base_url=_localhost(server), viewport=DESK, locale="fr-FR", java_script_enabled=javascript
    )
    context.set_default_timeout(15_000)
    return context


def _password(page: Page, email: str, wanted: str = "/pro/persons") -> None:
    page.goto(wanted)
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    page.fill("#identifier", email)
    page.fill("#password", PASSWORD)
    page.click(SUBMIT)
    expect(page).to_have_url(re.compile(r"/sign-in/code"))


def test_a_professional_signs_in_with_a_passkey(
    live_server: LiveServer,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    email = _professional(live_server)
    context = _desk(browser, live_server)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        made = cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                }
            },
        )
        authenticator = made["authenticatorId"]

        # First sign-in: the password, then the app's code (no passkey yet).
        _password(page, email)
        expect(page.locator("#passkey-use")).to_have_count(0)
        code = code_for_email(live_server.app, email)
        assert code is not None
        page.fill("#code", code)
        page.click("#second-factor-submit")
        expect(page).to_have_url(re.compile(r"localhost:[0-9]+/pro/persons$"))

        # Réglages → Mes clés d'accès → a passkey named "Ordinateur du bureau".
        page.goto("/settings")
        page.click("#settings-passkeys")
        expect(page.locator("#no-passkeys")).to_be_visible()
        expect(page.locator("#passkey-unavailable")).to_be_hidden()
        page.fill("#name", "Ordinateur du bureau")
        page.click("#passkey-submit")
        expect(page.locator("#passkeys")).to_contain_text("Ordinateur du bureau")
        expect(page.locator("p.notice")).to_be_visible()
        stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
        assert len(stored["credentials"]) == 1

        # Signed out, then in again: the password, then the passkey instead of the code.
        page.click("#sign-out")
        expect(page).to_have_url(re.compile(r"/sign-in"))
        _password(page, email)
        expect(page.locator("#passkey-use")).to_be_visible()
        page.click("#passkey-submit")
        expect(page).to_have_url(re.compile(r"localhost:[0-9]+/pro/persons$"))
        expect(page.locator("h1")).to_be_visible()
        used = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
        assert used["credentials"][0]["signCount"] >= 1
        page.goto("/account/passkeys")
        expect(page.locator("#passkeys")).not_to_contain_text("Pas encore utilisée")
    finally:
        context.close()


def test_without_javascript_the_code_page_offers_only_the_code(
    live_server: LiveServer,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    email = _professional(live_server)
    found = live_server.app.extensions["locker"]
    with found.session_factory() as s:
        pro = s.query(Professional).filter_by(email=email).one()
        add_passkey(s, utc_now, pro)
        s.commit()
    context = _desk(browser, live_server, javascript=False)
    try:
        page = context.new_page()
        _password(page, email)
        expect(page.locator("#passkey-use")).to_be_hidden()
        code = code_for_email(live_server.app, email)
        assert code is not None
        page.fill("#code", code)
        page.click("#second-factor-submit")
        expect(page).to_have_url(re.compile(r"localhost:[0-9]+/pro/persons$"))
    finally:
        context.close()
