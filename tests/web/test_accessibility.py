"""Every page a person or a professional reaches, checked in headless Chromium by axe-core
(WCAG 2.0/2.1/2.2 A and AA, plus axe's best practices, nothing excluded), in French and in
Arabic (right to left), on a 360 x 640 phone; then again at 320 px with the root font size
doubled, for sideways scrolling and thumb-sized targets.

axe-core comes from npm, pinned in tests/tools/axe/package-lock.json and installed by
`scripts/bootstrap.sh test` (or by the `axe_source` fixture when missing). It is injected
through the DevTools protocol (Playwright's init script), which the page's strict CSP does
not apply to, so each page is checked exactly as it runs, CSP included.

A full-page PNG of each page with a problem goes to var/screenshots/ (git-ignored):
`360/fr/papers.png`, `360/ar/papers.png`, `320-200pc/ar/papers.png`... With
LOCKER_TEST_SCREENSHOTS (a folder), every page's goes there, to be looked at by a person.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from locker.actors import Actor, utc_now
from locker.models import Organization, Professional
from sharing.counter import create_counter_link
from sharing.departures import deactivate_professional
from sharing.trash import trash_document_for
from tests.conftest import require_service
from tests.factories import (
    PASSWORD,
    add_grant,
    add_mandate,
    add_member,
    add_passkey,
    context,
    new_organization,
    new_person,
    new_professional,
    upload,
)
from tests.web.test_browser import (  # noqa: F401 (fixtures are used by name)
    MIN_TARGET_PX,
    LiveServer,
    browser,
    enter_second_factor,
    live_server,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
AXE_PACKAGE = REPO / "tests" / "tools" / "axe"
AXE_SCRIPT = AXE_PACKAGE / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
SCREENSHOTS = Path(os.environ.get("LOCKER_TEST_SCREENSHOTS") or REPO / "var" / "screenshots")
# Full-page pictures are half of these tests' time: all of them only when asked for.
EVERY_SCREENSHOT = bool(os.environ.get("LOCKER_TEST_SCREENSHOTS"))
LANGUAGES = ("fr", "ar")
PHONE = {"width": 360, "height": 640}
SMALL_PHONE = {"width": 320, "height": 640}
UNKNOWN_PAPER = "00000000-0000-4000-8000-000000000000"
# What scripts/bootstrap.sh runs too: exactly the lock file's packages, no install scripts.
AXE_INSTALL = ["ci", "--prefix", str(AXE_PACKAGE), "--ignore-scripts", "--no-audit", "--no-fund"]

# Runs in the page: the violations of the chosen rules, each with the elements at fault.
RUN_AXE = """async (tags) => {
  const found = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return found.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), why: n.failureSummary})),
  }));
}"""

# Runs in the page: every visible tappable thing shorter than `min` px (a link inside a
# running sentence excepted, as WCAG 2.5.8 does), how wide the page really is, and the
# innermost elements sticking out of a `screen` px wide screen.
MEASURE = """([min, screen]) => {
  const visible = (e) => {
    const box = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden';
  };
  const inSentence = (e) => {
    if (e.tagName !== 'A' || getComputedStyle(e).display !== 'inline') return false;
    const around = e.parentElement.textContent.replace(e.textContent, '');
    return /[\\p{L}]{2,}/u.test(around);
  };
  const small = [];
  for (const e of document.querySelectorAll(
      'a, button, input:not([type=hidden]), summary, select, textarea')) {
    if (!visible(e) || inSentence(e)) continue;
    const box = e.getBoundingClientRect();
    if (box.height < min) {
      small.push(`${Math.round(box.height)} px: ${e.outerHTML.slice(0, 120)}`);
    }
  }
  const root = document.documentElement;
  const wide = [...document.body.querySelectorAll('*')].filter((e) => {
    const box = e.getBoundingClientRect();
    return box.width > 0 && (box.right > screen + 0.5 || box.left < -0.5);
  }).map((e) => e.outerHTML.slice(0, 120));
  return {small, wide: wide.slice(-3), scrollWidth: root.scrollWidth, innerWidth};
}"""

SKIP_LINK_IN_VIEW = """() => {
  const box = document.querySelector('a.skip').getBoundingClientRect();
  return box.top >= 0 && box.left >= 0 && box.right <= window.innerWidth && box.height > 0;
}"""


def _pinned_axe_version() -> str:
    lock = json.loads((AXE_PACKAGE / "package-lock.json").read_text())
    return str(lock["packages"]["node_modules/axe-core"]["version"])


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's script, at the version pinned in the lock file (installed when missing)."""
    npm = shutil.which("npm")
    if not AXE_SCRIPT.exists() and npm is not None:
        subprocess.run(
            [npm, *AXE_INSTALL],
            check=False,
            capture_output=True,
            timeout=300,
        )
    if not AXE_SCRIPT.exists():
        require_service(
            f"axe-core is not installed in {AXE_PACKAGE}: run scripts/bootstrap.sh test "
            f"(npm ci --prefix tests/tools/axe) with npm on the PATH"
        )
    return AXE_SCRIPT.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Tour:
    """A person's locker with something on every page, and the professional around her."""

    username: str
    person_id: str
    shared: str  # an identity card she shares with the professional (her referent)
    professional_email: str
    helper_email: str  # a digital-inclusion helper she gave a mandate
    counter_link: Callable[[], str]  # a fresh link of hers for a counter: its path
    admin_email: str  # the admin of the professional's organisation
    referent_id: str  # the professional (their deactivation's confirmation step)
    pending_email: str  # a professional at the second factor's page (password typed)
    enrolling_email: str  # a professional without a factor yet, at its enrolment page
    caf: str  # her CAF letter: the page of /papers after it holds the identity card alone


@pytest.fixture(scope="module")
def tour(live_server: LiveServer) -> Tour:  # noqa: F811
    """Awa: four papers (one in the trash), the professional as referent with one paper
    shared, a digital-inclusion helper under mandate."""
    found = live_server.app.extensions["locker"]
    email = live_server.professional_email
    with found.session_factory() as session:
        pro = session.scalars(select(Professional).where(Professional.email == email)).one()
        person = new_person(session, found.keyring, utc_now, f"a{secrets.token_hex(4)}", "Awa")
        session.commit()
        shared = upload(found, session, utc_now, person, "Carte d'identité", "identity")
        caf = upload(found, session, utc_now, person, "Attestation CAF", "income_benefits")
        upload(found, session, utc_now, person, "Quittance de loyer de mars", "housing")
        trashed = upload(found, session, utc_now, person, "Ancienne carte", "identity")
        referent = add_member(session, utc_now, person, pro, referent=True)
        add_grant(session, utc_now, referent, shared)
        helpers = new_organization(session, utc_now, "Espace numérique", digital_inclusion=True)
        helper = new_professional(
            session,
            utc_now,
            helpers,
            "M. Benali",
            email="benali@numerique.example",
            keyring=found.keyring,
        )
        # Two colleagues who have typed their password only: one enrolled (the code's
        # page), one not yet (the enrolment page).
        pending = new_professional(
            session,
            utc_now,
            helpers,
            "Mme Roux",
            email="roux@numerique.example",
            keyring=found.keyring,
        )
        enrolling = new_professional(
            session,
            utc_now,
            helpers,
            "M. Petit",
            email="petit@numerique.example",
            enrolled=False,
        )
        # Passkeys: the code's page offers one; the settings list one.
        add_passkey(session, utc_now, pending)
        add_passkey(session, utc_now, pro, "Ordinateur du bureau")
        add_mandate(session, utc_now, add_member(session, utc_now, person, helper), "view upload")
        # A colleague who left: Awa is told on every page, and may hand over to another.
        org = session.get(Organization, pro.organization_id)
        admin = new_professional(
            session,
            utc_now,
            org,
            "Mme Gestion",
            "org_admin",
            email=f"g{secrets.token_hex(4)}@l.example",
            keyring=found.keyring,
        )
        left = new_professional(
            session, utc_now, org, "M. Parti", email=f"p{secrets.token_hex(4)}@l.example"
        )
        relay = new_professional(
            session, utc_now, org, "Mme Relais", email=f"r{secrets.token_hex(4)}@l.example"
        )
        add_grant(session, utc_now, add_member(session, utc_now, person, left), shared)
        deactivate_professional(
            context(found, session, Actor.system()), professional_id=left.id, successor_id=relay.id
        )
        session.commit()
        owner = Actor(kind="person", id=person.id)
        trash_document_for(context(found, session, owner), document_id=trashed)
        session.commit()

    def counter_link() -> str:
        with found.session_factory() as session:
            made = create_counter_link(
                context(found, session, owner),
                person_id=owner.id or "",
                document_ids=[shared],
                recipient="CAF de Lyon",
            )
            session.commit()
            return f"/c/{made.token}"

    return Tour(
        person.username,
        person.id,
        shared,
        email,
        helper.email,
        counter_link,
        admin.email,
        pro.id,
        pending.email,
        enrolling.email,
        caf,
    )


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., BrowserContext]]:  # noqa: F811
    """Browser contexts on the live server at a given screen size, closed after the test."""
    made: list[BrowserContext] = []

    def make(viewport: dict[str, int]) -> BrowserContext:
        opened = browser.new_context(
            base_url=live_server.url,
            viewport=viewport,
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
            locale="fr-FR",
        )
        opened.set_default_timeout(10_000)
        made.append(opened)
        return opened

    yield make
    for opened in made:
        opened.close()


@dataclass(frozen=True)
class Stop:
    """One page of the walk: who looks at it, where, and how to get there past the URL."""

    name: str
    who: str  # "anonymous", "person", "professional", "helper" or "admin"
    path: str
    then: Callable[[Page], None] | None = None
    status: int = 200


def _submit_empty(page: Page) -> None:
    page.click("main form button[type=submit]")
    expect(page.locator(".error-summary")).to_be_visible()


def _ask_to_delete(page: Page) -> None:
    page.click("#delete")  # POST /papers/<id>/delete without `confirmed`: the question
    expect(page.locator("#confirm")).to_be_visible()


def _ask_to_share_pack(page: Page) -> None:
    page.click("#share-referent")  # the question naming the referent, before anything is shared
    expect(page.locator("#confirm")).to_be_visible()


def _make_counter_link(page: Page) -> None:
    page.locator("input[name=document_id]").first.check()
    page.fill("#recipient", "CAF de Lyon")
    page.click("#make-counter-link")
    expect(page.locator("#counter-qr")).to_be_visible()


def _make_recovery_card(page: Page) -> None:
    page.click("main form[action$='/recovery-card'] button[type=submit]")
    expect(page.locator("#recovery-card code").first).to_be_visible()


def _create_account(page: Page) -> None:
    page.fill("#username", f"n{secrets.token_hex(4)}")
    page.fill("#display_name", "Nadia")
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    expect(page.locator("#created-username")).to_be_visible()


def _issue_recovery_code(page: Page) -> None:
    page.click("#issue-recovery-code")
    expect(page.locator("#recovery-code")).to_be_visible()


def _ask_to_hand_over(page: Page) -> None:
    page.locator("button[id^=hand-over-]").first.click()  # the question, before any share
    expect(page.locator("#confirm")).to_be_visible()


def _invite(page: Page) -> None:
    page.fill("#email", f"i{secrets.token_hex(4)}@lilas.example")
    page.fill("#name", "Mme Nouvelle")
    page.click("#invite-button")
    expect(page.locator("#invitation-url")).to_be_visible()


def _ask_to_remove_passkey(page: Page) -> None:
    page.click("#remove-passkey-1")
    expect(page.locator("#confirm")).to_be_visible()


def _renew_backup_codes(page: Page, email: str) -> None:
    enter_second_factor(page, email)
    expect(page.locator("#backup-codes code").first).to_be_visible()


def _on_a_later_page(page: Page) -> None:
    expect(page.locator("#papers-newest")).to_be_visible()


def walk(tour: Tour) -> list[Stop]:
    """Every page a person and a professional reach, in a useful state."""
    paper = f"/papers/{tour.shared}"
    desk = f"/pro/persons/{tour.person_id}"
    return [
        Stop("sign-in", "anonymous", "/sign-in"),
        Stop("sign-in-errors", "anonymous", "/sign-in", _submit_empty, 400),
        Stop("recover", "anonymous", "/recover"),
        Stop("accessibility", "anonymous", "/accessibility"),
        Stop("information", "anonymous", "/information"),
        Stop("privacy", "anonymous", "/privacy"),
        Stop("papers", "person", "/papers"),
        Stop("papers-older", "person", f"/papers?after={tour.caf}", _on_a_later_page),
        Stop("paper-new", "person", "/papers/new"),
        Stop("paper", "person", paper),
        Stop("paper-sharing", "person", f"{paper}/sharing"),
        Stop("confirm-delete", "person", paper, _ask_to_delete),
        Stop("trash", "person", "/trash"),
        Stop("packs", "person", "/packs"),
        Stop("pack", "person", "/packs/rsa"),
        Stop("confirm-pack-share", "person", "/packs/rsa", _ask_to_share_pack),
        Stop("counter-links", "person", "/counter-links"),
        Stop("counter-link-new", "person", "/counter-links/new"),
        Stop("counter-link-made", "person", "/counter-links/new", _make_counter_link),
        Stop("counter-code", "anonymous", "/c"),
        Stop("counter-view", "anonymous", tour.counter_link()),
        Stop("accompaniment", "person", "/accompaniment"),
        Stop("helpers", "person", "/helpers"),
        Stop("access-log", "person", "/access-log"),
        Stop("settings", "person", "/settings"),
        Stop("close-account", "person", "/settings/close"),
        Stop("change-password", "person", "/account/password"),
        Stop("recovery-card", "person", "/recovery-card"),
        Stop("recovery-card-made", "person", "/recovery-card", _make_recovery_card),
        Stop("not-found", "person", f"/papers/{UNKNOWN_PAPER}", status=404),
        Stop("pro", "professional", "/pro"),
        Stop("pro-created", "professional", "/pro", _create_account),
        Stop("pro-persons", "professional", "/pro/persons"),
        Stop("pro-paper", "professional", paper),
        Stop("pro-persons-search", "professional", "/pro/persons?q=Awa"),
        Stop("pro-persons-no-match", "professional", "/pro/persons?q=nobody-at-all"),
        Stop("pro-desk-person", "professional", desk),
        Stop(
            "pro-desk-person-older", "professional", f"{desk}?after={tour.shared}", _on_a_later_page
        ),
        Stop("pro-desk-paper", "professional", f"{desk}/papers/{tour.shared}"),
        Stop("pro-desk-person-helper", "helper", desk),
        Stop("pro-recovery-code", "professional", desk, _issue_recovery_code),
        Stop("pro-desk-mandate", "helper", f"/pro/persons/{tour.person_id}/mandate"),
        Stop("pro-join", "professional", "/pro/join"),
        Stop("pro-profile", "professional", "/pro/profile"),
        Stop("pro-my-actions", "professional", "/pro/my-actions"),
        Stop("pro-settings", "professional", "/settings"),
        Stop("confirm-hand-over", "person", "/accompaniment", _ask_to_hand_over),
        Stop("invitation", "anonymous", "/invitation"),
        Stop("org", "admin", "/org"),
        Stop("org-invited", "admin", "/org", _invite),
        Stop("org-deactivate", "admin", f"/org/professionals/{tour.referent_id}/deactivate"),
        Stop("second-factor", "pending", "/sign-in/code"),
        Stop("second-factor-enrol", "enrolling", "/account/second-factor"),
        Stop("backup-codes", "professional", "/account/second-factor/backup-codes"),
        Stop("confirm-code", "professional", "/account/confirm-code?next=/pro/persons"),
        Stop("passkeys", "professional", "/account/passkeys"),
        Stop("confirm-remove-passkey", "professional", "/account/passkeys", _ask_to_remove_passkey),
        Stop(
            "backup-codes-made",
            "professional",
            "/account/second-factor/backup-codes",
            lambda page: _renew_backup_codes(page, tour.professional_email),
        ),
    ]


def in_language(path: str, lang: str) -> str:
    return f"{path}{'&' if urlsplit(path).query else '?'}lang={lang}"


VISITORS = ("anonymous", "person", "professional", "helper", "admin", "pending", "enrolling")


def signed_in_pages(
    make: Callable[..., BrowserContext], viewport: dict[str, int], tour: Tour
) -> dict[str, Page]:
    """A page per kind of visitor, each in its own browser, the accounts signed in."""
    pages = {who: make(viewport).new_page() for who in VISITORS}
    signing_in = (
        tour.username,
        tour.professional_email,
        tour.helper_email,
        tour.admin_email,
        tour.pending_email,
        tour.enrolling_email,
    )
    for who, identifier in zip(VISITORS[1:], signing_in, strict=True):
        # The last two stop at their second factor's page (the code, the enrolment).
        sign_in(pages[who], identifier, second_factor=who not in {"pending", "enrolling"})
        expect(pages[who].locator("#sign-out")).to_be_visible()
    # The professional opens the shared paper: the person's access log has a line.
    pages["professional"].goto(f"/papers/{tour.shared}")
    return pages


def arrive(pages: dict[str, Page], stop: Stop, lang: str) -> Page:
    """Open the stop's page in `lang` and check it answered as expected."""
    page = pages[stop.who]
    response = page.goto(in_language(stop.path, lang))
    assert response is not None
    if stop.then is None:
        assert response.status == stop.status, f"{stop.name}: {response.status}"
    else:
        assert response.status == 200, f"{stop.name}: {response.status}"
        stop.then(page)
        # A step that submits a form lands on a new page: its stylesheet loaded before the
        # checks (goto waits for that itself), or axe measures the page unstyled.
        page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    return page


def test_every_page_passes_axe_in_french_and_arabic(
    phone: Callable[..., BrowserContext], tour: Tour, axe_source: str
) -> None:
    """0 violations of WCAG 2.2 AA and axe's best practices, on every page, fr and ar; a
    full-page screenshot at 360 px of each page with a violation."""
    pages = signed_in_pages(phone, PHONE, tour)
    for page in pages.values():
        page.context.add_init_script(script=axe_source)
    violations: list[str] = []
    for lang in LANGUAGES:
        folder = SCREENSHOTS / "360" / lang
        folder.mkdir(parents=True, exist_ok=True)
        for stop in walk(tour):
            page = arrive(pages, stop, lang)
            version = page.evaluate("axe.version")
            assert version == _pinned_axe_version(), version
            found_here = page.evaluate(RUN_AXE, AXE_TAGS)
            if found_here or EVERY_SCREENSHOT:
                screenshot(page, folder / f"{stop.name}.png")
            for found in found_here:
                rule = f"{found['id']} [{found['impact']}] {found['help']}"
                nodes = "; ".join(f"{n['target']} ({n['why']})" for n in found["nodes"])
                violations.append(f"{lang} {stop.name}: {rule}: {nodes}")
    assert violations == [], "\n".join(violations)


def test_every_page_fits_320_px_with_text_twice_as_big(
    phone: Callable[..., BrowserContext], tour: Tour
) -> None:
    """At 320 px with the root font size doubled (the phone's "large text"): no sideways
    scrolling, and every link, button and field at least 44 px tall."""
    pages = signed_in_pages(phone, SMALL_PHONE, tour)
    problems: list[str] = []
    for lang in LANGUAGES:
        folder = SCREENSHOTS / "320-200pc" / lang
        folder.mkdir(parents=True, exist_ok=True)
        for stop in walk(tour):
            page = arrive(pages, stop, lang)
            # CSSOM, not a <style> element: the page's CSP allows it, as a reader's setting.
            page.evaluate("document.documentElement.style.fontSize = '200%'")
            known = len(problems)
            measured = page.evaluate(MEASURE, [MIN_TARGET_PX, SMALL_PHONE["width"]])
            # A phone's browser zooms out to show an overly wide page whole, which widens
            # innerWidth with it: the screen's own width is the bound.
            screen = min(measured["innerWidth"], SMALL_PHONE["width"])
            if measured["scrollWidth"] > screen:
                problems.append(
                    f"{lang} {stop.name}: {measured['scrollWidth']} px wide, scrolls sideways "
                    f"on a {screen} px screen; sticking out: {measured['wide']}"
                )
            problems.extend(f"{lang} {stop.name}: {small}" for small in measured["small"])
            if len(problems) > known or EVERY_SCREENSHOT:
                screenshot(page, folder / f"{stop.name}.png")
            # The skip link, out of sight, comes fully into view once the keyboard is on it.
            page.focus("a.skip")
            if not page.evaluate(SKIP_LINK_IN_VIEW):
                problems.append(f"{lang} {stop.name}: the focused skip link is out of view")
                screenshot(page, folder / f"{stop.name}-skip-link.png")
    assert problems == [], "\n".join(problems)
