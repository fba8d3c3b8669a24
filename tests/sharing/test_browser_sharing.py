"""Sharing in a real headless Chromium, JavaScript off, on a 360 px phone: the person adds
a professional by share code, shares one paper with the per-member switch; the
professional downloads exactly that paper; the person revokes; the professional's open
session gets 404 at once."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.conftest import SAMPLES
from tests.web.test_browser import (  # noqa: F401 (fixtures are used by name)
    SCAN,
    LiveServer,
    NewContext,
    add_paper,
    assert_fits_the_phone,
    at,
    browser,
    live_server,
    new_context,
    sign_in,
)

OTHER = SAMPLES / "caf_letter.pdf"
PAPER_ID = re.compile(r"/papers/([0-9a-f-]{36})$")


def _paper_id(page, title: str) -> str:  # type: ignore[no-untyped-def]
    page.goto("/papers")
    page.locator("a.paper", has_text=title).click()
    found = PAPER_ID.search(page.url)
    assert found, page.url
    return found.group(1)


def test_share_one_paper_then_revoke_with_javascript_off(
    live_server: LiveServer,  # noqa: F811
    new_context: NewContext,  # noqa: F811
) -> None:
    username = live_server.create_person()
    person = new_context(javascript=False).new_page()
    sign_in(person, username)
    expect(person).to_have_url(at(live_server, "/papers"))
    add_paper(person, SCAN, "Carte d'identité", "identity")
    add_paper(person, OTHER, "Lettre de la CAF", "other")
    shared = _paper_id(person, "Carte d'identité")
    private = _paper_id(person, "Lettre de la CAF")

    # The professional, in their own browser, reads their share code.
    pro = new_context(javascript=False).new_page()
    sign_in(pro, live_server.professional_email)
    pro.goto("/pro/profile")
    code = pro.locator("#share-code code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{8}", code), code
    pro.goto(f"/pro/persons?q={username}")
    expect(pro.locator("#persons")).to_have_count(0)  # not on her list yet: not found

    # The person adds them by code: on the list, but sees nothing yet.
    person.goto("/accompaniment")
    person.fill("#professional_code", code)
    person.fill("#mission", "assistante sociale, CHRS Les Lilas")
    person.click("form[action$='/accompaniment/add'] button[type=submit]")
    expect(person.locator("#members")).to_contain_text("Mme Martin")
    assert_fits_the_phone(person, "accompaniment list")
    assert pro.goto(f"/papers/{shared}").status == 404

    # One switch on one paper.
    person.goto(f"/papers/{shared}")
    person.click("#who-can-see")
    expect(person).to_have_url(at(live_server, f"/papers/{shared}/sharing"))
    box = person.locator("#readers input[name=member_id]")
    expect(box).not_to_be_checked()  # a new paper is private
    box.check()
    person.click("#save-readers")
    expect(person.locator("p.notice")).to_be_visible()
    expect(box).to_be_checked()
    assert_fits_the_phone(person, "who can see this paper")

    # The professional finds exactly that paper, downloads it; the other one is 404.
    pro.goto(f"/pro/persons?q={username}")
    pro.locator("#persons th[scope=row] a").click()
    desk = pro.url
    listed = pro.locator("a.desk-paper")
    expect(listed).to_have_count(1)
    expect(listed).to_have_text("Carte d'identité")
    listed.click()
    expect(pro).to_have_url(re.compile(re.escape(f"/papers/{shared}") + "$"))
    with pro.expect_download() as downloading:
        pro.click("#open")
    assert Path(downloading.value.path()).read_bytes() == SCAN.read_bytes()
    for path in (f"/papers/{private}", f"/papers/{private}/content"):
        assert pro.goto(path).status == 404, path
    assert pro.context.request.get(f"/papers/{private}/thumbnail").status == 404

    # The person switches it off: the professional's open session gets 404 at once.
    person.goto(f"/papers/{shared}/sharing")
    person.locator("#readers input[name=member_id]").uncheck()
    person.click("#save-readers")
    expect(person.locator("#confirm")).to_be_visible()  # taking it away asks first
    assert pro.goto(f"/papers/{shared}").status == 200, "not yet stopped"
    person.click("#confirm")
    expect(person.locator("#readers input[name=member_id]")).not_to_be_checked()
    for path in (f"/papers/{shared}", f"/papers/{shared}/content"):
        assert pro.goto(path).status == 404, path
    assert pro.context.request.get(f"/papers/{shared}/thumbnail").status == 404
    pro.goto(desk)
    expect(pro.locator("a.desk-paper")).to_have_count(0)


def test_reset_notice_and_not_me_with_javascript_off(
    live_server: LiveServer,  # noqa: F811
    new_context: NewContext,  # noqa: F811
) -> None:
    """The referent issues a code, someone redeems it; the notice cannot be dismissed and
    "Ce n'était pas moi" ends every session, all without JavaScript."""
    username = live_server.create_person()
    person = new_context(javascript=False).new_page()
    sign_in(person, username)
    pro = new_context(javascript=False).new_page()
    sign_in(pro, live_server.professional_email)
    pro.goto("/pro/profile")
    code = pro.locator("#share-code code").inner_text().strip()
    person.goto("/accompaniment")
    person.fill("#professional_code", code)
    person.fill("#mission", "référente")
    person.click("form[action$='/accompaniment/add'] button[type=submit]")
    person.select_option("#referent", label="Mme Martin")
    person.click("form[action$='/accompaniment/referent'] button[type=submit]")

    # The referent issues a code; whoever holds it resets the password and signs in.
    pro.goto(f"/pro/persons?q={username}")
    expect(pro.locator("#persons tr.referent")).to_have_count(1)  # she chose me as referent
    pro.locator("#persons th[scope=row] a").click()
    pro.click("#issue-recovery-code")
    recovery_code = pro.locator("#recovery-code code").inner_text().strip()
    thief = new_context(javascript=False).new_page()
    thief.goto("/recover")
    thief.fill("#username", username)
    thief.fill("#code", recovery_code)
    thief.fill("#new_password", "le-mot-de-passe-du-voleur")
    thief.click("main form button[type=submit]")
    sign_in(thief, username, "le-mot-de-passe-du-voleur")
    expect(thief.locator("#sharing-notices")).to_contain_text("Mme Martin")
    # No "understood" for this notice: it stays 7 days; the card cannot be remade.
    expect(thief.locator("form[action$='/notices/seen']")).to_have_count(0)
    thief.goto("/recovery-card")
    expect(thief.locator("#card-locked")).to_be_visible()
    assert_fits_the_phone(thief, "reset notice")

    # "Ce n'était pas moi": every session ends, the thief's and this one.
    other = new_context(javascript=False).new_page()
    sign_in(other, username, "le-mot-de-passe-du-voleur")
    other.click("#sharing-notices button.danger")
    expect(other).to_have_url(at(live_server, "/sign-in"))
    thief.goto("/papers")
    expect(thief).to_have_url(at(live_server, "/sign-in"))
    person.goto("/papers")
    expect(person).to_have_url(at(live_server, "/sign-in"))


# Chromium reads QR codes in the page only where the system gives it a reader (Android,
# macOS, ChromeOS), not on this Linux: the test puts one in that answers what the phone's
# would, once the real (fake-device) camera stream is playing in the page's <video>. What is
# tested is the page: button shown, camera started and stopped, code filled in, form sent.
QR_READER = """
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code"]; }
  async detect(video) {
    const live = video.srcObject && video.srcObject.active && video.videoWidth > 0;
    return live ? [{ rawValue: SHOWN }] : [];
  }
};
"""


def test_the_camera_reads_a_professionals_qr_code_in_the_page(
    live_server: LiveServer,  # noqa: F811
    new_context: NewContext,  # noqa: F811
) -> None:
    pro = new_context(javascript=False).new_page()
    sign_in(pro, live_server.professional_email)
    pro.goto("/pro/profile")
    code = pro.locator("#share-code code").inner_text().strip()

    # A browser without a reader of its own: no button, the typed code as before.
    username = live_server.create_person()
    plain = new_context().new_page()
    sign_in(plain, username)
    plain.goto("/accompaniment")
    if plain.evaluate("'BarcodeDetector' in window"):
        expect(plain.locator("#scan-code")).to_be_visible()
    else:
        expect(plain.locator("#scan-code")).to_be_hidden()

    context = new_context()
    context.grant_permissions(["camera"], origin=live_server.url)
    shown = f"{live_server.url}/accompaniment?code={code}"
    context.add_init_script(QR_READER.replace("SHOWN", repr(shown)))
    person = context.new_page()
    sign_in(person, username)
    person.goto("/accompaniment")
    expect(person.locator("#professional_code")).to_have_value("")
    person.click("#scan-code")
    expect(person.locator("#professional_code")).to_have_value(code)
    expect(person.locator("#scan-status")).to_contain_text("Code lu")
    expect(person.locator("#scan-video")).to_be_hidden()
    assert person.evaluate("document.getElementById('scan-video').srcObject") is None
    person.click("form[action$='/accompaniment/add'] button[type=submit]")
    expect(person.locator("#members")).to_contain_text("Mme Martin")
