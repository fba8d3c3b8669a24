"""In headless Chromium, without a line of JavaScript needed: an organisation admin
deactivates a colleague at a desk (1280 px), and the colleague's open session fails on its
next request; the same flow on a 360 px phone, the page never wider than the screen."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from locker.actors import utc_now
from locker.models import Professional
from tests.factories import new_professional
from tests.web.test_browser import (  # noqa: F401 (fixtures are used by name)
    LiveServer,
    at,
    browser,
    live_server,
    sign_in,
)

pytestmark = pytest.mark.browser

DESK = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def contexts(browser: Browser, live_server: LiveServer) -> Iterator[list[BrowserContext]]:  # noqa: F811
    made: list[BrowserContext] = []
    yield made
    for opened in made:
        opened.close()


def _accounts(live_server: LiveServer) -> tuple[str, str, str]:  # noqa: F811
    """An admin and a colleague in the live server's organisation: their e-mails and the
    colleague's id."""
    found = live_server.app.extensions["locker"]
    with found.session_factory() as session:
        martin = session.query(Professional).filter_by(email=live_server.professional_email).one()
        org = martin.organization_id
        tag = secrets.token_hex(4)
        from locker.models import Organization

        home = session.get(Organization, org)
        admin = new_professional(
            session,
            utc_now,
            home,
            "Mme Gestion",
            "org_admin",
            email=f"a{tag}@l.example",
            keyring=found.keyring,
        )
        leaving = new_professional(
            session,
            utc_now,
            home,
            f"M. Départ {tag}",
            email=f"d{tag}@l.example",
            keyring=found.keyring,
        )
        session.commit()
        return admin.email, leaving.email, leaving.id


@pytest.mark.parametrize("viewport", [DESK, PHONE], ids=["1280px", "360px"])
def test_an_admin_deactivates_a_colleague_whose_open_session_fails(
    browser: Browser,  # noqa: F811
    live_server: LiveServer,  # noqa: F811
    contexts: list[BrowserContext],
    viewport: dict[str, int],
) -> None:
    admin_email, leaving_email, leaving_id = _accounts(live_server)

    def open_browser() -> BrowserContext:
        made = browser.new_context(
            base_url=live_server.url, viewport=viewport, locale="fr-FR", java_script_enabled=False
        )
        made.set_default_timeout(10_000)
        contexts.append(made)
        return made

    colleague = open_browser().new_page()
    sign_in(colleague, leaving_email)
    expect(colleague).to_have_url(at(live_server, "/pro"))
    admin = open_browser().new_page()
    sign_in(admin, admin_email)
    expect(admin).to_have_url(at(live_server, "/org"))
    expect(admin.locator("table.staff caption")).to_be_visible()
    row = admin.locator(f"#pro-{leaving_id}")
    expect(row).to_contain_text(leaving_email)
    width = admin.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"the page scrolls sideways: {width} px"
    row.locator(f"#deactivate-{leaving_id}").click()
    expect(admin.locator("h1")).to_contain_text("Désactiver ce compte ?")
    admin.click("#confirm-deactivate")
    expect(admin).to_have_url(at(live_server, "/org"))
    expect(admin.locator(f"#pro-{leaving_id}")).to_contain_text("Désactivé le")
    # The colleague's open session: its very next request is refused.
    colleague.goto("/pro/persons")
    expect(colleague).to_have_url(at(live_server, "/sign-in"))
    sign_in(colleague, leaving_email)
    expect(colleague.locator(".error-summary")).to_be_visible()
