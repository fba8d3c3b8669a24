"""ProConnect in a real browser (headless Chromium): the button, the provider, back signed
in, then signed out here and at the provider, with the pages' own CSP in force."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from crypto.keyring import create_keyfile
from locker.actors import utc_now
from locker.db import make_engine
from locker.schema import upgrade_schema
from locker.settings import ProConnectSettings, load_settings
from sharing.organizations import set_siret
from tests.factories import new_organization, new_professional
from tests.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    OpenIdProvider,
    free_port,
    running_provider,
)
from tests.web.test_accessibility import AXE_TAGS, RUN_AXE, axe_source
from tests.web.test_browser import LIVE_APPS, LiveServer, NewContext, at, browser, new_context
from tests.web.test_proconnect import SIRET, account
from web.app import create_app

__all__ = ["axe_source", "browser", "new_context"]  # the fixtures, used by name

pytestmark = pytest.mark.browser


@dataclasses.dataclass
class ProConnectServer:
    server: LiveServer
    provider: OpenIdProvider


@pytest.fixture(scope="module")
def proconnect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProConnectServer]:
    """The app served on 127.0.0.1 with ProConnect on, and its own test provider."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    folder = tmp_path_factory.mktemp("proconnect-browser")
    with running_provider(
        f"{url}/sign-in/proconnect/callback", f"{url}/sign-out/proconnect", folder / "op.log"
    ) as provider:
        settings = load_settings({"LOCKER_DATA_DIR": str(folder / "var")}, create=True)
        settings = dataclasses.replace(
            settings,
            proconnect=ProConnectSettings(
                issuer=provider.issuer,
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                acr_values=("eidas1",),
            ),
        )
        create_keyfile(settings.master_key_file)
        engine = make_engine(settings.database_url)
        upgrade_schema(engine)
        engine.dispose()
        app = create_app(settings)
        found = app.extensions["locker"]
        found.store.ensure_ready()
        with found.session_factory() as session:
            org = new_organization(session, utc_now, "CHRS Les Tilleuls")
            set_siret(session, utc_now, organization_id=org.id, siret=SIRET)
            new_professional(session, utc_now, org, "camille", keyring=found.keyring)
            session.commit()
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-pc", daemon=True)
        thread.start()
        LIVE_APPS[url] = app
        try:
            yield ProConnectServer(LiveServer(url, app, "camille@example.org"), provider)
        finally:
            LIVE_APPS.pop(url, None)
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            found.engine.dispose()


@pytest.fixture
def live_server(proconnect_server: ProConnectServer) -> LiveServer:
    """The browser contexts' server (tests/web/test_browser.py's `new_context`)."""
    return proconnect_server.server


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_sign_in_and_out_with_proconnect_in_a_browser(
    proconnect_server: ProConnectServer,
    new_context: NewContext,
    javascript: bool,
    tmp_path: Path,
    axe_source: str,
) -> None:
    from playwright.sync_api import expect

    server = proconnect_server.server
    context = new_context(javascript=javascript)
    page = context.new_page()
    proconnect_server.provider.choose(**account())
    page.goto("/sign-in")
    if javascript:
        # The sign-in page with its ProConnect button: no WCAG 2.2 AA violation (axe-core).
        page.evaluate(axe_source)
        assert page.evaluate("axe.version")
        assert page.evaluate(RUN_AXE, AXE_TAGS) == []
    page.get_by_role("link", name="S'identifier avec ProConnect").click()
    # The provider signs the chosen account in at once, and sends the browser back.
    page.wait_for_url(at(server, "/pro"))
    expect(page.locator("#sign-out")).to_be_visible()
    page.click("#sign-out")
    # Signed out here, on to the provider's sign-out (by itself, or by the link).
    page.wait_for_url(f"{proconnect_server.provider.issuer}/**")
    page.get_by_role("button", name="Oui").click()
    page.wait_for_url(at(server, "/sign-in"))
    expect(page.locator("main")).to_contain_text("Vous êtes déconnecté, ici et chez ProConnect.")
    page.screenshot(path=str(tmp_path / "signed-out.png"))
