"""Our four packages have generic names on PyPI: prove they come from this repository."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["crypto", "locker", "sharing", "web"])
def test_package_imports_from_this_repository(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == ROOT / name


def test_no_pycrypto_family_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        declared += extra
    lowered = [d.lower() for d in declared]
    for forbidden in ("pycrypto", "pycryptodome", "pycryptodomex", "crypto"):
        assert not any(
            d.split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip() == forbidden
            for d in lowered
        )


def test_one_door_to_plaintext() -> None:
    """Only the core's door decrypts objects, and only sharing/ calls the door."""
    decrypt_users = []
    door_users = []
    for path in list(ROOT.glob("*/**/*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", "tests/", "bench/", "crypto/")):
            continue
        source = path.read_text()
        if "decrypt_object" in source or "decrypt_stream" in source:
            decrypt_users.append(rel)
        if "open_document(" in source and rel != "locker/documents.py":
            door_users.append(rel)
    assert decrypt_users == ["locker/documents.py"]
    # The policy's readers (actors), and counter links (the agent at a counter).
    assert sorted(door_users) == ["sharing/counter.py", "sharing/documents.py"]
