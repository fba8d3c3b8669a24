"""A read asks the access policy once: the plaintext door records the decision it is given."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from sharing import policy
from tests.conftest import bearer, token_for
from tests.factories import Clock, build_world


@pytest.mark.no_csrf
@pytest.mark.parametrize("part", ["content", "thumbnail", "preview"])
def test_a_professional_read_asks_the_policy_once(
    app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch, part: str
) -> None:
    world = build_world(app, clock)
    client = app.test_client()
    user = world.users["intervenor_grant"]
    token = token_for(client, getattr(user, "email", None) or user.username)
    asked: list[str] = []
    real = policy.active_member

    def counted(*args: Any, **kwargs: Any) -> Any:
        asked.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(policy, "active_member", counted)
    response = client.get(f"/api/v1/documents/{world.doc}/{part}", headers=bearer(token))

    assert response.status_code == 200
    assert asked == [world.alice.id]
