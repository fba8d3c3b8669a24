"""A real OpenID provider for the ProConnect tests: oidc-provider (OpenID Certified) run by
the machine's Node.js from tests/tools/oidc/ (`scripts/bootstrap.sh test` installs it
with `npm ci`), on a free port of this machine, stopped after the tests.

The tests drive it over plain HTTP, as a browser would (tests/web/test_proconnect.py):
the redirects between the service (Flask's test client, at http://localhost) and the
provider are followed by hand.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.conftest import require_service

TOOL = Path(__file__).parent / "tools" / "oidc"
REDIRECT_URI = "http://localhost/sign-in/proconnect/callback"
POST_LOGOUT_URI = "http://localhost/sign-out/proconnect"
CLIENT_ID = "locker"
CLIENT_SECRET = "test-client-secret-0123456789abcdef"  # as tests/tools/oidc/provider.js
TIMEOUT = 10


@dataclass
class OpenIdProvider:
    issuer: str
    process: subprocess.Popen[str]

    def choose(self, **account: str) -> None:
        """The account the next authorization signs in (its claims, acr and amr)."""
        answer = requests.get(f"{self.issuer}/_test/next", params=account, timeout=TIMEOUT)
        answer.raise_for_status()

    def forge(self, on: bool) -> None:
        """Publish, under the signing key's kid, another key: ID tokens then carry a
        signature by a key the provider does not publish."""
        answer = requests.get(
            f"{self.issuer}/_test/forge", params={"on": "1" if on else "0"}, timeout=TIMEOUT
        )
        answer.raise_for_status()

    def follow(self, browser: requests.Session, url: str, method: str = "GET") -> str:
        """Follow the provider's redirects as a browser would, until one leaves it (to the
        service); answers that address. Forms of the provider (its sign-out question) are
        answered yes."""
        data: dict[str, str] | None = None
        while url.startswith(self.issuer):
            answer = browser.request(method, url, data=data, allow_redirects=False, timeout=TIMEOUT)
            if answer.status_code in {302, 303}:
                url, method, data = urljoin(url, answer.headers["Location"]), "GET", None
                continue
            assert answer.status_code == 200, (answer.status_code, answer.text[:300])
            url, data = _form(url, answer.text)
            method = "POST"
        return url


def _form(page_url: str, page: str) -> tuple[str, dict[str, str]]:
    """The provider's one form on `page` (its sign-out confirmation), answered yes."""
    action = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert action is not None, page[:300]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    return urljoin(page_url, action.group(1)), {**fields, "logout": "yes"}


def free_port() -> int:
    """A port of this machine free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_provider(
    redirect_uri: str, post_logout_uri: str, log: Path
) -> Iterator[OpenIdProvider]:
    """A test provider whose client comes back to these addresses, stopped on exit (strict
    mode: no Node.js or no package is a failure)."""
    node = shutil.which("node")
    if node is None:
        require_service("Node.js is missing: the ProConnect tests run oidc-provider with it")
    if not (TOOL / "node_modules" / "oidc-provider").is_dir():
        require_service(f"oidc-provider is not installed: npm ci --prefix {TOOL}")
    port = free_port()
    with log.open("w") as errors:
        process = subprocess.Popen(
            [str(node), str(TOOL / "provider.js"), str(port), redirect_uri, post_logout_uri],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("ready "):
            pytest.fail(f"the test OpenID provider did not start: {log.read_text()[:500]}")
        issuer = line.split()[1]
        assert urlsplit(issuer).port == port
        yield OpenIdProvider(issuer=issuer, process=process)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIdProvider]:
    """The test provider of Flask's test client (http://localhost), started once."""
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with running_provider(REDIRECT_URI, POST_LOGOUT_URI, log) as provider:
        yield provider
