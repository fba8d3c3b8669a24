"""bench/scale.py end to end at a toy size on PostgreSQL: its generator makes rows the real
services accept (keys, titles, lists, the audit tree), and every measure runs."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from bench import scale


def test_the_scale_bench_runs_end_to_end(
    pg_admin_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCKER_TEST_PG_URL", pg_admin_url)
    results = scale.run(
        0.0001,  # 35 persons, 3,500 audit records
        baseline_persons=scale.MEASURED,
        samples=3,
        workdir=tmp_path,
        prefix=f"locker_scale_test_{uuid.uuid4().hex[:8]}",
        drop_after=True,
    )
    assert [row["measure"] for row in results] == list(scale.MEASURES)
    assert all(row["p95"] > 0 and row["base_p95"] > 0 for row in results)
