"""The key provider on both stacks: `locker rotate-master-key` rewraps every wrapped key
(person keys and second-factor keys) with the key file and with a PKCS#11 token; the move
from the key file to a token (`locker migrate-key-provider`) leaves every paper readable
and the audit log verifiable; /readyz asks the token."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from crypto.hsm import Pkcs11Keyring, TokenLocation
from locker.accounts import master_wrapped
from locker.models import Document, Person
from locker.settings import Settings
from sharing.models import SecondFactor
from tests.app_processes import settings_env
from tests.conftest import Actors, bearer, make_world, token_for
from tests.factories import upload, use_keyring
from tests.softhsm import new_token
from web.app import create_app
from web.cli import main


def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the in-process `locker` command at these settings (and their provider)."""
    env = settings_env(settings)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    use_provider(settings.pkcs11, monkeypatch)


def use_provider(token: TokenLocation | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if token is None:
        monkeypatch.delenv("LOCKER_KEY_PROVIDER", raising=False)
        return
    monkeypatch.setenv("LOCKER_KEY_PROVIDER", str(token))
    monkeypatch.setenv("LOCKER_PKCS11_PIN_FILE", str(token.pin_file))


def invoke(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    body: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return body


def checkpoint() -> None:
    made = CliRunner().invoke(main, ["audit", "checkpoint"])
    assert made.exit_code == 0, made.output


def papers_of(app: Flask, world: Actors) -> dict[str, bytes]:
    """Two papers each for Alice and Bob, uploaded now; what the one door serves of each."""
    found = app.extensions["locker"]
    with found.session_factory() as session:
        ids = {
            name: [upload(found, session, found.clock, person, title=f"{name} {n}") for n in "12"]
            for name, person in (("alice", world.alice), ("bob", world.bob))
        }
        session.commit()
    return read_papers(app, ids)


def read_papers(app: Flask, ids: dict[str, list[str]]) -> dict[str, bytes]:
    client = app.test_client()
    served = {}
    for name, documents in ids.items():
        token = token_for(client, name)
        for doc_id in documents:
            answer = client.get(f"/api/v1/documents/{doc_id}/content", headers=bearer(token))
            assert answer.status_code == 200, answer.get_json()
            served[doc_id] = answer.data
    return served


def paper_ids(served: dict[str, bytes], app: Flask) -> dict[str, list[str]]:
    with app.extensions["locker"].session_factory() as session:
        owners = {
            doc.id: doc.person_id for doc in session.scalars(select(Document)) if doc.id in served
        }
        names = {p.id: p.username for p in session.scalars(select(Person))}
    ids: dict[str, list[str]] = {}
    for doc_id, owner in owners.items():
        ids.setdefault(names[owner], []).append(doc_id)
    return ids


def wrapped_versions(app: Flask) -> set[int]:
    """The master key versions of every person key and second-factor key stored."""
    found = app.extensions["locker"]
    keyring = found.keyring
    with found.session_factory() as session:
        persons = [
            keyring.wrapped_version(master_wrapped(keyring, person))
            for person in session.scalars(select(Person))
        ]
        factors = [
            keyring.wrapped_version(factor.wrapped_key)
            for factor in session.scalars(select(SecondFactor))
        ]
    assert persons and factors
    return set(persons) | set(factors)


def fresh_app(settings: Settings) -> Flask:
    app = create_app(settings, config={"TESTING": True})
    app.extensions["locker"].store.ensure_ready()
    return app


def test_rotating_the_key_file_rewraps_second_factor_keys_too(
    app: Flask, world: Actors, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = papers_of(app, world)
    cli_env(settings, monkeypatch)
    rotated = invoke("rotate-master-key")
    assert rotated == {
        "master_key_version": 2,
        "person_keys_rewrapped": 2,
        "second_factor_keys_rewrapped": 3,
    }
    again = invoke("rotate-master-key")
    assert again["master_key_version"] == 3 and again["second_factor_keys_rewrapped"] == 3
    after = fresh_app(settings)
    assert wrapped_versions(after) == {3}
    assert read_papers(after, paper_ids(served, after)) == served
    assert token_for(after.test_client(), "martin@lilas.example")  # the factor still opens


def test_rotation_passes_over_an_account_whose_erasure_key_is_gone(
    app: Flask, world: Actors, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bob closed his account after the backup this database was restored from: his row
    # still holds a wrapped key, his erasure key is destroyed. Nothing of his can be rewrapped.
    app.extensions["locker"].keyring.erasure_keys().destroy(world.bob.id)
    cli_env(settings, monkeypatch)
    rotated = invoke("rotate-master-key")
    assert rotated["person_keys_rewrapped"] == 1


def test_rotating_in_the_token_makes_a_version_there_and_rewraps_everything(
    hsm_settings: Settings, world_in_token: tuple[Flask, Actors], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, world = world_in_token
    served = papers_of(app, world)
    cli_env(hsm_settings, monkeypatch)
    rotated = invoke("rotate-master-key")
    assert rotated == {
        "master_key_version": 2,
        "person_keys_rewrapped": 2,
        "second_factor_keys_rewrapped": 3,
    }
    assert hsm_settings.pkcs11 is not None
    token = Pkcs11Keyring.open(hsm_settings.pkcs11, hsm_settings.pkcs11_sidecar_file)
    assert token.master_versions() == [1, 2]
    sidecar = json.loads(hsm_settings.pkcs11_sidecar_file.read_text())
    assert sidecar["audit_signing_key"].startswith("AAAAAg")  # rewrapped under version 2
    # The running app (opened before the rotation) reads the new version from the token.
    assert wrapped_versions(app) == {2}
    assert read_papers(app, paper_ids(served, app)) == served
    assert token_for(app.test_client(), "martin@lilas.example")


@pytest.fixture
def world_in_token(hsm_settings: Settings) -> Iterator[tuple[Flask, Actors]]:
    """The conftest's small world, on an app whose keyring is the token."""
    app = fresh_app(hsm_settings)
    use_keyring(app.extensions["locker"].keyring)
    yield app, make_world(app)
    use_keyring(None)
    app.extensions["locker"].engine.dispose()


def test_moving_from_the_key_file_to_a_token(
    app: Flask,
    world: Actors,
    settings: Settings,
    hsm_token: TokenLocation,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = papers_of(app, world)
    cli_env(settings, monkeypatch)
    invoke("rotate-master-key")  # the key file is at version 2
    checkpoint()  # signed with the key file's audit key
    monkeypatch.setenv("LOCKER_PKCS11_PIN_FILE", str(hsm_token.pin_file))
    moved = invoke("migrate-key-provider", "--to", str(hsm_token))
    assert moved == {
        "key_provider": str(hsm_token),
        "master_key_version": 3,  # above every key file version: a blob says who sealed it
        "erasure_keys_copied": 2,
        "person_keys_rewrapped": 2,
        "second_factor_keys_rewrapped": 3,
    }
    # Run again (an interrupted migration is resumed the same way): nothing left to do.
    again = invoke("migrate-key-provider", "--to", str(hsm_token))
    assert again["person_keys_rewrapped"] == again["second_factor_keys_rewrapped"] == 0
    assert again["erasure_keys_copied"] == 0
    # The key file is put away: from now on the token alone holds the master keys.
    settings.master_key_file.rename(settings.master_key_file.with_suffix(".retired"))
    in_token = replace(settings, pkcs11=hsm_token)
    after = fresh_app(in_token)
    assert wrapped_versions(after) == {3}
    assert read_papers(after, paper_ids(served, after)) == served
    assert token_for(after.test_client(), "martin@lilas.example")  # second factors open
    use_provider(hsm_token, monkeypatch)
    checkpoint()  # signed by the same audit key, now sealed by the token
    verified = CliRunner().invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["ok"] is True
    assert after.test_client().get("/readyz").get_json() == {"ready": True, "failing": []}


def test_a_token_of_another_locker_is_not_taken_over(
    app: Flask,
    settings: Settings,
    hsm_token: TokenLocation,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Pkcs11Keyring(hsm_token, settings.pkcs11_sidecar_file).add_master_key(1)
    cli_env(settings, monkeypatch)
    monkeypatch.setenv("LOCKER_PKCS11_PIN_FILE", str(hsm_token.pin_file))
    refused = CliRunner().invoke(main, ["migrate-key-provider", "--to", str(hsm_token)])
    assert refused.exit_code == 1
    assert "already holds master key version 1" in refused.output
    use_provider(hsm_token, monkeypatch)
    wrong_way = CliRunner().invoke(main, ["migrate-key-provider", "--to", str(hsm_token)])
    assert wrong_way.exit_code == 1 and "must still be `file`" in wrong_way.output


# python-pkcs11 ends a token search abandoned with the dead session when the search object
# is collected, and says so on stderr: expected once the token is gone.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_readyz_asks_the_token_and_names_it_once_gone(
    hsm_settings: Settings,
    world_in_token: tuple[Flask, Actors],
    softhsm_conf: Path,
    tmp_path: Path,
) -> None:
    app, world = world_in_token
    served = papers_of(app, world)
    client = app.test_client()
    assert client.get("/readyz").get_json() == {"ready": True, "failing": []}
    alice = token_for(client, "alice")
    assert hsm_settings.pkcs11 is not None
    subprocess.run(
        ["softhsm2-util", "--delete-token", "--token", hsm_settings.pkcs11.token_label],
        capture_output=True,
        check=True,
    )
    new_token(softhsm_conf, tmp_path)  # the module initialised again: the token is gone
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json() == {"ready": False, "failing": ["key_provider"]}
    # A paper asked for meanwhile: the service is unavailable, the paper is not "damaged".
    doc_id = next(iter(served))
    opened = client.get(f"/api/v1/documents/{doc_id}/content", headers=bearer(alice))
    assert opened.status_code == 503
    assert opened.get_json()["error"] == "key_provider_unavailable"


def test_init_makes_master_key_one_in_the_token_once(
    settings: Settings, hsm_token: TokenLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_token = replace(settings, pkcs11=hsm_token)
    cli_env(in_token, monkeypatch)
    first = CliRunner().invoke(main, ["init"])
    assert first.exit_code == 0, first.output
    assert f"master key: {hsm_token} (created)" in first.output
    sidecar = in_token.pkcs11_sidecar_file.read_bytes()
    again = CliRunner().invoke(main, ["init"])
    assert again.exit_code == 0, again.output
    assert f"master key: {hsm_token} (already there)" in again.output
    assert in_token.pkcs11_sidecar_file.read_bytes() == sidecar
    keyring = Pkcs11Keyring.open(hsm_token, in_token.pkcs11_sidecar_file)
    assert keyring.master_versions() == [1]
    assert stat.S_IMODE(in_token.pkcs11_sidecar_file.stat().st_mode) == 0o600
