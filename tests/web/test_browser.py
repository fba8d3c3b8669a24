"""The pages in a real headless Chromium over real HTTP, on a 360 px phone screen.

One live server per module (embedded default: SQLite and a local folder, CSRF on); each
test gets its own person, so the tests do not depend on their order. The core journey
runs with JavaScript off. Screenshots go to a temporary folder, or to LOCKER_TEST_SHOTS
when it names one (to look at the pages by eye).
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from crypto.keyring import create_keyfile
from locker.actors import utc_now
from locker.db import make_engine
from locker.models import Document, Person
from locker.schema import upgrade_schema
from locker.settings import load_settings
from tests.conftest import SAMPLES, STRICT, code_for_email, require_service
from tests.factories import PASSWORD, new_organization, new_person, new_professional
from web.app import create_app

try:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        Dialog,
        Page,
        Response,
        expect,
        sync_playwright,
    )
except ImportError:  # pragma: no cover - the test extra installs it
    if STRICT:
        raise
    pytest.skip("playwright is not installed", allow_module_level=True)

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("LOCKER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # A camera that shows a test pattern, granted without a prompt (the QR code reader).
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PHONE = {"width": 360, "height": 740}
MIN_TARGET_PX = 44  # WCAG 2.5.5 / platform guidelines: a thumb needs 44 px
SCAN = SAMPLES / "scan.png"
HOSTILE_SVG = SAMPLES / "svg_with_script.svg"
SUBMIT = "main form button[type=submit]"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class LiveServer:
    """The application served over HTTP on 127.0.0.1, and a way to arrange its data."""

    url: str
    app: Flask
    professional_email: str

    def create_person(self) -> str:
        """A fresh person (own username, the shared test password); returns the username."""
        found = self.app.extensions["locker"]
        username = f"p{secrets.token_hex(4)}"
        with found.session_factory() as session:
            new_person(session, found.keyring, utc_now, username, "Awa")
            session.commit()
        return username

    def document_count(self, username: str) -> int:
        """How many documents the database holds for this person (deleted ones included)."""
        with self.app.extensions["locker"].session_factory() as session:
            person_id = session.scalar(select(Person.id).where(Person.username == username))
            query = select(func.count()).select_from(Document)
            return int(session.scalar(query.where(Document.person_id == person_id)) or 0)

    def stored_objects(self) -> int:
        return len(list(self.app.extensions["locker"].store.list_keys()))

    def path(self, url: str) -> str:
        """The path of a URL on this server (fails on another origin)."""
        assert url.startswith(self.url + "/"), url
        return url[len(self.url) :]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app on the embedded default, served by werkzeug in a background thread."""
    data_dir = tmp_path_factory.mktemp("browser") / "var"
    settings = load_settings({"LOCKER_DATA_DIR": str(data_dir)}, create=True)
    create_keyfile(settings.master_key_file)
    engine = make_engine(settings.database_url)
    upgrade_schema(engine)
    engine.dispose()
    app = create_app(settings)  # CSRF stays on: the browser submits the real forms
    found = app.extensions["locker"]
    found.store.ensure_ready()
    with found.session_factory() as session:
        org = new_organization(session, utc_now, "CHRS Les Lilas")
        pro = new_professional(
            session,
            utc_now,
            org,
            "Mme Martin",
            email="martin@lilas.example",
            keyring=found.keyring,
        )
        session.commit()
        email = pro.email
    server = make_server("127.0.0.1", 0, app, threaded=True)  # port 0: a free port
    thread = threading.Thread(target=server.serve_forever, name="live-locker", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    LIVE_APPS[url] = app
    try:
        yield LiveServer(url, app, email)
    finally:
        LIVE_APPS.pop(url, None)
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        found.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium; skipped when it cannot start, a failure in strict mode."""
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000
        )
    except Exception as exc:
        playwright.stop()
        require_service(f"headless Chromium ({CHROMIUM}) cannot start: {exc}")
        raise  # unreachable: require_service skips or fails
    yield launched
    launched.close()
    playwright.stop()


NewContext = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer) -> Iterator[NewContext]:
    """Phone-sized French browser contexts on the live server, closed after the test."""
    made: list[BrowserContext] = []

    def make(*, javascript: bool = True) -> BrowserContext:
        context = browser.new_context(
            base_url=live_server.url,
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
            locale="fr-FR",
            java_script_enabled=javascript,
            accept_downloads=True,
        )
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: LOCKER_TEST_SHOTS if set, else the test's temporary folder."""
    folder = Path(os.environ.get("LOCKER_TEST_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def at(server: LiveServer, path: str) -> re.Pattern[str]:
    """A URL pattern for exactly this path on the live server (the sign-in page may carry
    the page asked for, where it leads once signed in)."""
    back = r"(\?next=[^&#]*)?" if path == "/sign-in" else ""
    return re.compile(re.escape(server.url + path) + back + r"$")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# The live servers' apps by origin: a professional's sign-in computes its second factor's
# code from the database of the server the page is on.
LIVE_APPS: dict[str, Flask] = {}


def sign_in(
    page: Page, identifier: str, password: str = PASSWORD, *, second_factor: bool = True
) -> None:
    """Fill and submit the real sign-in form; a professional's second factor too (a valid
    unused code on the code's page), unless not `second_factor`."""
    page.goto("/sign-in")
    page.fill("#identifier", identifier)
    page.fill("#password", password)
    page.click(SUBMIT)
    page.wait_for_load_state()
    if second_factor and urlsplit(page.url).path == "/sign-in/code":
        enter_second_factor(page, identifier)


def enter_second_factor(page: Page, email: str, field: str = "#code") -> None:
    """Type a valid unused code of `email`'s second factor into the page's form."""
    code = code_for_email(LIVE_APPS[origin_of(page.url)], email)
    assert code is not None, f"{email} has no second factor"
    page.fill(field, code)
    page.locator(field).locator("xpath=ancestor::form").locator("button[type=submit]").click()
    page.wait_for_load_state()


def add_paper(page: Page, file: Path | dict[str, object], title: str, category: str) -> None:
    """Fill and submit the real upload form."""
    page.goto("/papers/new")
    page.set_input_files("#file", file)
    page.fill("#title", title)
    page.select_option("#category", category)
    page.click("#save")


def test_person_keeps_a_paper_with_javascript_off(
    live_server: LiveServer, new_context: NewContext
) -> None:
    username = live_server.create_person()
    context = new_context(javascript=False)
    page = context.new_page()

    page.goto("/papers")
    expect(page).to_have_url(at(live_server, "/sign-in"))
    sign_in(page, username)
    expect(page).to_have_url(at(live_server, "/papers"))
    expect(page.locator("h1")).to_have_text("Mes papiers")
    expect(page.locator(".empty")).to_be_visible()

    page.click("#add-paper")
    expect(page).to_have_url(at(live_server, "/papers/new"))
    title = "Carte d'identité recto"
    page.set_input_files("#file", SCAN)
    page.fill("#title", title)
    page.select_option("#category", "identity")
    page.click("#save")
    expect(page).to_have_url(at(live_server, "/papers"))
    expect(page.locator(".notice")).to_contain_text("enregistré")
    listed = page.locator("a.paper")
    expect(listed).to_have_count(1)
    expect(listed.locator(".paper-title")).to_have_text(title)
    expect(page.locator("h2.shelf")).to_contain_text("Identité")  # filed by its kind
    expect(listed.locator(".sharing-status")).to_have_text("Seulement vous")  # + a lock icon

    listed.click()
    expect(page).to_have_url(re.compile(r"/papers/[0-9a-f-]{36}$"))
    paper_path = live_server.path(page.url)
    expect(page.locator("h1")).to_contain_text(title)
    with page.expect_download() as downloading:
        page.click("#open")
    download = downloading.value
    assert Path(download.path()).read_bytes() == SCAN.read_bytes()
    assert download.suggested_filename.endswith(".png")

    # Deleting asks first; "no" changes nothing.
    page.click("#delete")
    expect(page.locator("h1")).to_have_text("Mettre ce papier à la corbeille ?")
    page.click("#cancel")
    expect(page).to_have_url(at(live_server, paper_path))
    # Yes moves the paper to the trash, from where it can be put back.
    page.click("#delete")
    page.click("#confirm")
    expect(page).to_have_url(at(live_server, "/papers"))
    expect(page.locator(".notice")).to_contain_text("corbeille")
    expect(page.locator("a.paper")).to_have_count(0)
    expect(page.locator(".empty")).to_be_visible()
    assert context.request.get(paper_path).status == 404
    assert context.request.get(f"{paper_path}/content").status == 404
    page.click("#trash-link")
    expect(page).to_have_url(at(live_server, "/trash"))
    expect(page.locator(".paper-title")).to_have_text(title)
    page.click("button[id^=restore-]")
    expect(page.locator(".notice")).to_contain_text("de retour")
    page.goto("/papers")
    expect(page.locator("a.paper .paper-title")).to_have_text(title)
    assert context.request.get(paper_path).status == 200

    page.goto(paper_path)
    page.click("#delete")
    page.click("#confirm")
    expect(page).to_have_url(at(live_server, "/papers"))
    expect(page.locator("a.paper")).to_have_count(0)
    expect(page.locator(".empty")).to_be_visible()

    page.click("#sign-out")
    expect(page).to_have_url(at(live_server, "/sign-in"))
    page.goto("/papers")
    expect(page).to_have_url(at(live_server, "/sign-in"))
    expect(page.locator("#identifier")).to_be_visible()
    expect(page.locator("#sign-out")).to_have_count(0)


def test_an_empty_form_says_what_is_missing_beside_each_field(
    live_server: LiveServer, new_context: NewContext
) -> None:
    page = new_context(javascript=False).new_page()
    page.goto("/sign-in")
    page.click(SUBMIT)
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("a")).to_have_count(2)
    expect(summary).not_to_contain_text("incorrect")
    expect(page.locator("#identifier-error")).to_contain_text("Entrez votre identifiant")
    expect(page.locator("#identifier")).to_have_attribute("aria-describedby", "identifier-error")
    expect(page.locator("#password-error")).to_contain_text("Entrez votre mot de passe")
    summary.locator("a").first.click()
    expect(page.locator("#identifier")).to_be_focused()


def test_wrong_password_is_said_plainly(live_server: LiveServer, new_context: NewContext) -> None:
    username = live_server.create_person()
    page = new_context(javascript=False).new_page()
    for identifier in (username, "personne-inconnue"):
        page.goto("/sign-in")
        page.fill("#identifier", identifier)
        page.fill("#password", "not the password")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.click(SUBMIT)
        assert posted.value.status == 401
        expect(page.locator(".error-summary")).to_contain_text(
            "Identifiant ou mot de passe incorrect"
        )
        expect(page.locator(".error-summary")).to_have_count(1)
        expect(page.locator(".error-summary")).to_be_focused()
        assert page.title().startswith("Erreur :")
        expect(page.locator("#identifier")).to_have_value(identifier)
        expect(page.locator("#password")).to_have_value("")  # never echoed back
        html = page.content()
        for leak in ("Traceback", 'File "', "Werkzeug", "not the password"):
            assert leak not in html
        expect(page).to_have_url(at(live_server, "/sign-in"))


def test_hostile_svg_is_refused_without_running(
    live_server: LiveServer, new_context: NewContext
) -> None:
    username = live_server.create_person()
    page = new_context(javascript=True).new_page()
    dialogs: list[str] = []

    def refuse_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse_dialog)
    sign_in(page, username)
    expect(page).to_have_url(at(live_server, "/papers"))
    objects_before = live_server.stored_objects()

    page.goto("/papers/new")
    page.set_input_files("#file", HOSTILE_SVG)
    page.fill("#title", "Dessin")
    page.select_option("#category", "other")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#save")
    assert posted.value.status == 415
    refusal = page.locator(".error-summary")
    expect(refusal).to_contain_text("PDF")
    expect(refusal).to_contain_text("JPEG")
    html = page.content()
    # The file's own script is never echoed: the only script is the page's own, from us.
    scripts = re.findall(r"<script[^>]*>", html)
    assert all('src="/static/' in tag for tag in scripts), scripts
    assert "alert(1)" not in html

    page.goto("/papers")
    expect(page.locator("a.paper")).to_have_count(0)
    expect(page.locator(".empty")).to_be_visible()
    assert live_server.document_count(username) == 0
    assert live_server.stored_objects() == objects_before
    assert dialogs == [], f"a dialog fired: {dialogs}"


def test_no_page_makes_a_third_party_request(
    live_server: LiveServer, new_context: NewContext
) -> None:
    username = live_server.create_person()
    context = new_context(javascript=True)
    requested: list[str] = []
    documents: list[tuple[str, str]] = []

    def record_page(response: Response) -> None:
        if response.request.resource_type == "document":
            documents.append((response.url, response.headers.get("content-security-policy", "")))

    context.on("request", lambda request: requested.append(request.url))
    context.on("response", record_page)
    page = context.new_page()

    sign_in(page, username)
    expect(page).to_have_url(at(live_server, "/papers"))
    add_paper(page, SCAN, "Attestation CAF", "income_benefits")
    expect(page.locator("a.paper")).to_have_count(1)
    page.click("a.paper")
    expect(page.locator("#open")).to_be_visible()
    page.goto("/papers/new")
    expect(page.locator("#file")).to_be_attached()
    page.wait_for_load_state("networkidle")

    origin = live_server.url
    assert any(url == f"{origin}/static/locker.css" for url in requested), requested
    assert len(documents) >= 5, documents
    foreign = [url for url in requested if origin_of(url) != origin]
    assert foreign == [], f"third-party requests: {foreign}"
    for url, policy in documents:
        assert "default-src 'self'" in policy, url


def assert_fits_the_phone(page: Page, name: str) -> None:
    """No sideways scrolling: nothing is wider than the 360 px screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: page is {width} px wide, scrolls sideways"


def assert_thumb_sized(page: Page, selector: str) -> None:
    """Every element matching `selector` is at least 44 px tall."""
    targets = page.locator(selector).all()
    assert targets, f"nothing matches {selector}"
    for target in targets:
        box = target.bounding_box()
        assert box is not None, selector
        assert box["height"] >= MIN_TARGET_PX, f"{selector} is {box['height']:.0f} px tall"


def screenshot(page: Page, path: Path) -> None:
    """A full-page PNG (taken before the checks, so a failure leaves the evidence)."""
    page.screenshot(path=path, full_page=True)
    taken = path.read_bytes()
    assert taken.startswith(PNG_SIGNATURE) and len(taken) > 1000, path


def test_pages_fit_a_360_px_phone(
    live_server: LiveServer, new_context: NewContext, shots: Path
) -> None:
    username = live_server.create_person()
    page = new_context(javascript=True).new_page()

    page.goto("/sign-in")
    screenshot(page, shots / "sign-in.png")
    assert_fits_the_phone(page, "sign-in")
    assert_thumb_sized(page, SUBMIT)
    assert_thumb_sized(page, "#identifier, #password")

    sign_in(page, username)
    expect(page).to_have_url(at(live_server, "/papers"))
    screenshot(page, shots / "papers-empty.png")
    assert_fits_the_phone(page, "empty papers list")
    add_paper(page, SCAN, "Attestation de domiciliation du CCAS", "housing")
    expect(page.locator("a.paper")).to_have_count(1)
    screenshot(page, shots / "papers.png")
    assert_fits_the_phone(page, "papers list")
    assert_thumb_sized(page, "#add-paper")
    assert_thumb_sized(page, "a.paper")

    page.click("a.paper")
    expect(page.locator("#open")).to_be_visible()
    screenshot(page, shots / "paper.png")
    assert_fits_the_phone(page, "paper")
    assert_thumb_sized(page, "#open, #delete")

    page.goto("/papers/new")
    screenshot(page, shots / "paper-new.png")
    assert_fits_the_phone(page, "upload form")
    assert_thumb_sized(page, "#save, #title, #category")

    page.set_input_files("#file", HOSTILE_SVG)
    page.click("#save")
    expect(page.locator(".error-summary")).to_be_visible()
    screenshot(page, shots / "refused.png")
    assert_fits_the_phone(page, "refused upload")


def test_camera_file_name_as_title_fits_the_phone(
    live_server: LiveServer, new_context: NewContext, shots: Path
) -> None:
    """A blank title falls back to the file name: a phone camera's long unbroken one."""
    username = live_server.create_person()
    page = new_context(javascript=True).new_page()
    sign_in(page, username)
    expect(page).to_have_url(at(live_server, "/papers"))
    camera_photo = {"name": "IMG_20240315_103045_HDR.png", "mimeType": "image/png"}
    add_paper(page, {**camera_photo, "buffer": SCAN.read_bytes()}, "", "residence_permit")
    expect(page.locator("a.paper .paper-title")).to_have_text("IMG_20240315_103045_HDR.png")
    screenshot(page, shots / "papers-camera-name.png")
    assert_fits_the_phone(page, "papers list with a camera file name")
    page.click("a.paper")
    expect(page.locator("#open")).to_be_visible()
    screenshot(page, shots / "paper-camera-name.png")
    assert_fits_the_phone(page, "paper with a camera file name")


def test_sign_out_and_back_links_are_thumb_sized(
    live_server: LiveServer, new_context: NewContext
) -> None:
    """On a borrowed phone, signing out must be easy to hit; so must the way back."""
    username = live_server.create_person()
    page = new_context(javascript=False).new_page()
    sign_in(page, username)
    expect(page).to_have_url(at(live_server, "/papers"))
    assert_thumb_sized(page, "#sign-out")
    page.goto("/papers/new")
    assert_thumb_sized(page, "main a:has-text('Retour')")


def test_professional_opens_an_account_with_javascript_off(
    live_server: LiveServer, new_context: NewContext, shots: Path
) -> None:
    page = new_context(javascript=False).new_page()
    sign_in(page, live_server.professional_email)
    expect(page).to_have_url(at(live_server, "/pro"))
    expect(page.locator("h1")).to_have_text("Espace professionnel")
    assert page.goto("/papers").status == 404  # a professional has no papers page

    page.goto("/pro")
    username = f"n{secrets.token_hex(4)}"
    page.fill("#username", username)
    page.fill("#display_name", "Nadia")
    page.fill("#password", PASSWORD)
    page.click(SUBMIT)
    expect(page.locator("#created-username")).to_have_text(username)
    expect(page.locator("#password")).to_have_value("")  # never echoed back
    screenshot(page, shots / "pro.png")
    assert_fits_the_phone(page, "professional page")
    assert_thumb_sized(page, SUBMIT)

    # The password the professional chose opens only the change to the person's own;
    # then the card the professional saw stops working and a fresh one is shown once.
    person = new_context(javascript=False).new_page()
    sign_in(person, username)
    expect(person).to_have_url(at(live_server, "/account/password"))
    expect(person.locator("#password-change-required")).to_be_visible()
    person.goto("/papers")
    expect(person).to_have_url(at(live_server, "/account/password"))
    person.fill("#current_password", PASSWORD)
    person.fill("#new_password", "mon-propre-mot-de-passe")
    person.click(SUBMIT)
    expect(person.locator("#recovery-card code")).to_have_count(8)
    assert_fits_the_phone(person, "fresh recovery card")
    # Then what the locker is, before first use (R.55-1): read, accepted once.
    person.goto("/papers")
    expect(person).to_have_url(at(live_server, "/information"))
    person.click("#accept-information")
    person.goto("/papers")
    expect(person).to_have_url(at(live_server, "/papers"))
    expect(person.locator(".empty")).to_be_visible()


def test_cookie_replayed_after_sign_out_opens_nothing(
    live_server: LiveServer, new_context: NewContext
) -> None:
    username = live_server.create_person()
    signed_in = new_context(javascript=False)
    page = signed_in.new_page()
    sign_in(page, username)
    expect(page).to_have_url(at(live_server, "/papers"))
    cookies = signed_in.cookies()
    assert any(cookie["name"] == "locker" for cookie in cookies), cookies

    # Control: the copied cookies do open the papers while the session lives.
    before = new_context(javascript=False)
    before.add_cookies(cookies)
    control = before.new_page()
    control.goto("/papers")
    expect(control).to_have_url(at(live_server, "/papers"))
    expect(control.locator("h1")).to_have_text("Mes papiers")

    page.click("#sign-out")
    expect(page).to_have_url(at(live_server, "/sign-in"))

    replayed = new_context(javascript=False)
    replayed.add_cookies(cookies)
    stale = replayed.new_page()
    stale.goto("/papers")
    expect(stale).to_have_url(at(live_server, "/sign-in"))
    expect(stale.locator("#sign-out")).to_have_count(0)
    # The context that opened papers before sign-out is shut out too (same server row).
    control.goto("/papers")
    expect(control).to_have_url(at(live_server, "/sign-in"))
