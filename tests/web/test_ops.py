"""The operator's probes and metrics: alive with the database down, ready only when every
dependency answers (a hung one included), and metrics that name no one."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from crypto.errors import CryptoError
from locker.actors import Actor
from locker.audit import AuditEvent, record_event
from locker.checkpoints import make_checkpoint
from locker.documents import PARTS
from locker.errors import LockerError
from locker.metrics import HTTP_METHODS
from locker.settings import Settings
from locker.storage import ObjectStore
from locker.storage.local import LocalFolderStore
from locker.storage.s3 import S3Store, make_s3_client
from tests.conftest import Actors, Clock, bearer
from tests.web.test_logs import closing_client, full_flow
from web.app import create_app

METRICS_TOKEN = "t" * 40


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts connections and never answers a byte: a hung dependency."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(16)
        yield int(listening.getsockname()[1])


def _app(settings: Settings, tmp_path: Path, store: ObjectStore | None = None) -> Flask:
    """An app of its own (a broken dependency, another setting) on the stack's settings."""
    if store is None:
        store = LocalFolderStore(tmp_path / "objects")
        store.ensure_ready()
    return create_app(settings, config={"TESTING": True}, store=store)


def test_probes_answer_without_sign_in_and_set_no_cookie(client: FlaskClient) -> None:
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.get_json() == {"alive": True}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json() == {"ready": True, "failing": []}
    for answer in (alive, ready):
        assert "Set-Cookie" not in answer.headers
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["X-Request-ID"]


def test_healthz_lives_while_the_database_hangs_and_readyz_names_it(
    settings: Settings, tmp_path: Path, silent_port: int
) -> None:
    hung = replace(
        settings, database_url=f"postgresql+psycopg://locker@127.0.0.1:{silent_port}/locker"
    )
    app = _app(hung, tmp_path)
    client = app.test_client()
    # A browser's session cookie would need the database to be resolved: probes skip it.
    with client.session_transaction() as session:
        session["_user_id"] = "a-session-token"
    assert client.get("/healthz").status_code == 200
    for _ in range(2):  # the second probe finds the first check still hung: not started again
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.get_json() == {"ready": False, "failing": ["database"]}
    hung_checks = [t for t in threading.enumerate() if t.name == "ready-database"]
    assert len(hung_checks) == 1


def test_readyz_names_a_hung_object_store(
    settings: Settings, tmp_path: Path, silent_port: int
) -> None:
    client = make_s3_client(endpoint_url=f"http://127.0.0.1:{silent_port}", region="us-east-1")
    app = _app(settings, tmp_path, store=S3Store(client, "locker-hung"))
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json() == {"ready": False, "failing": ["object_store"]}


def test_readyz_names_a_missing_store_folder_without_saying_where(
    settings: Settings, tmp_path: Path
) -> None:
    app = create_app(settings, store=LocalFolderStore(tmp_path / "secret-place" / "objects"))
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json() == {"ready": False, "failing": ["object_store"]}
    assert b"secret-place" not in answer.data


class _UnpluggedModule:
    """A key provider whose hardware module was unplugged: every operation fails."""

    def wrap(self, key: bytes, associated_data: bytes) -> bytes:
        raise CryptoError("the token is not present")


def test_readyz_names_a_key_provider_that_does_not_answer(app: Flask) -> None:
    app.extensions["locker"].keyring = _UnpluggedModule()
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json() == {"ready": False, "failing": ["key_provider"]}


# -- who may read /metrics --------------------------------------------------------------


def test_metrics_answer_this_host_only_when_no_token_is_set(client: FlaskClient) -> None:
    here = client.get("/metrics")
    assert here.status_code == 200
    assert here.content_type.startswith("text/plain")
    afar = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert afar.status_code == 403
    # A proxy on this host connects from the loopback address for the whole world.
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403
    assert client.get("/metrics", headers={"Forwarded": "for=203.0.113.9"}).status_code == 403


def test_metrics_answer_the_token_from_anywhere_and_nobody_else(
    settings: Settings, tmp_path: Path
) -> None:
    app = _app(replace(settings, metrics_token=METRICS_TOKEN), tmp_path)
    client = app.test_client()
    afar = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", headers=bearer(METRICS_TOKEN), environ_base=afar).status_code == (
        200
    )
    assert client.get("/metrics").status_code == 403  # this host too must show it
    assert client.get("/metrics", headers=bearer("t" * 39 + "u")).status_code == 403


# -- what the metrics say -----------------------------------------------------------------


def _codes(cls: type[BaseException]) -> set[str]:
    found = {getattr(cls, "code", "")}
    for sub in cls.__subclasses__():
        found |= _codes(sub)
    return found


def test_metrics_after_a_full_flow_name_no_one_and_use_closed_label_sets(
    app: Flask, world: Actors
) -> None:
    client = closing_client(app)
    flow = full_flow(client, world)
    client.get(f"/no-such-page/{world.alice.id}")  # an unmatched path, with an id in it
    exposed = client.get("/metrics").get_data(as_text=True)

    for value in [*flow.secrets, *flow.ids, world.alice.username]:
        assert value not in exposed, value[:12]
    routes = {rule.rule for rule in app.url_map.iter_rules()} | {"unmatched"}
    closed = {
        "route": routes,
        "method": HTTP_METHODS | {"other"},
        "status": {"1xx", "2xx", "3xx", "4xx", "5xx", "other"},
        "part": PARTS | {"other"},
        "outcome": {"stored", "replayed", "allowed", "denied", "error", "clean", "refused"}
        | _codes(LockerError),
    }
    seen: dict[str, float] = {}
    for family in text_string_to_metric_families(exposed):
        for sample in family.samples:
            if not sample.name.startswith("locker_"):
                continue
            for label, value in sample.labels.items():
                if label == "le":
                    continue
                assert value in closed[label], (sample.name, label, value)
            key = sample.name + "".join(f",{k}={v}" for k, v in sorted(sample.labels.items()))
            seen[key] = sample.value
    content = "/api/v1/documents/<document_id>/content"
    assert seen[f"locker_http_request_duration_seconds_count,method=GET,route={content},status=2xx"]
    assert seen["locker_uploads_total,outcome=stored"] >= 1
    assert seen["locker_plaintext_opens_total,outcome=allowed,part=content"] >= 2
    assert seen["locker_sanitiser_duration_seconds_count,outcome=clean"] >= 1
    assert seen["locker_audit_append_duration_seconds_count"] >= 1
    assert "locker_audit_unsigned_records" in seen


def _gauges(exposed: str) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(exposed)
        for sample in family.samples
        if sample.name in {"locker_audit_unsigned_records", "locker_audit_checkpoint_age_seconds"}
    }


def test_checkpoint_gauges_say_how_far_signing_trails_the_log(
    app: Flask, clock: Clock, world: Actors
) -> None:
    found = app.extensions["locker"]
    probe = AuditEvent("test:probe", "allowed", "test", Actor.anonymous())
    record_event(found.session_factory, clock, probe)
    client = app.test_client()
    before = _gauges(client.get("/metrics").get_data(as_text=True))
    assert before["locker_audit_unsigned_records"] >= 1
    assert "locker_audit_checkpoint_age_seconds" not in before  # none signed yet
    with found.session_factory() as session:
        make_checkpoint(session, found.keyring.audit_signing_key(), clock, "test.example/audit")
        session.commit()
    clock.advance(seconds=120)
    after = _gauges(client.get("/metrics").get_data(as_text=True))
    assert after == {
        "locker_audit_unsigned_records": 0,
        "locker_audit_checkpoint_age_seconds": 120,
    }


def test_metrics_still_answer_while_the_database_is_down(
    settings: Settings, tmp_path: Path
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    down = replace(settings, database_url=f"postgresql+psycopg://locker@127.0.0.1:{port}/locker")
    answer = _app(down, tmp_path).test_client().get("/metrics")
    assert answer.status_code == 200
    assert "locker_uploads_total" in answer.get_data(as_text=True)
    assert _gauges(answer.get_data(as_text=True)) == {}
