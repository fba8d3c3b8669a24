"""Photos leave the phone small (web/static/upload.js), in a real Chromium at 360 x 640.

With JavaScript, a 12 MP photo is shrunk in the browser to at most 2000 px and about 1 MB,
sent with a progress bar, and a dropped connection offers to send the same data again.
Without JavaScript, the very same form sends the photo whole.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.photos import make_phone_photo
from tests.web.test_browser import (  # noqa: F401 (fixtures are used by name)
    LiveServer,
    NewContext,
    at,
    browser,
    live_server,
    new_context,
    sign_in,
)

try:
    from playwright.sync_api import BrowserContext, Page, Request, Route, expect
except ImportError:  # pragma: no cover - test_browser already skipped or failed the module
    pytest.skip("playwright is not installed", allow_module_level=True)

pytestmark = pytest.mark.browser

SMALL_PHONE = {"width": 360, "height": 640}
SHRUNK_SIDE = 2000
BODY_LIMIT = 1_100_000  # the shrunk photo (<= 1 MB) and the form's other fields
TITLE = "Titre de séjour"


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12 MP, ~6 MB camera photo held sideways (EXIF Orientation=6)."""
    made = make_phone_photo(tmp_path_factory.mktemp("camera") / "IMG_20241205_101500.jpg")
    assert made.stat().st_size > 4_000_000
    with Image.open(made) as opened:
        assert opened.size == (4032, 3024)
    return made


def phone_page(make: NewContext, *, javascript: bool) -> tuple[BrowserContext, Page]:
    context = make(javascript=javascript)
    page = context.new_page()
    page.set_viewport_size(SMALL_PHONE)
    return context, page


def signed_in_phone(
    server: LiveServer, make: NewContext, *, javascript: bool = True
) -> tuple[str, BrowserContext, Page]:
    """A new person signed in on a small phone, on their list of papers."""
    username = server.create_person()
    context, page = phone_page(make, javascript=javascript)
    sign_in(page, username)
    expect(page).to_have_url(at(server, "/papers"))
    return username, context, page


def slow_uplink(context: BrowserContext, page: Page) -> None:
    """About 1 Mbit/s up: long enough an upload to see its progress bar move."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 20,
            "downloadThroughput": 1_000_000,
            "uploadThroughput": 125_000,
        },
    )


def is_upload(request: Request) -> bool:
    return request.method == "POST" and request.url.endswith("/papers/new")


def body_size(request: Request) -> int:
    """The size of the body the browser sent (Content-Length when the body is a file)."""
    body = request.post_data_buffer
    if body:
        return len(body)
    return int(request.all_headers()["content-length"])


def parts(request: Request) -> list[bytes]:
    """The parts of a multipart body, without its boundary (drawn anew for each sending)."""
    body = request.post_data_buffer
    assert body is not None
    boundary = body.split(b"\r\n", 1)[0]
    return body.split(boundary)


def choose_photo(page: Page, photo: Path) -> None:
    page.goto("/papers/new")
    page.set_input_files("#camera", photo)
    page.fill("#title", TITLE)
    page.select_option("#category", "residence_permit")


def stored_size(context: BrowserContext, page: Page) -> tuple[int, int]:
    """The pixel size of the one paper on the list, downloaded as its owner would."""
    href = page.locator("a.paper").get_attribute("href")
    assert href is not None
    content = context.request.get(f"{href}/content")
    assert content.status == 200
    with Image.open(io.BytesIO(content.body())) as stored:
        return stored.size


def assert_saved(server: LiveServer, page: Page) -> None:
    expect(page).to_have_url(at(server, "/papers"))
    expect(page.locator(".notice")).to_contain_text("enregistré")
    listed = page.locator("a.paper")
    expect(listed).to_have_count(1)
    expect(listed.locator(".paper-title")).to_have_text(TITLE)


def test_a_12_mp_photo_leaves_the_phone_under_a_megabyte(
    live_server: LiveServer,  # noqa: F811
    new_context: NewContext,  # noqa: F811
    photo: Path,
) -> None:
    username, context, page = signed_in_phone(live_server, new_context)
    choose_photo(page, photo)
    slow_uplink(context, page)

    with page.expect_request(is_upload) as posting:
        page.click("#save")
    progress = page.locator("#upload-progress")
    expect(progress).to_be_visible()
    expect(page.locator("#upload-text")).to_contain_text("Envoi en cours")
    expect(page.locator("#save")).to_be_disabled()

    assert_saved(live_server, page)
    sent = body_size(posting.value)
    assert sent <= BODY_LIMIT, f"{sent} bytes left the phone for a {photo.stat().st_size} photo"
    width, height = stored_size(context, page)
    assert max(width, height) <= SHRUNK_SIDE
    assert height > width  # turned upright by its EXIF orientation before being drawn
    assert live_server.document_count(username) == 1


def test_a_dropped_connection_offers_to_send_the_same_photo_again(
    live_server: LiveServer,  # noqa: F811
    new_context: NewContext,  # noqa: F811
    photo: Path,
) -> None:
    username, _, page = signed_in_phone(live_server, new_context)
    choose_photo(page, photo)
    posted: list[Request] = []

    def drop_the_first_upload(route: Route) -> None:
        if not is_upload(route.request):
            route.continue_()
            return
        posted.append(route.request)
        if len(posted) == 1:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/papers/new", drop_the_first_upload)
    page.click("#save")
    retry = page.locator("#retry")
    expect(retry).to_be_visible()
    expect(page.locator("#upload-text")).to_contain_text("connexion")
    expect(page).to_have_url(at(live_server, "/papers/new"))
    assert live_server.document_count(username) == 0

    retry.click()
    assert_saved(live_server, page)
    assert len(posted) == 2
    # The retry sends the data already prepared: the same shrunk photo, byte for byte.
    first, second = (parts(request) for request in posted)
    assert first == second and any(b'filename="IMG_20241205_101500.jpg"' in p for p in first)
    assert body_size(posted[1]) <= BODY_LIMIT
    assert live_server.document_count(username) == 1


def test_an_answer_lost_after_the_paper_was_stored_does_not_store_it_twice(
    live_server: LiveServer,  # noqa: F811
    new_context: NewContext,  # noqa: F811
    photo: Path,
) -> None:
    """The server stored the paper, then the connection dropped before its answer: the retry
    carries the form's upload key, and the person still has one paper."""
    username, _, page = signed_in_phone(live_server, new_context)
    choose_photo(page, photo)
    sent: list[Request] = []

    def lose_the_first_answer(route: Route) -> None:
        if is_upload(route.request) and not sent:
            sent.append(route.request)
            route.fetch()  # the server receives it all and stores the paper
            route.abort("connectionreset")  # and its answer never reaches the phone
        else:
            route.continue_()

    page.route("**/papers/new", lose_the_first_answer)
    page.click("#save")
    expect(page.locator("#retry")).to_be_visible()
    assert live_server.document_count(username) == 1
    page.click("#retry")
    assert_saved(live_server, page)
    assert live_server.document_count(username) == 1


def test_a_server_that_cannot_finish_says_why_and_offers_to_send_again(
    live_server: LiveServer,  # noqa: F811
    new_context: NewContext,  # noqa: F811
    photo: Path,
) -> None:
    username, _, page = signed_in_phone(live_server, new_context)
    choose_photo(page, photo)
    unavailable = "Le service de stockage ne répond pas. Rien n'a été perdu : réessayez."
    answered: list[Request] = []

    def unavailable_once(route: Route) -> None:
        if is_upload(route.request) and not answered:
            answered.append(route.request)
            page_503 = f'<div id="error-summary"><h1>Oups</h1><p>{unavailable}</p></div>'
            route.fulfill(status=503, content_type="text/html; charset=utf-8", body=page_503)
        else:
            route.continue_()

    page.route("**/papers/new", unavailable_once)
    page.click("#save")
    expect(page.locator("#upload-text")).to_have_text(unavailable)
    page.click("#retry")
    assert_saved(live_server, page)
    assert live_server.document_count(username) == 1


def test_a_refusal_shows_the_servers_page_and_the_form_still_sends(
    live_server: LiveServer,  # noqa: F811
    new_context: NewContext,  # noqa: F811
    photo: Path,
    tmp_path: Path,
) -> None:
    _, _, page = signed_in_phone(live_server, new_context)

    # Over the limit: refused on the phone, in the server's words, before any byte is sent.
    huge = tmp_path / "releve.pdf"
    with huge.open("wb") as file:
        file.truncate(31 * 1024 * 1024)
    page.goto("/papers/new")
    uploads: list[Request] = []
    page.on("request", lambda request: uploads.append(request) if is_upload(request) else None)
    page.set_input_files("#file", huge)
    page.click("#save")
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Ce fichier est trop gros. La limite est de 30 Mo.")
    expect(page.locator("#camera-error")).to_contain_text("trop gros")
    assert uploads == []

    # Refused by the server: its own page replaces this one, error summary first.
    page.set_input_files("#file", [])
    page.set_input_files("#camera", {"name": "a.txt", "mimeType": "text/plain", "buffer": b"hi"})
    page.click("#save")
    expect(summary).to_contain_text("JPEG")
    expect(summary).to_be_focused()
    assert page.title().startswith("Erreur :")
    expect(page).to_have_url(at(live_server, "/papers/new"))
    assert len(uploads) == 1

    # The page the server sent is enhanced too: the photo goes shrunk from there.
    page.set_input_files("#camera", photo)
    page.fill("#title", TITLE)
    page.click("#save")
    assert_saved(live_server, page)
    assert body_size(uploads[-1]) <= BODY_LIMIT


def test_without_javascript_the_same_form_sends_the_photo_whole(
    live_server: LiveServer,  # noqa: F811
    new_context: NewContext,  # noqa: F811
    photo: Path,
) -> None:
    _, context, page = signed_in_phone(live_server, new_context, javascript=False)
    choose_photo(page, photo)
    with page.expect_request(is_upload) as posting:
        page.click("#save")
    assert_saved(live_server, page)
    assert body_size(posting.value) > photo.stat().st_size
    width, height = stored_size(context, page)
    assert height > width
