"""The desk in a real headless Chromium, JavaScript off, at a 1280 px desk and on a 360 px
phone: the professional searches a person of their list, opens a paper she shared (which
her own access log then shows), and deposits one into her locker."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Browser, Page, expect

from locker.actors import utc_now
from locker.models import Professional
from tests.conftest import SAMPLES
from tests.factories import add_grant, add_member, new_person, upload
from tests.web.test_browser import (  # noqa: F401 (fixtures are used by name)
    LiveServer,
    NewContext,
    browser,
    live_server,
    new_context,
    sign_in,
)

DESK = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
DEPOSITED = SAMPLES / "caf_letter.pdf"


def _arrange(server: LiveServer, name: str) -> str:
    """A person named `name` with the server's professional on her list and one of her two
    papers shared; and a person of nearly the same name whose list they are not on.
    Returns her username."""
    found = server.app.extensions["locker"]
    with found.session_factory() as s:
        pro = s.query(Professional).filter_by(email=server.professional_email).one()
        person = new_person(s, found.keyring, utc_now, f"d{secrets.token_hex(4)}", name)
        new_person(s, found.keyring, utc_now, f"d{secrets.token_hex(4)}", f"{name} bis")
        s.commit()
        shared = upload(found, s, utc_now, person, "Titre de séjour", "residence_permit")
        upload(found, s, utc_now, person, "Certificat médical", "health")
        add_grant(s, utc_now, add_member(s, utc_now, person, pro), shared)
        s.commit()
        return person.username


def _fits(page: Page, width: int, name: str) -> None:
    """Nothing wider than the screen: only a table's own region may scroll sideways."""
    scrolled = page.evaluate("document.documentElement.scrollWidth")
    assert scrolled <= width, f"{name}: page is {scrolled} px wide at {width} px"


@pytest.mark.parametrize("size", [DESK, PHONE], ids=["desk-1280", "phone-360"])
def test_a_professional_finds_a_person_opens_her_paper_and_deposits_one(
    live_server: LiveServer,  # noqa: F811
    new_context: NewContext,  # noqa: F811
    browser: Browser,  # noqa: F811
    size: dict[str, int],
) -> None:
    desk = browser.new_context(
        base_url=live_server.url,
        viewport=size,
        is_mobile=size is PHONE,
        has_touch=size is PHONE,
        locale="fr-FR",
        java_script_enabled=False,
    )
    desk.set_default_timeout(10_000)
    try:
        _walk(desk.new_page(), new_context, live_server, size)
    finally:
        desk.close()


def _walk(pro: Page, open_context: NewContext, server: LiveServer, size: dict[str, int]) -> None:
    name = f"Fatou Diallo {secrets.token_hex(3)}"
    username = _arrange(server, name)
    sign_in(pro, server.professional_email)

    # The search: her, and never the person of the same name whose list I am not on.
    pro.goto("/pro/persons")
    pro.fill("#q", name)
    pro.click("#search")
    rows = pro.locator("#persons tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.locator("th[scope=row]")).to_contain_text(name)
    expect(pro.locator("#persons")).not_to_contain_text(f"{name} bis")
    expect(pro.locator("#persons caption")).to_be_visible()
    _fits(pro, size["width"], "my persons")
    if size is DESK:  # the desk uses the width: the table is not a phone column
        box = pro.locator("main").bounding_box()
        assert box is not None and box["width"] > 1000, box
        table = pro.locator("#persons").bounding_box()
        assert table is not None and table["width"] > 900, table

    # Her page: only the paper she shared; first visit.
    rows.locator("th[scope=row] a").click()
    expect(pro.locator("#first-visit")).to_be_visible()
    listed = pro.locator("a.desk-paper")
    expect(listed).to_have_count(1)
    expect(listed).to_have_text("Titre de séjour")
    expect(pro.locator("main")).not_to_contain_text("Certificat médical")
    _fits(pro, size["width"], "a person's page")
    person_page = pro.url

    # The paper, previewed inline on the desk.
    listed.click()
    expect(pro).to_have_url(re.compile(r"/pro/persons/[0-9a-f-]{36}/papers/[0-9a-f-]{36}$"))
    expect(pro.locator("img#preview")).to_be_visible()
    pro.wait_for_function("document.querySelector('img#preview').naturalWidth > 0", timeout=30_000)
    _fits(pro, size["width"], "a paper on the desk")

    # The person reads in her own log that Mme Martin looked at it.
    person = open_context(javascript=False).new_page()
    sign_in(person, username)
    person.goto("/access-log")
    log = person.locator("#access-log")
    expect(log).to_contain_text("Mme Martin")
    expect(log).to_contain_text("Titre de séjour")
    expect(log).to_contain_text("a regardé « Titre de séjour »")

    # A deposit from her page comes back to it, and the paper is hers.
    pro.goto(person_page)
    pro.set_input_files("#deposit-file", DEPOSITED)
    pro.fill("#deposit-title-field", "Attestation CAF déposée")
    pro.select_option("#deposit-category", "income_benefits")
    pro.click("#deposit-submit")
    expect(pro).to_have_url(person_page)
    expect(pro.locator("p.notice")).to_be_visible()
    expect(pro.locator("a.desk-paper", has_text="Attestation CAF déposée")).to_have_count(1)
    _fits(pro, size["width"], "a person's page after a deposit")
    person.goto("/papers")
    expect(person.locator("main")).to_contain_text("Attestation CAF déposée")
