"""The production setup runs: gunicorn with deploy/gunicorn.conf.py, then nginx with
deploy/nginx.conf in front of it (ports and paths rewritten to this machine), on
PostgreSQL and a real S3 server, secrets read from files as deploy/compose.yaml gives them."""

from __future__ import annotations

import datetime
import getpass
import http.client
import ipaddress
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from locker.settings import Settings
from tests.conftest import PASSWORD, Actors, require_service, sample

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
# Functional bounds, not benchmarks: a start that never ends, a request stuck for good.
START_SECONDS = 90
REQUEST_TIMEOUT = 20.0
# More slow clients than gunicorn has threads (2 workers x 4): without the buffering proxy
# they hold every thread and a page waits for them.
SLOW_CLIENTS = 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> dict[str, object]:
        return dict(json.loads(self.body))


@dataclass
class Endpoint:
    """Where a server listens, and how to speak to it (plain HTTP or TLS)."""

    port: int
    tls: ssl.SSLContext | None = None

    def connect(self) -> http.client.HTTPConnection:
        if self.tls is None:
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        return http.client.HTTPSConnection(
            "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT, context=self.tls
        )

    def call(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Answer:
        connection = self.connect()
        try:
            connection.request(method, path, body or None, headers=headers or {})
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            connection.close()


def _write_secret(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text + "\n")
    path.chmod(0o600)
    return str(path)


def _production_env(settings: Settings, folder: Path, port: int) -> dict[str, str]:
    """The environment deploy/compose.yaml gives an app container, for this test's stack."""
    secrets = folder / "secrets"
    secrets.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LOCKER_", "AWS_", "PROMETHEUS_", "GUNICORN_"))
    }
    credentials = "[default]\naws_access_key_id = {}\naws_secret_access_key = {}".format(
        os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    )
    metrics = folder / "metrics"
    metrics.mkdir()
    (metrics / "counter_999999.db").write_bytes(b"left by an earlier run")
    env.update(
        {
            "LOCKER_DATA_DIR": str(settings.data_dir),
            "LOCKER_DATABASE_URL_FILE": _write_secret(
                secrets, "database_url", settings.database_url
            ),
            "LOCKER_SECRET_KEY_FILE": _write_secret(secrets, "secret_key", settings.secret_key),
            "AWS_SHARED_CREDENTIALS_FILE": _write_secret(secrets, "s3_credentials", credentials),
            "LOCKER_STORAGE_URL": settings.storage_url,
            "LOCKER_S3_ENDPOINT_URL": str(settings.s3_endpoint_url),
            "LOCKER_S3_REGION": str(settings.s3_region),
            "LOCKER_MASTER_KEY_FILE": str(settings.master_key_file),
            "LOCKER_AUDIT_WITNESS_DIR": str(settings.audit_witness_dir),
            "LOCKER_COOKIE_SECURE": "true",
            "LOCKER_PROXY_HOPS": "1",
            "LOCKER_TRUSTED_PROXIES": "127.0.0.1",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        }
    )
    return env


def _wait_until_alive(endpoint: Endpoint, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if endpoint.call("GET", "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not answering after {START_SECONDS} s: {log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # gunicorn lets requests in flight finish (graceful_timeout, 30 s); nginx stops at once.
    process.terminate()
    process.wait(timeout=60)


@dataclass
class Gunicorn:
    endpoint: Endpoint
    metrics_dir: Path
    log: Path


@pytest.fixture
def gunicorn(settings: Settings, world: Actors, tmp_path: Path) -> Iterator[Gunicorn]:
    port = _free_port()
    env = _production_env(settings, tmp_path, port)
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(DEPLOY / "gunicorn.conf.py")],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        endpoint = Endpoint(port)
        _wait_until_alive(endpoint, process, log)
        yield Gunicorn(endpoint, Path(env["PROMETHEUS_MULTIPROC_DIR"]), log)
    finally:
        _stop(process)


def _sign_in(endpoint: Endpoint, username: str) -> str:
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    answer = endpoint.call("POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"})
    assert answer.status == 201, answer.body
    return str(answer.json()["token"])


def _upload(endpoint: Endpoint, token: str, person_id: str) -> Answer:
    boundary = "deploy-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nScan\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="scan.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + sample("scan.png")
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return endpoint.call(
        "POST",
        f"/api/v1/persons/{person_id}/documents",
        body,
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )


@pytest.mark.parametrize("stack", ["postgres-s3"])
def test_gunicorn_serves_the_app_with_the_production_settings(
    gunicorn: Gunicorn, world: Actors
) -> None:
    endpoint = gunicorn.endpoint
    assert endpoint.call("GET", "/healthz").json() == {"alive": True}
    ready = endpoint.call("GET", "/readyz")
    assert (ready.status, ready.json()) == (200, {"ready": True, "failing": []})
    token = _sign_in(endpoint, "alice")
    stored = _upload(endpoint, token, world.alice.id)
    assert stored.status == 201, stored.body
    listed = endpoint.call(
        "GET",
        f"/api/v1/persons/{world.alice.id}/documents",
        b"",
        {"Authorization": f"Bearer {token}"},
    )
    assert listed.status == 200 and b"Scan" in listed.body
    # The metrics folder was emptied at start, and any worker answers for all of them.
    assert not (gunicorn.metrics_dir / "counter_999999.db").exists()
    metrics = endpoint.call("GET", "/metrics")
    assert metrics.status == 200
    assert b'locker_uploads_total{outcome="stored"} 1.0' in metrics.body


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "locker.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "tls_certificate", folder / "tls_private_key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def local_nginx_conf(folder: Path, upstream: int, http_port: int, https_port: int) -> Path:
    """deploy/nginx.conf with its container addresses and paths replaced by this test's."""
    text = (DEPLOY / "nginx.conf").read_text()
    replacements = {
        "user nginx;": f"user {getpass.getuser()};",
        "/var/cache/nginx": str(folder),
        "/run/secrets": str(folder),
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        # Browsers name the port in Referer; on 443 in production, nobody does.
        "proxy_set_header Host $host;": f"proxy_set_header Host $host:{https_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "server app1:8000": f"server 127.0.0.1:{upstream}",
        # Both containers are the one gunicorn here.
        "server app2:8000": f"server 127.0.0.1:{upstream}",
    }
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx.conf no longer has {old!r}: update this test"
        text = text.replace(old, new)
    conf = folder / "nginx.conf"
    conf.write_text(text)
    return conf


@dataclass
class Proxy:
    https: Endpoint
    http: Endpoint


@pytest.fixture
def nginx(gunicorn: Gunicorn, tmp_path: Path) -> Iterator[Proxy]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        require_service("nginx is not installed (apt-get install nginx)")
    folder = tmp_path / "nginx"
    folder.mkdir()
    cert, _ = self_signed(folder)
    https, plain = _free_port(), _free_port()
    conf = local_nginx_conf(folder, gunicorn.endpoint.port, plain, https)
    log = folder / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [binary, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        proxy = Proxy(
            Endpoint(https, ssl.create_default_context(cafile=str(cert))), Endpoint(plain)
        )
        _wait_until_alive(proxy.https, process, log)
        yield proxy
    finally:
        _stop(process)


def _slow_bodies(endpoint: Endpoint) -> list[socket.socket]:
    """TLS connections that announce a 1 MB sign-in and send only its first bytes (the
    app must read a sign-in's body: straight to gunicorn, these hold all its threads)."""
    assert endpoint.tls is not None
    opened = []
    for _ in range(SLOW_CLIENTS):
        raw = socket.create_connection(("127.0.0.1", endpoint.port), timeout=REQUEST_TIMEOUT)
        slow = endpoint.tls.wrap_socket(raw, server_hostname="127.0.0.1")
        slow.sendall(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b'Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"user'
        )
        opened.append(slow)
    return opened


def _form_sign_in(proxy: Endpoint, referer: str | None) -> Answer:
    page = proxy.call("GET", "/sign-in")
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("__Host-locker=") and "Secure" in cookie, cookie
    found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.body)
    assert found is not None, page.body[:300]
    form = urlencode(
        {"identifier": "alice", "password": PASSWORD, "csrf_token": found.group(1).decode()}
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookie.split(";", 1)[0],
    }
    if referer is not None:
        headers["Referer"] = referer
    return proxy.call("POST", "/sign-in", form.encode(), headers)


@pytest.mark.parametrize("stack", ["postgres-s3"])
def test_the_app_sees_https_through_the_proxy(nginx: Proxy, world: Actors) -> None:
    # A form sent over HTTPS must name its page in Referer (Flask-WTF's strict check),
    # which the app applies only if nginx's X-Forwarded-Proto reached it through gunicorn.
    assert _form_sign_in(nginx.https, None).status == 400
    signed_in = _form_sign_in(nginx.https, f"https://127.0.0.1:{nginx.https.port}/sign-in")
    assert signed_in.status in {302, 303}, signed_in.body[:300]
    assert signed_in.headers["Set-Cookie"].startswith("__Host-locker=")


@pytest.mark.parametrize("stack", ["postgres-s3"])
def test_nginx_buffers_uploads_in_front_of_gunicorn(nginx: Proxy, world: Actors) -> None:
    proxy = nginx.https
    moved = nginx.http.call("GET", "/papers?x=1")
    assert moved.status == 301
    assert (
        moved.headers["Location"].startswith("https://")
        and "/papers?x=1" in moved.headers["Location"]
    )
    assert proxy.call("GET", "/readyz").json() == {"ready": True, "failing": []}
    # Metrics are not served to the world, whoever asks.
    assert proxy.call("GET", "/metrics").status == 404
    token = _sign_in(proxy, "alice")
    # Slow phones hold nginx's connections, not gunicorn's threads: the service still
    # answers, and an upload sent whole goes through the buffering proxy.
    slow = _slow_bodies(proxy)
    try:
        assert proxy.call("GET", "/healthz").status == 200
        stored = _upload(proxy, token, world.alice.id)
        assert stored.status == 201, stored.body
        # The app saw nginx's fresh request id, echoed back.
        assert len(stored.headers["X-Request-ID"]) == 32
    finally:
        for connection in slow:
            connection.close()
    # A body over the app's limit is refused by nginx before it is read.
    too_big = proxy.connect()
    too_big.putrequest("POST", f"/api/v1/persons/{world.alice.id}/documents")
    too_big.putheader("Authorization", f"Bearer {token}")
    too_big.putheader("Content-Length", str(40 * 1024 * 1024))
    too_big.endheaders()
    assert too_big.getresponse().status == 413
    too_big.close()
