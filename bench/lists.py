"""A person's list costs the same with 40 papers or 1,000 (see bench/README.md "## lists").

Fills two lockers on the embedded default (SQLite and a local folder) through the real
upload pipeline, one with 40 papers and one with 1,000, then times, in each, the first page
of the list through the API and through the page `/papers`, the access log page, and, as
the baseline the pagination replaced, the whole list with every title decrypted. Goal: a
page with 1,000 papers costs at most 2 x the page with 40.

    .venv/bin/python bench/lists.py [--large 1000] [--small 40] [--runs 30]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from uploads import PASSWORD, make_app  # noqa: E402

from locker import accounts  # noqa: E402
from locker.actors import Actor  # noqa: E402
from locker.documents import UploadRequest, list_documents, upload_document  # noqa: E402
from tests.factories import PNG  # noqa: E402
from web.accounts import INFORMATION_VERSION  # noqa: E402


def filled(workdir: Path, papers: int):  # type: ignore[no-untyped-def]
    """An app whose person has `papers` papers, signed in through the API and a browser."""
    app, person_id = make_app(workdir, {})
    app.config["WTF_CSRF_ENABLED"] = False
    found = app.extensions["locker"]
    with found.session_factory() as session:
        person = session.get(accounts.Person, person_id)
        person.information_version = INFORMATION_VERSION
        for number in range(papers):
            upload_document(
                session,
                found.store,
                found.keyring,
                found.clock,
                actor=Actor(kind="person", id=person_id),
                person=person,
                upload=UploadRequest(
                    source=io.BytesIO(PNG),
                    filename="scan.png",
                    title=f"Attestation {number}",
                    category="income_benefits",
                    max_bytes=found.settings.max_upload_bytes,
                ),
            )
        session.commit()
    client = app.test_client()
    answer = client.post("/api/v1/auth/token", json={"username": "bench", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    browser = app.test_client()
    signed = browser.post("/sign-in", data={"identifier": "bench", "password": PASSWORD})
    assert signed.status_code == 302, signed.status_code
    return app, person_id, client, headers, browser


def median_ms(act: Callable[[], object], runs: int) -> float:
    act()  # warm-up: templates compiled, caches filled
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        act()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(papers: int, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as workdir:
        app, person_id, client, headers, browser = filled(Path(workdir), papers)
        found = app.extensions["locker"]

        def api_page() -> None:
            answer = client.get(f"/api/v1/persons/{person_id}/documents", headers=headers)
            assert answer.status_code == 200 and len(answer.get_json()) == min(papers, 50)

        def papers_page() -> None:
            assert browser.get("/papers").status_code == 200

        def access_log_page() -> None:
            assert browser.get("/access-log").status_code == 200

        def whole_list() -> None:
            with found.session_factory() as session:
                person = session.get(accounts.Person, person_id)
                assert len(list_documents(session, found.keyring, person)) == papers

        figures = {
            "API page": median_ms(api_page, runs),
            "/papers": median_ms(papers_page, runs),
            "/access-log": median_ms(access_log_page, runs),
            "whole list (baseline)": median_ms(whole_list, runs),
        }
        found.engine.dispose()
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=40)
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    small = measure(args.small, args.runs)
    large = measure(args.large, args.runs)
    print(f"| what | {args.small} papers ms | {args.large} papers ms | ratio (goal <= 2) |")
    print("|---|---|---|---|")
    for name in small:
        ratio = large[name] / small[name]
        print(f"| {name} | {small[name]:.1f} | {large[name]:.1f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
