"""The throwaway PostgreSQL the suite starts when the machine has none (a fresh machine)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from tests.conftest import require_service
from tests.postgres_server import answers, throwaway_cluster


def _version_and_folder(url: str) -> tuple[int, Path]:
    engine = create_engine(url)
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version_num")).scalar_one()
        folder = conn.execute(text("SHOW data_directory")).scalar_one()
    engine.dispose()
    return int(version), Path(folder)


def test_a_throwaway_cluster_starts_answers_and_is_removed() -> None:
    try:
        with throwaway_cluster() as url:
            version, folder = _version_and_folder(url)
            assert folder.is_dir()
    except RuntimeError as exc:  # not installed: say what to install
        require_service(str(exc))
    assert version >= 130000
    assert not folder.exists()
    assert answers(url) is not None  # stopped: nothing answers there any more
