"""The example deployment (compose.yaml, Dockerfile) starts in order and comes back."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from flask.testing import FlaskClient

from locker.settings import MIB, SECRET_SETTINGS, load_settings

ROOT = Path(__file__).resolve().parents[1]


def _services() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "compose.yaml").read_text())["services"])


def test_every_service_says_when_it_is_ready_and_restarts() -> None:
    services = _services()
    assert set(services) >= {"db", "s3", "redis", "locker"}
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"][0] == "CMD", name
    needs = services["locker"]["depends_on"]
    others = set(services) - {"locker"}
    assert needs == {name: {"condition": "service_healthy"} for name in others}


def test_the_audit_witness_has_a_volume_of_its_own() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    locker = compose["services"]["locker"]
    witness = locker["environment"]["LOCKER_AUDIT_WITNESS_DIR"]
    mounts = dict(volume.split(":", 1)[::-1] for volume in locker["volumes"])
    assert mounts[witness] in compose["volumes"]
    assert mounts[witness] != mounts.get("/var/lib/locker")  # not the data dir's volume


def test_the_image_waits_for_its_servers_before_it_serves() -> None:
    cmd = re.search(r"^CMD (.*)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert cmd is not None
    script = yaml.safe_load(cmd.group(1))[-1]  # the JSON array's shell line
    init, serve = script.split("&&")
    assert shlex.split(init)[:3] == ["locker", "init", "--wait"]
    assert int(shlex.split(init)[3]) >= 30
    assert "locker serve" in serve


def test_the_locker_healthcheck_asks_a_page_that_answers(client: FlaskClient) -> None:
    probe = _services()["locker"]["healthcheck"]["test"][-1]
    path = re.search(r"http://127\.0\.0\.1:8000(/[^'\"]*)", probe)
    assert path is not None
    assert client.get(path.group(1)).status_code == 200


# The production setup (deploy/): nginx, two app containers, PostgreSQL, S3, Redis.
DEPLOY = ROOT / "deploy"
# Secrets an app container would otherwise take from its environment.
SECRET_VARIABLES = {
    "LOCKER_SECRET_KEY",
    "LOCKER_DATABASE_URL",
    "LOCKER_METRICS_TOKEN",
    "LOCKER_THROTTLE_STORAGE_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "POSTGRES_PASSWORD",
    "MINIO_ROOT_PASSWORD",
}


def _production() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def _apps(compose: dict[str, Any]) -> dict[str, Any]:
    return {
        name: service
        for name, service in compose["services"].items()
        if "gunicorn" in " ".join(service.get("command", []))
    }


def test_production_runs_two_app_containers_behind_the_proxy() -> None:
    compose = _production()
    apps = _apps(compose)
    assert len(apps) == 2
    for service in compose["services"].values():
        assert service["restart"] == "unless-stopped"
        assert service["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}
    # Only the proxy is published; it reaches the apps on a network with no way out.
    proxy = compose["services"]["proxy"]
    assert set(proxy["depends_on"]) == set(apps)
    assert compose["networks"]["backend"]["internal"] is True
    proxy_address = proxy["networks"]["backend"]["ipv4_address"]
    for name, app in apps.items():
        assert "ports" not in app, name
        assert set(app["networks"]) == {"backend"}, name
        env = app["environment"]
        assert env["LOCKER_PROXY_HOPS"] == "1"
        assert env["LOCKER_TRUSTED_PROXIES"] == env["FORWARDED_ALLOW_IPS"] == proxy_address
        assert env["LOCKER_THROTTLE_STORAGE_URL_FILE"]  # counters shared by both
        assert env["PROMETHEUS_MULTIPROC_DIR"] in app["tmpfs"]
    # One starts after the other is ready: two schema migrations never run at once.
    assert apps["app2"]["depends_on"] == {"app1": {"condition": "service_healthy"}}


def test_production_healthchecks_ask_pages_that_answer(client: FlaskClient) -> None:
    compose = _production()
    probes = [app["healthcheck"]["test"][-1] for app in _apps(compose).values()]
    probes.append(" ".join(compose["services"]["proxy"]["healthcheck"]["test"]))
    for probe in probes:
        path = re.search(r"https?://127\.0\.0\.1(?::8000)?(/[a-z]+)", probe)
        assert path is not None, probe
        assert path.group(1) in {"/readyz", "/healthz"}
        assert client.get(path.group(1)).status_code == 200


def test_production_secrets_come_from_files() -> None:
    compose = _production()
    declared = compose["secrets"]
    assert all(set(secret) == {"file"} for secret in declared.values())
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        assert not SECRET_VARIABLES & set(env), name
        mounted = {
            f"/run/secrets/{s['target'] if isinstance(s, dict) else s}"
            for s in service.get("secrets", [])
        }
        for variable, value in env.items():
            secret = variable.removesuffix("_FILE") in SECRET_VARIABLES
            if secret or variable == "AWS_SHARED_CREDENTIALS_FILE":
                assert value in mounted, (name, variable)
        for secret in service.get("secrets", []):
            assert (secret["source"] if isinstance(secret, dict) else secret) in declared
        if name in _apps(compose):
            assert {f"{setting}_FILE" for setting in SECRET_SETTINGS} <= set(env)
        # No secret in a command line either (it shows in `ps`).
        assert "pass" not in " ".join(service.get("command", [])), name


def test_the_proxy_accepts_what_the_app_accepts_and_forwards_to_both() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    limit = re.search(r"client_max_body_size (\d+)m;", conf)
    assert limit is not None
    # The app's own limit (web/app.py: MAX_CONTENT_LENGTH), on its default upload size.
    assert (
        int(limit.group(1)) * MIB
        == load_settings({"LOCKER_SECRET_KEY": "k" * 40}).max_upload_bytes + MIB
    )
    for directive in (
        "proxy_request_buffering on;",
        "proxy_buffering on;",
        # The address nginx saw replaces whatever the client wrote (never appended to it).
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
    ):
        assert directive in conf
    upstreams = set(re.findall(r"server (\w+):8000", conf))
    assert upstreams == set(_apps(_production()))


def test_gunicorn_believes_forwarded_headers_from_the_proxy_only(tmp_path: Path) -> None:
    env = _apps(_production())["app1"]["environment"]
    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(DEPLOY / "gunicorn.conf.py"),
            "--print-config",
            "wsgiref.simple_server:demo_app",  # an app that needs nothing to load
        ],
        env={
            **os.environ,
            "FORWARDED_ALLOW_IPS": env["FORWARDED_ALLOW_IPS"],
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    config = dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition("=") for line in printed.splitlines())
    )
    assert config["forwarded_allow_ips"] == f"['{env['FORWARDED_ALLOW_IPS']}']"
    assert config["worker_class"] == "gthread"
    assert config["accesslog"] == "None"  # the app logs each request, without an address
    assert int(config["graceful_timeout"]) < int(config["timeout"])
    # Docker waits longer than gunicorn's grace before it kills a stopping container.
    assert int(_apps(_production())["app1"]["stop_grace_period"].removesuffix("s")) > int(
        config["graceful_timeout"]
    )
