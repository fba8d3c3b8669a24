"""The real `locker serve`: slow clients hold no thread, and the access log stays one line per
request with nothing personal in it."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import sample
from tests.test_cli import ROOT, run

SLOW_CLIENTS = 50
# A functional bound, not a benchmark: a page stuck behind slow bodies waited for them.
PAGE_TIMEOUT = 10.0


USERNAME, DISPLAY_NAME, PASSWORD = "zoe-unique-user", "Zoé Nom-Unique", "mot-de-passe-unique-42"


@dataclass
class Server:
    port: int
    log: Path
    person_id: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("serve")
    env = {"LOCKER_DATA_DIR": str(folder / "var"), "LOCKER_COOKIE_SECURE": "false"}
    assert run(env, "init").returncode == 0
    created = run(
        env,
        "create-person",
        "--username",
        USERNAME,
        "--display-name",
        DISPLAY_NAME,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    person_id = json.loads(created.stdout)["id"]
    port = _free_port()
    log = folder / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers", "1"],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        for _ in range(300):  # up to 30 s for the interpreter and the app to start
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, log.read_text()
                time.sleep(0.1)
        yield Server(port, log, person_id)
    finally:
        process.terminate()
        process.wait(timeout=30)


def get(server: Server, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=PAGE_TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def open_slow_uploads(server: Server, count: int) -> list[socket.socket]:
    """Connections that announce a 1 MB body and send only its first bytes."""
    sockets = []
    for _ in range(count):
        slow = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        slow.sendall(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b'Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"user'
        )
        sockets.append(slow)
    return sockets


def test_a_page_answers_while_50_slow_uploads_are_open(server: Server) -> None:
    assert get(server, "/sign-in") == 200
    slow = open_slow_uploads(server, SLOW_CLIENTS)
    try:
        time.sleep(0.5)  # let the server accept them all first
        for _ in range(3):
            assert get(server, "/sign-in") == 200
    finally:
        for connection in slow:
            connection.close()


def call(
    server: Server, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request(method, path, body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_an_upload_goes_through_the_server_and_the_log_keeps_nothing_personal(
    server: Server,
) -> None:
    assert get(server, "/%0d%0aFORGED%20200%0a?password=query-secret") == 404
    json_type = {"Content-Type": "application/json"}
    wrong = json.dumps({"username": USERNAME, "password": "wrong-" + PASSWORD}).encode()
    assert call(server, "POST", "/api/v1/auth/token", wrong, json_type)[0] == 401
    right = json.dumps({"username": USERNAME, "password": PASSWORD}).encode()
    status, answer = call(server, "POST", "/api/v1/auth/token", right, json_type)
    assert status == 201, answer
    token = json.loads(answer)["token"]
    boundary = "locker-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n'
            f'Titre-intime-42\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="scan.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + sample("scan.png")
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, answer = call(
        server,
        "POST",
        f"/api/v1/persons/{server.person_id}/documents",
        body,
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert status == 201, answer
    for _ in range(50):  # a line is written when the server closes its response
        logged = server.log.read_text()
        if "unmatched" in logged and "/documents" in logged:
            break
        time.sleep(0.1)
    # One JSON object a line; the forged path is never written, only its route template.
    entries = [json.loads(line) for line in logged.splitlines()]
    assert any(e.get("route") == "unmatched" and e.get("status") == 404 for e in entries)
    assert "FORGED" not in logged, logged
    for secret in (
        "query-secret",
        USERNAME,
        DISPLAY_NAME,
        PASSWORD,
        token,
        "$argon2",
        "Titre-intime-42",
    ):
        assert secret not in logged, secret[:8]
