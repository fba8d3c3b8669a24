"""The `locker` command: init is idempotent, account commands print one JSON object."""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from tests.s3_server import TcpProxy, free_port

ROOT = Path(__file__).resolve().parents[1]
LOCKER = [sys.executable, "-m", "web.cli"]


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOCKER, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"LOCKER_DATA_DIR": str(tmp_path / "var")}


def test_help_lists_the_commands(env: dict[str, str]) -> None:
    result = run(env, "--help")
    assert result.returncode == 0
    for command in (
        "init",
        "serve",
        "create-org",
        "create-professional",
        "create-person",
        "demo",
        "service",
        "backup",
        "restore",
    ):
        assert command in result.stdout


def test_init_is_idempotent_and_keeps_keys_private(env: dict[str, str], tmp_path: Path) -> None:
    first = run(env, "init")
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "var" / "master.keyring.json"
    key_bytes = key_file.read_bytes()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
    second = run(env, "init")
    assert second.returncode == 0, second.stderr
    assert key_file.read_bytes() == key_bytes
    assert (tmp_path / "var" / "locker.sqlite3").exists()


def create_martin(env: dict[str, str], org_id: str) -> subprocess.CompletedProcess[str]:
    """`locker create-professional` of Mme Martin, password "a long enough password"."""
    return run(
        env,
        "create-professional",
        "--org",
        org_id,
        "--email",
        "martin@lilas.example",
        "--name",
        "Mme Martin",
        "--password-stdin",
        stdin="a long enough password\n",
    )


def test_accounts_from_the_command_line(env: dict[str, str]) -> None:
    assert run(env, "init").returncode == 0
    org = run(env, "create-org", "CHRS Les Lilas")
    assert org.returncode == 0, org.stderr
    org_id = json.loads(org.stdout)["id"]
    pro = create_martin(env, org_id)
    assert pro.returncode == 0, pro.stderr
    assert len(json.loads(pro.stdout)["id"]) == 36
    person = run(
        env,
        "create-person",
        "--username",
        "Alice",
        "--display-name",
        "Alice",
        "--password-stdin",
        stdin="another long password\n",
    )
    assert person.returncode == 0, person.stderr
    body = json.loads(person.stdout)
    assert body["username"] == "alice" and len(body["id"]) == 36
    again = run(
        env,
        "create-person",
        "--username",
        "alice",
        "--display-name",
        "A",
        "--password-stdin",
        stdin="another long password\n",
    )
    assert again.returncode != 0
    assert "already_exists" in again.stderr
    short = run(
        env,
        "create-person",
        "--username",
        "zoe",
        "--display-name",
        "Z",
        "--password-stdin",
        stdin="short\n",
    )
    assert short.returncode != 0 and "password" in short.stderr


def test_demo_prints_working_credentials(env: dict[str, str]) -> None:
    assert run(env, "init").returncode == 0
    demo = run(env, "demo")
    assert demo.returncode == 0, demo.stderr
    creds = json.loads(demo.stdout)
    assert "already there" not in demo.stderr
    rerun = run(env, "demo")
    again = json.loads(rerun.stdout)
    assert "already there" in rerun.stderr and "no longer work" in rerun.stderr
    # The banner names no port: `locker serve --port N` says where it listens.
    assert "5000" not in demo.stderr and "Serving on" in demo.stderr
    assert again["person"]["id"] == creds["person"]["id"]
    assert again["person"]["password"] != creds["person"]["password"]

    from locker.settings import load_settings
    from web.app import create_app

    app = create_app(load_settings(env))
    client = app.test_client()
    ok = client.post(
        "/api/v1/auth/token",
        json={"username": "demo", "password": again["person"]["password"]},
    )
    assert ok.status_code == 201
    stale = client.post(
        "/api/v1/auth/token",
        json={"username": "demo", "password": creds["person"]["password"]},
    )
    assert stale.status_code == 401


def test_bad_configuration_names_the_variable(env: dict[str, str]) -> None:
    result = run({**env, "LOCKER_STORAGE_URL": "ftp://nope"}, "init")
    assert result.returncode != 0
    assert "LOCKER_STORAGE_URL" in result.stderr


def test_init_with_the_database_down_says_so_in_one_line(env: dict[str, str]) -> None:
    down = {
        **env,
        "LOCKER_DATABASE_URL": f"postgresql://locker:hunter2@127.0.0.1:{free_port()}/locker",
        "LOCKER_SECRET_KEY": "k" * 40,
    }
    result = run(down, "init", "--wait", "1.5")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "LOCKER_DATABASE_URL" in lines[0] and "does not answer" in lines[0]
    assert "Connection refused" in lines[0]
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


def test_init_waits_for_a_store_that_comes_up(env: dict[str, str], s3_server: Any) -> None:
    """A container's start: the store answers a few seconds after `locker init` begins."""
    bucket = f"init-wait-{secrets.token_hex(4)}"
    upstream = urlsplit(s3_server.upstream_url)
    proxy = TcpProxy(upstream.hostname or "127.0.0.1", upstream.port or 80)
    late = {
        **env,
        "LOCKER_STORAGE_URL": f"s3://{bucket}",
        "LOCKER_S3_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}",
        "LOCKER_S3_REGION": s3_server.region,
        "AWS_ACCESS_KEY_ID": s3_server.access_key,
        "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
    }
    refused = run(late, "init")
    assert refused.returncode == 1
    assert "LOCKER_STORAGE_URL" in refused.stderr and "Traceback" not in refused.stderr
    starter = threading.Timer(3.0, proxy.start)
    starter.start()
    try:
        waited = run(late, "init", "--wait", "60")
    finally:
        starter.join()
        proxy.stop()
    assert waited.returncode == 0, waited.stderr
    assert "storage:" in waited.stderr
    s3_server.client().delete_bucket(Bucket=bucket)


def test_master_key_rotation_rewraps_person_keys_only(env: dict[str, str], tmp_path: Path) -> None:
    assert run(env, "init").returncode == 0
    creds = json.loads(run(env, "demo").stdout)
    from locker.settings import load_settings
    from web.app import create_app

    def client_and_token():
        app = create_app(load_settings(env))
        client = app.test_client()
        token = client.post(
            "/api/v1/auth/token",
            json={"username": "demo", "password": creds["person"]["password"]},
        ).get_json()["token"]
        return app, client, {"Authorization": f"Bearer {token}"}

    _, client, headers = client_and_token()
    data = (ROOT / "tests" / "samples" / "caf_letter.pdf").read_bytes()
    import io

    doc = client.post(
        f"/api/v1/persons/{creds['person']['id']}/documents",
        headers=headers,
        data={"file": (io.BytesIO(data), "caf.pdf")},
        content_type="multipart/form-data",
    ).get_json()
    # The stored copy is the sanitised PDF: compare what is served before and after.
    served = client.get(f"/api/v1/documents/{doc['id']}/content", headers=headers).data
    assert served.startswith(b"%PDF-")
    objects = tmp_path / "var" / "objects"
    before = {p: p.read_bytes() for p in objects.rglob("*") if p.is_file()}
    assert before

    rotated = run(env, "rotate-master-key")
    assert rotated.returncode == 0, rotated.stderr
    body = json.loads(rotated.stdout)
    assert body["master_key_version"] == 2
    assert body["person_keys_rewrapped"] == 1
    assert json.loads(run(env, "rotate-master-key").stdout)["master_key_version"] == 3

    after = {p: p.read_bytes() for p in objects.rglob("*") if p.is_file()}
    assert after == before  # no object was rewritten
    _, client, headers = client_and_token()
    content = client.get(f"/api/v1/documents/{doc['id']}/content", headers=headers)
    assert content.status_code == 200 and content.data == served


def test_create_person_forces_a_password_change_only_when_asked(
    env: dict[str, str], tmp_path: Path
) -> None:
    from sqlalchemy import create_engine

    assert run(env, "init").returncode == 0
    for username, flags in (("plain", ()), ("forced", ("--must-change-password",))):
        made = run(
            env,
            "create-person",
            "--username",
            username,
            "--display-name",
            username,
            "--password-stdin",
            *flags,
            stdin="a long enough password\n",
        )
        assert made.returncode == 0, made.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'locker.sqlite3'}")
    with engine.connect() as connection:
        rows = dict(
            connection.execute(text("SELECT username, must_change_password FROM persons")).all()
        )
    engine.dispose()
    assert {k: bool(v) for k, v in rows.items()} == {"plain": False, "forced": True}


def test_reset_second_factor_ends_the_sessions_and_asks_for_enrolment(
    env: dict[str, str],
) -> None:
    """A lost phone: the operator's command deletes the factor and the passkeys (the phone
    may hold one) and ends every sign-in."""
    import pyotp

    from locker.models import Professional
    from locker.settings import load_settings
    from sharing.models import Passkey
    from tests.factories import add_passkey
    from web.app import create_app

    assert run(env, "init").returncode == 0
    org_id = json.loads(run(env, "create-org", "CHRS").stdout)["id"]
    made = create_martin(env, org_id)
    pro_id = json.loads(made.stdout)["id"]
    client = create_app(load_settings(env)).test_client()
    sign_in = {"email": "martin@lilas.example", "password": "a long enough password"}
    token = client.post("/api/v1/auth/token", json=sign_in).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    secret = client.post("/api/v1/me/totp", headers=auth).get_json()["secret"]
    code = pyotp.TOTP(secret).now()
    assert (
        client.post("/api/v1/me/totp/confirm", headers=auth, json={"code": code}).status_code == 204
    )
    assert client.get("/api/v1/professionals/me/persons", headers=auth).status_code == 200
    found = client.application.extensions["locker"]
    with found.session_factory() as s:
        pro = s.get(Professional, pro_id)
        assert pro is not None
        add_passkey(s, found.clock, pro, "Téléphone perdu")
        s.commit()

    reset = run(env, "reset-second-factor", pro_id)
    assert reset.returncode == 0, reset.stderr
    assert json.loads(reset.stdout) == {
        "id": pro_id,
        "second_factor": "reset",
        "passkeys_removed": 1,
    }
    with found.session_factory() as s:
        assert s.query(Passkey).filter_by(professional_id=pro_id).count() == 0
    assert client.get("/api/v1/me", headers=auth).status_code == 401
    # Signed in again with the password alone: enrolment only.
    again = client.post("/api/v1/auth/token", json=sign_in).get_json()["token"]
    assert (
        client.post("/api/v1/me/totp", headers={"Authorization": f"Bearer {again}"}).status_code
        == 200
    )
    unknown = run(env, "reset-second-factor", "00000000-0000-0000-0000-000000000000")
    assert unknown.returncode != 0


def _loaded_after(statement: str, modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` a fresh interpreter has loaded once it ran `statement`."""
    code = f"import sys\n{statement}\nprint(' '.join(m for m in {modules!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return done.stdout.split()


def test_a_command_starts_without_the_web_app_or_the_file_parsers() -> None:
    # Every `locker` call (an operator's, a cron job's) would otherwise pay for loading
    # every page, route and parser, and the migrations' tool: 2.5 times the start-up time.
    heavy = ("flask", "spectree", "PIL", "pikepdf", "magic", "alembic")
    assert _loaded_after("import web.cli", heavy) == []


def test_the_service_leaves_the_file_parsers_to_the_sandbox() -> None:
    # The parsers of hostile files run in the sandbox's processes only.
    loaded = _loaded_after(
        "from web.app import create_app\nimport web.domains", ("pikepdf", "magic", "pillow_heif")
    )
    assert loaded == []
