"""The whole journey on a 360×640 phone, in French and in Arabic, JavaScript on and off: a
person signs in, adds a photo, previews it, shares it with their referent, reads that the
referent opened it, and signs out; the referent works at a 1280 px desk."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.test_browser import (  # noqa: F401 (fixtures are used by name)
    SCAN,
    SUBMIT,
    LiveServer,
    assert_fits_the_phone,
    at,
    browser,
    live_server,
    sign_in,
)

PHONE = {"width": 360, "height": 640}
DESK = {"width": 1280, "height": 800}


def _page(chromium: Browser, server: LiveServer, size: dict[str, int], javascript: bool) -> Page:
    context = chromium.new_context(
        base_url=server.url,
        viewport=size,
        is_mobile=size is PHONE,
        has_touch=size is PHONE,
        java_script_enabled=javascript,
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_a_person_shares_a_photo_and_sees_who_opened_it(
    browser: Browser,  # noqa: F811
    live_server: LiveServer,  # noqa: F811
    lang: str,
    javascript: bool,
) -> None:
    username = live_server.create_person()
    person = _page(browser, live_server, PHONE, javascript)
    person.goto(f"/sign-in?lang={lang}")
    expect(person.locator("html")).to_have_attribute("lang", lang)
    expect(person.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    person.fill("#identifier", username)
    person.fill("#password", "correct horse battery")
    person.click(SUBMIT)
    expect(person).to_have_url(at(live_server, "/papers"))
    expect(person.locator("html")).to_have_attribute("lang", lang)  # the choice is kept

    # A photo, then its preview on its own page (not a download).
    person.goto("/papers/new")
    person.set_input_files("#file", SCAN)
    person.fill("#title", "Titre de séjour")
    person.select_option("#category", "residence_permit")
    person.click("#save")
    expect(person).to_have_url(at(live_server, "/papers"))
    expect(person.locator(".sharing-status")).to_have_count(1)
    person.locator("a.paper").click()
    preview = person.locator("img#preview")
    expect(preview).to_be_visible()
    person.wait_for_function("document.querySelector('img#preview').naturalWidth > 0")
    assert_fits_the_phone(person, f"paper page ({lang})")
    paper_path = live_server.path(person.url)

    # The referent, at a desk, gives their code; the person adds them and shares the photo.
    desk = _page(browser, live_server, DESK, javascript)
    sign_in(desk, live_server.professional_email)
    desk.goto("/pro/profile")
    code = desk.locator("#share-code code").inner_text().strip()
    person.goto(f"/accompaniment?code={code}")
    expect(person.locator("#professional_code")).to_have_value(code)
    person.click("form[action$='/accompaniment/add'] button[type=submit]")
    expect(person.locator("#members")).to_contain_text("Mme Martin")
    person.click("form[action$='/accompaniment/referent'] button[type=submit]")
    person.goto(f"{paper_path}/sharing")
    person.locator("#readers input[name=member_id]").check()
    person.click("#save-readers")
    expect(person.locator("#readers input[name=member_id]")).to_be_checked()

    # The referent opens it from their desk.
    desk.goto(f"/pro/persons?q={username}")
    desk.locator("#persons th[scope=row] a").click()
    desk.locator(f"a.desk-paper[href$='{paper_path}']").click()
    expect(desk.locator("img#preview")).to_be_visible()
    desk.wait_for_function("document.querySelector('img#preview').naturalWidth > 0")

    # The person reads it in their log, among others' accesses (first), then signs out.
    person.goto("/access-log")
    expect(person.locator("#access-log")).to_contain_text("Mme Martin, CHRS Les Lilas")
    expect(person.locator("#access-log")).to_contain_text("« Titre de séjour »")
    assert_fits_the_phone(person, f"access log ({lang})")
    person.click("#sign-out")
    expect(person).to_have_url(at(live_server, "/sign-in"))
    person.goto("/papers")
    expect(person).to_have_url(at(live_server, "/sign-in"))
    person.context.close()
    desk.context.close()
