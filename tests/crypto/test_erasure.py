"""Erasure keys: kept apart from the database, shared by every process on the host, gone
for good once destroyed; and the person keys sealed under them."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from crypto.erasure import ErasureKeys
from crypto.errors import KeyNotFound
from crypto.keyring import LocalKeyring, create_keyfile, erasure_keys_file, rotate_master_key
from crypto.keys import generate_key
from locker.accounts import ERASABLE, person_key, person_key_aad, seal_person_key
from locker.models import Person


def test_a_destroyed_key_is_gone_for_every_reader_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.erasure.sqlite"
    one, other = ErasureKeys(path), ErasureKeys(path)  # two processes on one host
    made = one.create("alice")
    assert other.get("alice") == made and len(made) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ValueError):
        other.create("alice")  # a key is never replaced: its copies would stop opening
    assert other.destroy("alice") is True
    with pytest.raises(KeyNotFound):
        one.get("alice")
    assert one.destroy("alice") is False
    # Nothing of the key is left in the file's bytes, nor in a write-ahead log.
    leftovers = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert made not in leftovers


def test_a_key_file_keeps_its_erasure_keys_beside_it(tmp_path: Path) -> None:
    keyfile = tmp_path / "master.json"
    create_keyfile(keyfile)
    sealed = seal_person_key(LocalKeyring.load(keyfile), "p1", b"wrapped")
    assert sealed.startswith(ERASABLE) and erasure_keys_file(keyfile).exists()
    assert LocalKeyring.load(keyfile).erasure_keys().get("p1")


def test_rotation_seals_a_key_stored_before_erasure_keys(tmp_path: Path) -> None:
    from locker.rotation import rewrap_person_keys

    keyfile = tmp_path / "master.json"
    create_keyfile(keyfile)
    keyring = LocalKeyring.load(keyfile)
    key = generate_key()
    legacy = Person(id="p1", wrapped_person_key=keyring.wrap(key, person_key_aad("p1")))
    closed = Person(id="p2", wrapped_person_key=b"")
    assert person_key(keyring, legacy) == key  # the old form still opens

    class Rows:
        def scalars(self, _query: object) -> list[Person]:
            return [legacy, closed]

        def flush(self) -> None:
            pass

    rotate_master_key(keyfile)
    keyring = LocalKeyring.load(keyfile)
    assert rewrap_person_keys(Rows(), keyring) == 1  # type: ignore[arg-type]
    assert legacy.wrapped_person_key.startswith(ERASABLE) and closed.wrapped_person_key == b""
    assert person_key(keyring, legacy) == key
    assert rewrap_person_keys(Rows(), keyring) == 0  # type: ignore[arg-type]
    keyring.erasure_keys().destroy("p1")
    with pytest.raises(KeyNotFound):
        person_key(keyring, legacy)
