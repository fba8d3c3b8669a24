"""Nothing a professional does tells them whether a person or a paper exists (issue 11, 8)."""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import Actors, bearer, sample, token_for


def _shape(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in {"seq", "at"}}


def test_my_actions_show_a_probed_paper_like_a_missing_one(
    client: FlaskClient, world: Actors
) -> None:
    alice = token_for(client, "alice")
    pro = token_for(client, "martin@lilas.example")
    doc = client.post(
        f"/api/v1/persons/{world.alice.id}/documents",
        headers=bearer(alice),
        data={"file": (io.BytesIO(sample("scan.png")), "scan.png")},
        content_type="multipart/form-data",
    ).get_json()["id"]
    for probed in (doc, str(uuid.uuid4())):
        assert client.get(f"/api/v1/documents/{probed}", headers=bearer(pro)).status_code == 404
    mine = client.get("/api/v1/audit/my-actions", headers=bearer(pro)).get_json()
    probes = [e for e in mine if e["action"] == "document:describe"]
    assert len(probes) == 2
    assert _shape(probes[0]) == _shape(probes[1])
    text = repr(mine)
    assert doc not in text and world.alice.id not in text
    # The person still sees, in their own log, that someone tried their paper.
    log = client.get(f"/api/v1/persons/{world.alice.id}/access-log", headers=bearer(alice))
    assert log.status_code == 200
    assert any(e["document_id"] == doc and e["outcome"] == "denied" for e in log.get_json()), (
        log.get_json()
    )


def test_a_join_request_tells_nothing_before_the_person_accepts(
    client: FlaskClient, world: Actors
) -> None:
    pro = token_for(client, "martin@lilas.example")

    def persons() -> Any:
        return client.get("/api/v1/professionals/me/persons", headers=bearer(pro)).get_json()

    before = persons()
    answers = [
        client.post(
            "/api/v1/join-requests",
            headers=bearer(pro),
            json={"username": username, "mission": "CHRS"},
        )
        for username in ("alice", f"nobody-{uuid.uuid4().hex[:8]}")
    ]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].get_json() == answers[1].get_json()
    assert persons() == before  # nothing to tell a real username from a made-up one
    assert world.alice.id not in repr(persons())
    # Once Alice accepts, she is on the professional's list.
    alice = token_for(client, "alice")
    listed = client.get(f"/api/v1/persons/{world.alice.id}/members", headers=bearer(alice))
    pending = [m for m in listed.get_json() if m["status"] == "requested"]
    assert len(pending) == 1
    accepted = client.post(
        f"/api/v1/persons/{world.alice.id}/members/{pending[0]['id']}/accept",
        headers=bearer(alice),
    )
    assert accepted.status_code == 200, accepted.get_json()
    assert [p["person_id"] for p in persons()] == [world.alice.id]
