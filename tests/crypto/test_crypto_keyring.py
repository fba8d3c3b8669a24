"""The local keyring: key file creation, loading, rotation, wrapping under versions."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from crypto.errors import CryptoError, IntegrityError, KeyFileError, KeyNotFound
from crypto.keyring import Keyring, LocalKeyring, create_keyfile, rotate_master_key
from crypto.keys import generate_key

PERSON_A = b"person 7a01"
PERSON_B = b"person 7a02"


@pytest.fixture
def keyfile(tmp_path: Path) -> Path:
    path = tmp_path / "master.json"
    assert create_keyfile(path) is True
    return path


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_created_keyfile_is_0600_and_well_formed(keyfile: Path) -> None:
    assert mode_of(keyfile) == 0o600
    document = json.loads(keyfile.read_text())
    assert document["format"] == "locker-keyring/1"
    assert [entry["version"] for entry in document["master_keys"]] == [1]
    assert len(base64.b64decode(document["master_keys"][0]["key"])) == 32
    assert len(base64.b64decode(document["audit_signing_key"])) == 32
    assert [p.name for p in keyfile.parent.iterdir()] == [keyfile.name]  # no temp file left


def test_create_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        create_keyfile(tmp_path / "master.json")
    finally:
        os.umask(previous)
    assert mode_of(tmp_path / "master.json") == 0o600


def test_create_is_idempotent_and_leaves_an_existing_file_untouched(keyfile: Path) -> None:
    before = keyfile.read_bytes()
    assert create_keyfile(keyfile) is False
    assert keyfile.read_bytes() == before
    assert [p.name for p in keyfile.parent.iterdir()] == [keyfile.name]


def test_load_refuses_a_file_readable_by_others(keyfile: Path) -> None:
    for mode in (0o644, 0o640, 0o604, 0o660):
        keyfile.chmod(mode)
        with pytest.raises(CryptoError) as refused:
            LocalKeyring.load(keyfile)
        assert str(keyfile) in str(refused.value)
        assert "chmod 600" in str(refused.value)


def test_load_accepts_0400(keyfile: Path) -> None:
    keyfile.chmod(0o400)
    assert LocalKeyring.load(keyfile).current_version() == 1


def test_load_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        LocalKeyring.load(tmp_path / "absent.json")


def write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def valid_document(keyfile: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(keyfile.read_text())
    return document


MALFORMED = {
    "not json": lambda d: "{not json",
    "not an object": lambda d: "[1, 2]",
    "wrong format": lambda d: json.dumps({**d, "format": "locker-keyring/9"}),
    "no master keys": lambda d: json.dumps({**d, "master_keys": []}),
    "short key": lambda d: json.dumps(
        {**d, "master_keys": [{**d["master_keys"][0], "key": base64.b64encode(b"x").decode()}]}
    ),
    "bad base64": lambda d: json.dumps(
        {**d, "master_keys": [{**d["master_keys"][0], "key": "!!!"}]}
    ),
    "version not an integer": lambda d: json.dumps(
        {**d, "master_keys": [{**d["master_keys"][0], "version": True}]}
    ),
    "duplicate version": lambda d: json.dumps(
        {**d, "master_keys": [d["master_keys"][0], d["master_keys"][0]]}
    ),
    "missing audit key": lambda d: json.dumps(
        {k: v for k, v in d.items() if k != "audit_signing_key"}
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_load_refuses_a_malformed_file_with_a_clear_message(keyfile: Path, case: str) -> None:
    document = valid_document(keyfile)
    key_b64 = document["master_keys"][0]["key"]
    write_private(keyfile, MALFORMED[case](document))

    with pytest.raises(KeyFileError) as refused:
        LocalKeyring.load(keyfile)
    assert str(keyfile) in str(refused.value)
    assert key_b64 not in str(refused.value)


def test_wrap_embeds_the_current_version_and_round_trips(keyfile: Path) -> None:
    keyring: Keyring = LocalKeyring.load(keyfile)
    person_key = generate_key()
    wrapped = keyring.wrap(person_key, PERSON_A)

    assert wrapped[:4] == (1).to_bytes(4, "big")
    assert keyring.current_version() == keyring.wrapped_version(wrapped) == 1
    assert keyring.unwrap(wrapped, PERSON_A) == person_key


def test_wrapped_key_moved_to_another_person_fails(keyfile: Path) -> None:
    keyring = LocalKeyring.load(keyfile)
    wrapped = keyring.wrap(generate_key(), PERSON_A)

    with pytest.raises(IntegrityError):
        keyring.unwrap(wrapped, PERSON_B)


def test_rotation_keeps_old_wraps_readable_and_new_wraps_use_the_new_version(
    keyfile: Path,
) -> None:
    before = LocalKeyring.load(keyfile)
    person_key = generate_key()
    old_wrapped = before.wrap(person_key, PERSON_A)

    assert rotate_master_key(keyfile) == 2
    assert mode_of(keyfile) == 0o600
    assert [p.name for p in keyfile.parent.iterdir()] == [keyfile.name]
    after = LocalKeyring.load(keyfile)

    assert after.current_version() == 2
    assert after.unwrap(old_wrapped, PERSON_A) == person_key
    new_wrapped = after.wrap(person_key, PERSON_A)
    assert after.wrapped_version(new_wrapped) == 2
    assert after.unwrap(new_wrapped, PERSON_A) == person_key
    assert public_bytes(after.audit_signing_key()) == public_bytes(before.audit_signing_key())

    assert rotate_master_key(keyfile) == 3
    assert LocalKeyring.load(keyfile).unwrap(new_wrapped, PERSON_A) == person_key


def test_unknown_version_is_key_not_found(keyfile: Path) -> None:
    # A node whose key file is a copy made before the rotation.
    copy = keyfile.with_name("copy.json")
    write_private(copy, keyfile.read_text())
    old = LocalKeyring.load(copy)
    rotate_master_key(keyfile)
    wrapped_under_v2 = LocalKeyring.load(keyfile).wrap(generate_key(), PERSON_A)

    with pytest.raises(KeyNotFound):
        old.unwrap(wrapped_under_v2, PERSON_A)


def test_a_running_process_follows_a_rotation_made_by_another(keyfile: Path) -> None:
    running = LocalKeyring.load(keyfile)
    person_key = generate_key()
    old_wrapped = running.wrap(person_key, PERSON_A)

    # `locker rotate-master-key` in another process, which rewraps under version 2.
    assert rotate_master_key(keyfile) == 2
    rewrapped = LocalKeyring.load(keyfile).wrap(person_key, PERSON_A)

    assert running.unwrap(rewrapped, PERSON_A) == person_key
    assert running.current_version() == 2
    assert running.wrapped_version(running.wrap(person_key, PERSON_B)) == 2
    assert running.unwrap(old_wrapped, PERSON_A) == person_key


def test_a_damaged_or_shortened_key_file_takes_no_version_away(
    keyfile: Path, caplog: pytest.LogCaptureFixture
) -> None:
    running = LocalKeyring.load(keyfile)
    under_v1 = running.wrap(generate_key(), PERSON_B)
    rotate_master_key(keyfile)
    wrapped = LocalKeyring.load(keyfile).wrap(generate_key(), PERSON_A)
    running.unwrap(wrapped, PERSON_A)  # version 2 now held
    document = json.loads(keyfile.read_text())

    # Version 2 removed from the file, and version 1's key changed: neither is taken.
    document["master_keys"] = [
        {**document["master_keys"][0], "key": base64.b64encode(generate_key()).decode()}
    ]
    write_private(keyfile, json.dumps(document))
    assert running.current_version() == 2
    running.unwrap(wrapped, PERSON_A)
    running.unwrap(under_v1, PERSON_B)

    write_private(keyfile, "{not json")
    with caplog.at_level(logging.ERROR, logger="crypto.keyring"):
        assert running.current_version() == 2
    assert "could not be read" in caplog.text
    running.unwrap(wrapped, PERSON_A)


def test_altered_version_is_refused(keyfile: Path) -> None:
    rotate_master_key(keyfile)
    keyring = LocalKeyring.load(keyfile)
    wrapped_v2 = keyring.wrap(generate_key(), PERSON_A)

    # Pointed at another master key the keyring holds: that key cannot open it.
    with pytest.raises(IntegrityError):
        keyring.unwrap((1).to_bytes(4, "big") + wrapped_v2[4:], PERSON_A)
    with pytest.raises(KeyNotFound):
        keyring.unwrap((99).to_bytes(4, "big") + wrapped_v2[4:], PERSON_A)
    with pytest.raises(KeyNotFound):
        keyring.unwrap(bytes(4) + wrapped_v2[4:], PERSON_A)
    with pytest.raises(IntegrityError):
        keyring.unwrap(wrapped_v2[:3], PERSON_A)


def test_unwrap_logs_the_version_and_never_key_material(
    keyfile: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keyring = LocalKeyring.load(keyfile)
    person_key = generate_key()
    wrapped = keyring.wrap(person_key, PERSON_A)
    master_b64 = valid_document(keyfile)["master_keys"][0]["key"]

    with caplog.at_level(logging.DEBUG, logger="crypto.keyring"):
        keyring.unwrap(wrapped, PERSON_A)
        with pytest.raises(IntegrityError):
            keyring.unwrap(wrapped, PERSON_B)

    records = [r for r in caplog.records if r.name == "crypto.keyring"]
    assert len(records) == 2
    assert all("version 1" in r.getMessage() for r in records)
    logged = " ".join(r.getMessage() for r in records)
    for secret in (person_key.hex(), master_b64, base64.b64encode(person_key).decode()):
        assert secret not in logged


def test_audit_signing_key_signs(keyfile: Path) -> None:
    signing_key = LocalKeyring.load(keyfile).audit_signing_key()
    signature = signing_key.sign(b"checkpoint 42 root abcd")
    signing_key.public_key().verify(signature, b"checkpoint 42 root abcd")


def test_repr_shows_versions_not_keys(keyfile: Path) -> None:
    master_key = base64.b64decode(valid_document(keyfile)["master_keys"][0]["key"])
    text = repr(LocalKeyring.load(keyfile))
    assert text == "LocalKeyring(versions=[1])"
    assert master_key.hex() not in text
