"""A person's export in flat memory (see bench/README.md "## export").

Fills a locker with about --gb gigabytes of papers (20 MB PDFs through the real upload
pipeline, on the embedded default: SQLite and a local folder), then, in a fresh process,
takes the export through the API as a phone would, reading the streamed ZIP as it comes,
and reports how much the process's peak RSS rose over the same process just before (after
a warm-up request); then, as a baseline that shows what the measure sees when memory does
follow the size, the same export held whole. Goal: a 1 GB locker raises the peak < 64 MB.

    .venv/bin/python bench/export.py [--gb 1.0]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from uploads import PASSWORD, ROOT, make_app, twenty_mb_pdf, upload_as_person  # noqa: E402

from locker.settings import load_settings  # noqa: E402
from web.app import create_app  # noqa: E402


def fill(workdir: Path, gigabytes: float) -> tuple[str, int]:
    """The person's id and the stored bytes, after uploading PDFs until `gigabytes`."""
    app, person_id = make_app(workdir, {})
    found = app.extensions["locker"]
    pdf = twenty_mb_pdf()
    stored = 0
    while stored < gigabytes * 1e9:
        with found.session_factory() as session:
            view = upload_as_person(
                found,
                session,
                person_id,
                pdf,
                "releve.pdf",
                f"Relevé {stored // len(pdf) + 1}",
                "income_benefits",
            )
        stored += view.size
    found.engine.dispose()
    return person_id, stored


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def take_export(workdir: Path, person_id: str) -> None:
    """In this (fresh) process: warm up, then read the export to its end."""
    settings = load_settings({"LOCKER_DATA_DIR": str(workdir), "LOCKER_COOKIE_SECURE": "false"})
    app = create_app(settings, config={"TESTING": True})
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "bench", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    assert client.get(f"/api/v1/persons/{person_id}/documents", headers=headers).status_code == 200
    before = peak_mb()
    started = time.perf_counter()
    answer = client.get(f"/api/v1/persons/{person_id}/export", headers=headers, buffered=False)
    assert answer.status_code == 200
    received = 0
    with tempfile.TemporaryFile() as kept:  # on disk, as a phone's browser would keep it
        for chunk in answer.response:
            received += len(chunk)
            kept.write(chunk)
        kept.seek(0)
        members = len(zipfile.ZipFile(kept).namelist())
    spent = time.perf_counter() - started
    after = peak_mb()
    print(f"export: {received / 1e9:.2f} GB, {members} files, {spent:.1f} s")
    print(f"  peak RSS before {before:.0f} MB, after {after:.0f} MB")
    print(f"  rise = {after - before:.1f} MB (goal < 64 MB)")
    # The same export held whole in memory, as a naive server or client would: what the
    # measure shows when memory does follow the locker's size.
    whole = client.get(f"/api/v1/persons/{person_id}/export", headers=headers)
    assert len(whole.data) > 0
    print(f"  baseline, the ZIP held whole: rise = {peak_mb() - after:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--take", nargs=2, metavar=("WORKDIR", "PERSON_ID"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.take:
        take_export(Path(args.take[0]), args.take[1])
        return
    with tempfile.TemporaryDirectory(prefix="locker-export-bench-") as workdir:
        started = time.perf_counter()
        person_id, stored = fill(Path(workdir), args.gb)
        print(f"locker: {stored / 1e9:.2f} GB stored in {time.perf_counter() - started:.0f} s")
        # A fresh process: the filling's own peak must not hide the export's.
        subprocess.run(
            [sys.executable, __file__, "--take", workdir, person_id], check=True, cwd=ROOT
        )


if __name__ == "__main__":
    main()
