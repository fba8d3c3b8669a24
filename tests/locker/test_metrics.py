"""Metrics from several processes add up (prometheus-client's multiprocess mode)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.test_cli import ROOT

COUNT_ONE_UPLOAD = "from locker import metrics; metrics.count_upload(metrics.STORED)"
EXPOSE = "import sys; from locker import metrics; sys.stdout.buffer.write(metrics.exposition()[0])"


def _python(code: str, folder: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_two_processes_counts_are_summed_by_whichever_answers(tmp_path: Path) -> None:
    _python(COUNT_ONE_UPLOAD, tmp_path)
    _python(COUNT_ONE_UPLOAD, tmp_path)
    exposed = _python(EXPOSE, tmp_path)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposed)
        for sample in family.samples
    }
    assert samples[("locker_uploads_total", (("outcome", "stored"),))] == 2
