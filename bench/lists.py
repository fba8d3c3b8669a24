"""A person's list costs the same with 40 papers or 1,000 (see bench/README.md "## lists").

Fills two lockers on the embedded default (SQLite and a local folder) through the real
upload pipeline, one with 40 papers and one with 1,000, then times, in each, the first page
of the list through the API and through the page `/papers`, the access log page, the desk's
table of the persons of her referent (a third of her papers shared; the service and the
page `/pro/persons`), and, as
the baseline the pagination replaced, the whole list with every title decrypted. Both
lockers first get the same history (250 opens of their 40 newest papers: the person's own
list views are not recorded), and the two are timed alternately, so the
machine's load hits both alike. Goal: a page with 1,000 papers costs at most 2 x the page
with 40.

    .venv/bin/python bench/lists.py [--large 1000] [--small 40] [--runs 30] [--history 250]
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
from locker.accounts import actor_for  # noqa: E402
from locker.actors import Actor  # noqa: E402
from locker.documents import UploadRequest, list_documents, upload_document  # noqa: E402
from sharing.desk import desk_persons  # noqa: E402
from tests.factories import (  # noqa: E402
    PNG,
    add_grant,
    add_member,
    context,
    new_organization,
    new_professional,
    second_factor_code,
)
from web.accounts import INFORMATION_VERSION  # noqa: E402

REFERENT_EMAIL = "referente@example.org"


def filled(workdir: Path, papers: int):  # type: ignore[no-untyped-def]
    """An app whose person has `papers` papers, signed in through the API and a browser."""
    app, person_id = make_app(workdir, {})
    app.config["WTF_CSRF_ENABLED"] = False
    found = app.extensions["locker"]
    with found.session_factory() as session:
        person = session.get(accounts.Person, person_id)
        person.information_version = INFORMATION_VERSION
        made, shared = [], []
        for number in range(papers):
            view = upload_document(
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
            made.append(view.id)
            if number % 3 == 0:
                shared.append(view.id)
        # Her referent, with a third of her papers shared, for the desk's table.
        org = new_organization(session, found.clock, "CHRS")
        referent = new_professional(
            session,
            found.clock,
            org,
            "Référente",
            email=REFERENT_EMAIL,
            keyring=found.keyring,
        )
        member = add_member(session, found.clock, person, referent, referent=True)
        for document_id in shared:
            add_grant(session, found.clock, member, document_id)
        session.commit()
        app.config["BENCH_REFERENT"] = actor_for(referent)
        app.config["BENCH_NEWEST"] = made[-40:]
    client = app.test_client()
    answer = client.post("/api/v1/auth/token", json={"username": "bench", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    browser = app.test_client()
    signed = browser.post("/sign-in", data={"identifier": "bench", "password": PASSWORD})
    assert signed.status_code == 302, signed.status_code
    # Her referent at the desk: password, then the code of her second factor.
    desk = app.test_client()
    signed = desk.post("/sign-in", data={"identifier": REFERENT_EMAIL, "password": PASSWORD})
    assert signed.headers.get("Location", "").endswith("/sign-in/code"), signed.status_code
    code = second_factor_code(app, app.config["BENCH_REFERENT"].id)
    assert desk.post("/sign-in/code", data={"code": code}).status_code == 302
    return app, person_id, client, headers, browser, desk


def timed_ms(act: Callable[[], object]) -> float:
    started = time.perf_counter()
    act()
    return (time.perf_counter() - started) * 1000


def measures(papers: int, workdir: Path, history: int) -> dict[str, Callable[[], object]]:
    """The measures on a locker of `papers` papers, after `history` opens of its 40 newest
    papers (the same for every locker: its own newest records then are those opens)."""
    app, person_id, client, headers, browser, desk = filled(workdir, papers)
    found = app.extensions["locker"]

    def api_page() -> None:
        answer = client.get(f"/api/v1/persons/{person_id}/documents", headers=headers)
        assert answer.status_code == 200 and len(answer.get_json()) == min(papers, 50)

    def papers_page() -> None:
        assert browser.get("/papers").status_code == 200

    def access_log_page() -> None:
        assert browser.get("/access-log").status_code == 200

    def desk_table() -> None:
        with found.session_factory() as session:
            ctx = context(found, session, app.config["BENCH_REFERENT"])
            (row,) = desk_persons(ctx).rows
            assert row.shared == -(-papers // 3)

    def desk_page() -> None:
        page = desk.get("/pro/persons")
        assert page.status_code == 200 and b"/pro/persons/" in page.data

    def desk_person_page() -> None:
        page = desk.get(f"/pro/persons/{person_id}")
        assert page.status_code == 200, page.status_code

    def whole_list() -> None:
        with found.session_factory() as session:
            person = session.get(accounts.Person, person_id)
            assert len(list_documents(session, found.keyring, person)) == papers

    # Her own opens are on her log (her list views are not): the same history in every
    # locker, so that her own section of the access log has the same lines in each.
    newest = app.config["BENCH_NEWEST"]
    for number in range(history):
        opened = client.get(
            f"/api/v1/documents/{newest[number % len(newest)]}/content", headers=headers
        )
        assert opened.status_code == 200, opened.status_code
    return {
        "API page": api_page,
        "/papers": papers_page,
        "/access-log": access_log_page,
        "desk table (service)": desk_table,
        "desk table (/pro/persons)": desk_page,
        "desk person page": desk_person_page,
        "whole list (baseline)": whole_list,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=40)
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--history", type=int, default=250, help="opens before measuring")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        small = measures(args.small, Path(one), args.history)
        large = measures(args.large, Path(two), args.history)
        print(f"| what | {args.small} papers ms | {args.large} papers ms | ratio (goal <= 2) |")
        print("|---|---|---|---|")
        for name in small:
            small[name](), large[name]()  # warm-up: templates compiled, caches filled
            times: tuple[list[float], list[float]] = ([], [])
            for _ in range(args.runs):  # alternated, so that the machine's load hits both
                times[0].append(timed_ms(small[name]))
                times[1].append(timed_ms(large[name]))
            low, high = statistics.median(times[0]), statistics.median(times[1])
            print(f"| {name} | {low:.1f} | {high:.1f} | {high / low:.2f} |")


if __name__ == "__main__":
    main()
