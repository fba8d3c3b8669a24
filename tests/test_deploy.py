"""The example deployment (compose.yaml, Dockerfile) starts in order and comes back."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml
from flask.testing import FlaskClient

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
