"""The professional's desk: my persons' table and its search, one person's page with only
what they shared with me and what is new since my last visit, a paper previewed inline
and on the person's log; everything else answers as missing."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from locker.accounts import actor_for
from locker.documents import find_document
from locker.models import Person, Professional
from sharing.desk import PAGE_SIZE, PAPERS_PAGE, desk_person, desk_persons, search_pattern
from sharing.models import AccompanimentMember, DeskVisit, Grant
from tests.conftest import bearer, token_for
from tests.factories import (
    Clock,
    add_grant,
    add_mandate,
    add_member,
    context,
    new_organization,
    new_person,
    new_professional,
    upload,
)
from tests.web.test_pages import sign_in


@dataclass
class Desk:
    alice: str
    bob: str
    shared: str
    private: str
    bob_doc: str
    member: str


@pytest.fixture
def desk(app: Flask, clock: Clock) -> Desk:
    """Mme Martin on Alice's list (one of her two papers shared) and on nobody else's; Bob
    is M. Durand's; "Chloé" has a request from Mme Martin she has not accepted."""
    found = app.extensions["locker"]
    with found.session_factory() as s:
        org = new_organization(s, clock, "CHRS Les Lilas")
        other = new_organization(s, clock, "Mission locale")
        martin = new_professional(s, clock, org, "Mme Martin", email="martin@lilas.example")
        durand = new_professional(s, clock, other, "M. Durand", email="durand@ml.example")
        alice = new_person(s, found.keyring, clock, "alice", "Alice Moreau")
        bob = new_person(s, found.keyring, clock, "bob", "Bob Laurent")
        chloe = new_person(s, found.keyring, clock, "chloe", "Chloé Petit")
        s.commit()
        shared = upload(found, s, clock, alice, "Carte d'identité", "identity")
        private = upload(found, s, clock, alice, "Certificat médical", "health")
        bob_doc = upload(found, s, clock, bob, "Bulletin de Bob", "work")
        member = add_member(s, clock, alice, martin, referent=True)
        add_grant(s, clock, member, shared)
        add_grant(s, clock, add_member(s, clock, bob, durand), bob_doc)
        asked = add_member(s, clock, chloe, martin)
        asked.status = "requested"
        s.commit()
        return Desk(alice.id, bob.id, shared, private, bob_doc, member.id)


def _signed_in(app: Flask, who: str) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, who).status_code == 302
    return client


def _rows(page: bytes) -> list[str]:
    """The names in the table's row headers, in order."""
    return re.findall(
        r'<th scope="row"><a href="/pro/persons/[0-9a-f-]{36}">(?:.*?</span> )?([^<]+)</a>',
        page.decode(),
    )


def test_the_table_has_a_caption_and_headers(app: Flask, desk: Desk) -> None:
    page = _signed_in(app, "martin@lilas.example").get("/pro/persons")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<caption" in text and text.count('<th scope="col">') == 6
    assert _rows(page.data) == ["Alice Moreau"]
    assert 'role="region"' in text and 'aria-labelledby="persons-caption"' in text
    # Counts only: no title is decrypted for the table, nothing is on Alice's log.
    assert "Carte d&#39;identité" not in text and "Certificat" not in text


def test_search_finds_only_my_own_persons(app: Flask, desk: Desk) -> None:
    martin = _signed_in(app, "martin@lilas.example")
    for query in ("alice", "Moreau", "ALI", "  alice   "):
        assert _rows(martin.get("/pro/persons", query_string={"q": query}).data) == [
            "Alice Moreau"
        ], query
    # Bob is on M. Durand's list, not mine; Chloé has not accepted my request: never
    # listed, even by their exact name or username.
    for query in ("bob", "Bob Laurent", "chloe", "Chloé Petit", "%", "_", "\\"):
        page = martin.get("/pro/persons", query_string={"q": query})
        assert page.status_code == 200
        assert _rows(page.data) == [], query
        assert "Bob" not in page.get_data(as_text=True).replace(query, "")
        assert 'id="no-match"' in page.get_data(as_text=True)
    # M. Durand finds Bob and never Alice.
    durand = _signed_in(app, "durand@ml.example")
    assert _rows(durand.get("/pro/persons?q=alice").data) == []
    assert _rows(durand.get("/pro/persons?q=bob").data) == ["Bob Laurent"]


def test_search_pattern_takes_wildcards_literally() -> None:
    assert search_pattern("a%b_c\\") == "%a\\%b\\_c\\\\%"


def test_the_table_is_paged_in_a_stable_order(app: Flask, desk: Desk, clock: Clock) -> None:
    found = app.extensions["locker"]
    with found.session_factory() as s:
        martin = s.query(Professional).filter_by(email="martin@lilas.example").one()
        for n in range(PAGE_SIZE + 4):
            # Two persons share each name: the order must still be the same on every page.
            person = new_person(s, found.keyring, clock, f"p{n:03d}", f"Zoé {n // 2:03d}")
            add_member(s, clock, person, martin)
        s.commit()
    client = _signed_in(app, "martin@lilas.example")
    first = _rows(client.get("/pro/persons?q=zo").data)
    second_page = client.get("/pro/persons?q=zo&page=2")
    second = _rows(second_page.data)
    assert len(first) == PAGE_SIZE and len(second) == 4
    assert first + second == sorted(first + second)
    assert 'id="previous-page"' in second_page.get_data(as_text=True)
    assert "page=2" in client.get("/pro/persons?q=zo").get_data(as_text=True)
    # Past the end: the last page; nonsense: the first.
    assert _rows(client.get("/pro/persons?q=zo&page=99").data) == second
    assert _rows(client.get("/pro/persons?q=zo&page=x").data) == first
    assert _rows(client.get("/pro/persons?page=-3").data)[0] == "Alice Moreau"
    # The same ids on two loads: a stable order, no person on two pages.
    again = client.get("/pro/persons?q=zo&page=2").get_data(as_text=True)
    ids = re.findall(r'href="/pro/persons/([0-9a-f-]{36})"', again)
    assert ids == re.findall(
        r'href="/pro/persons/([0-9a-f-]{36})"', second_page.get_data(as_text=True)
    )


def test_a_person_page_shows_only_what_she_shared_with_me(app: Flask, desk: Desk) -> None:
    martin = _signed_in(app, "martin@lilas.example")
    page = martin.get(f"/pro/persons/{desk.alice}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Carte d&#39;identité" in text and f"/papers/{desk.shared}" in text
    assert "Certificat médical" not in text and desk.private not in text
    assert 'id="first-visit"' in text
    assert f"/pro/persons/{desk.alice}/deposit" in text
    assert 'id="issue-recovery-code"' in text  # she chose me as her referent
    # The titles shown are on Alice's log, as a listing by Mme Martin.
    alice = app.test_client()
    log = alice.get(
        f"/api/v1/persons/{desk.alice}/access-log", headers=bearer(token_for(alice, "alice"))
    ).get_json()
    assert any(
        e["action"] == "person:list_documents" and e["actor"]["name"] == "Mme Martin" for e in log
    )


def test_a_long_share_comes_a_page_at_a_time(app: Flask, desk: Desk, clock: Clock) -> None:
    """Past a page, the papers come a page at a time, each once, newest first; the first
    page is the visit; a cursor that is not a paper shared with me opens nothing."""
    found = app.extensions["locker"]
    with found.session_factory() as s:
        alice = s.get(Person, desk.alice)
        many = []
        for number in range(PAPERS_PAGE + 4):
            clock.advance(seconds=1)
            many.append(upload(found, s, clock, alice, f"Fiche de paie {number}", "work"))
        add_grant(s, clock, s.get(AccompanimentMember, desk.member), None, category="work")
        s.commit()
    martin = _signed_in(app, "martin@lilas.example")
    first = martin.get(f"/pro/persons/{desk.alice}").get_data(as_text=True)
    newest = list(reversed(many))
    assert _papers(first) == newest[:PAPERS_PAGE]
    assert f"{PAPERS_PAGE + 5} papiers partagés avec moi" in first  # the whole count
    assert 'id="whats-new"' in first and 'id="expiring"' in first
    assert 'id="papers-newest"' not in first
    older = re.search(r'href="([^"]+)" id="papers-older"', first)
    assert older, "a link to the older papers"
    with found.session_factory() as s:
        visited = s.get(DeskVisit, (_martin_id(s), desk.alice)).visited_at

    clock.advance(minutes=5)
    second = martin.get(older.group(1)).get_data(as_text=True)
    assert _papers(second) == [*newest[PAPERS_PAGE:], desk.shared]
    assert 'id="papers-older"' not in second and 'id="papers-newest"' in second
    # A later page is not a visit: nothing new is reckoned, the visit stays where it was.
    assert 'id="whats-new"' not in second and 'id="expiring"' not in second
    with found.session_factory() as s:
        assert s.get(DeskVisit, (_martin_id(s), desk.alice)).visited_at == visited

    # After the oldest paper, an empty page still leads back to the newest.
    last = martin.get(f"/pro/persons/{desk.alice}", query_string={"after": desk.shared})
    assert last.status_code == 200 and 'id="papers-newest"' in last.get_data(as_text=True)
    assert _papers(last.get_data(as_text=True)) == []
    assert "Rien n'est partagé" not in html.unescape(last.get_data(as_text=True))

    for cursor in (desk.private, desk.bob_doc, "x" * 36, "nonsense"):
        refused = martin.get(f"/pro/persons/{desk.alice}", query_string={"after": cursor})
        assert refused.status_code == 422
        assert "Certificat" not in refused.get_data(as_text=True)
        assert "page demandée (revenez aux papiers les plus récents)" in html.unescape(
            refused.get_data(as_text=True)
        )


def _papers(page: str) -> list[str]:
    """The ids of the papers in a desk person page's table, in order."""
    return re.findall(
        r'<a class="desk-paper" href="/pro/persons/[0-9a-f-]{36}/papers/([0-9a-f-]{36})"', page
    )


def _martin_id(s: Session) -> str:
    found = s.scalar(select(Professional.id).where(Professional.email == "martin@lilas.example"))
    assert found is not None
    return found


def test_whats_new_since_my_last_visit(app: Flask, desk: Desk, clock: Clock) -> None:
    found = app.extensions["locker"]
    martin = _signed_in(app, "martin@lilas.example")
    page = f"/pro/persons/{desk.alice}"
    assert 'id="first-visit"' in martin.get(page).get_data(as_text=True)
    assert 'id="nothing-new"' in martin.get(page).get_data(as_text=True)
    table = martin.get("/pro/persons").get_data(as_text=True)
    assert "Pas encore ouvert" not in table

    # After my visit, Alice shares a new paper and takes the old one back.
    clock.advance(minutes=5)
    with found.session_factory() as s:
        alice = s.get(Person, desk.alice)
        assert alice is not None
        fresh = upload(found, s, clock, alice, "Avis CAF", "income_benefits")
        member = s.get(AccompanimentMember, desk.member)
        assert member is not None
        add_grant(s, clock, member, fresh)
        s.query(Grant).filter_by(document_id=desk.shared).update({"revoked_at": clock()})
        s.commit()
    clock.advance(minutes=5)
    row = martin.get("/pro/persons").get_data(as_text=True)
    assert "1 partage terminé" in row
    text = martin.get(page).get_data(as_text=True)
    new = text[text.index('id="new-shares"') : text.index("</ul>", text.index('id="new-shares"'))]
    assert "Avis CAF" in new and "Carte" not in new
    ended = text[text.index('id="ended-shares"') :]
    ended = ended[: ended.index("</ul>")]
    assert "n'est plus partagé" in ended and "Carte" not in ended  # no title of a paper not mine
    assert "Carte d&#39;identité" not in text
    # Seen: on the next visit, nothing is new any more.
    clock.advance(minutes=5)
    again = martin.get(page).get_data(as_text=True)
    assert 'id="nothing-new"' in again and 'id="new-shares"' not in again
    with found.session_factory() as s:
        assert s.query(DeskVisit).filter_by(person_id=desk.alice).one().visited_at == clock()


def test_a_category_share_and_its_end_show_as_news(app: Flask, desk: Desk, clock: Clock) -> None:
    found = app.extensions["locker"]
    martin = _signed_in(app, "martin@lilas.example")
    page = f"/pro/persons/{desk.alice}"
    martin.get(page)
    clock.advance(minutes=1)
    with found.session_factory() as s:
        s.add(
            Grant(
                person_id=desk.alice,
                member_id=desk.member,
                category="health",
                origin="person",
                created_at=clock(),
                expires_at=clock() + timedelta(minutes=10),
            )
        )
        s.commit()
    clock.advance(minutes=1)
    text = martin.get(page).get_data(as_text=True)
    assert "Certificat médical" in text and "Santé" in text
    clock.advance(minutes=15)  # its end date passes (before the idle sign-out)
    text = martin.get(page).get_data(as_text=True)
    assert "Certificat médical" not in text
    assert "a pris fin" in text


def test_opening_a_paper_previews_it_and_is_on_her_log(app: Flask, desk: Desk) -> None:
    martin = _signed_in(app, "martin@lilas.example")
    page = martin.get(f"/pro/persons/{desk.alice}/papers/{desk.shared}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'src="/papers/{desk.shared}/preview"' in text
    preview = martin.get(f"/papers/{desk.shared}/preview")
    assert preview.status_code == 200 and preview.mimetype.startswith("image/")
    alice = app.test_client()
    log = alice.get(
        f"/api/v1/persons/{desk.alice}/access-log", headers=bearer(token_for(alice, "alice"))
    ).get_json()
    mine = [e for e in log if e["actor"].get("name") == "Mme Martin"]
    assert {"document:describe", "document:preview"} <= {e["action"] for e in mine}
    assert all(e["outcome"] == "allowed" for e in mine)
    assert any(e["document_id"] == desk.shared for e in mine)


def test_anything_not_shared_with_me_is_missing(app: Flask, desk: Desk) -> None:
    martin = _signed_in(app, "martin@lilas.example")
    missing = [
        f"/pro/persons/{desk.alice}/papers/{desk.private}",  # hers, not shared
        f"/pro/persons/{desk.bob}",  # another professional's person
        f"/pro/persons/{desk.bob}/papers/{desk.bob_doc}",
        f"/pro/persons/{desk.alice}/papers/{desk.bob_doc}",  # Bob's paper under her id
        f"/pro/persons/{desk.alice}/papers/not-an-id",
        "/pro/persons/not-an-id",
        f"/papers/{desk.private}/preview",
    ]
    for path in missing:
        assert martin.get(path).status_code == 404, path
    durand = _signed_in(app, "durand@ml.example")
    for path in (f"/pro/persons/{desk.alice}", f"/pro/persons/{desk.alice}/papers/{desk.shared}"):
        assert durand.get(path).status_code == 404, path
    # A person has no desk; not even her own page there.
    alice = _signed_in(app, "alice")
    assert alice.get(f"/pro/persons/{desk.alice}").status_code == 404
    # Refusals on Alice's papers are on her log, as refused.
    log = alice.get(
        f"/api/v1/persons/{desk.alice}/access-log", headers=bearer(token_for(alice, "alice"))
    ).get_json()
    assert any(e["outcome"] == "denied" and e["document_id"] == desk.private for e in log)


def test_a_deposit_from_the_person_page_comes_back_to_it(app: Flask, desk: Desk) -> None:
    import io

    from tests.conftest import sample
    from tests.web.test_pages import csrf

    martin = _signed_in(app, "martin@lilas.example")
    page = f"/pro/persons/{desk.alice}"
    sent = martin.post(
        f"{page}/deposit",
        data={
            "file": (io.BytesIO(sample("scan.png")), "scan.png"),
            "title": "Attestation d'hébergement",
            "category": "housing",
            "csrf_token": csrf(martin, page),
        },
    )
    assert sent.status_code == 302 and sent.headers["Location"].endswith(page)
    text = martin.get(page).get_data(as_text=True)
    assert "Attestation d&#39;hébergement" in text and 'id="unseen-deposits"' in text


def test_the_table_costs_the_same_queries_for_one_row_or_many(
    app: Flask, desk: Desk, clock: Clock
) -> None:
    found = app.extensions["locker"]
    engine = found.session_factory.kw["bind"]

    def queries_for_the_table() -> tuple[int, int]:
        sent: list[str] = []

        def note(*args: object) -> None:
            sent.append(str(args[2]))

        with found.session_factory() as s:
            martin = s.query(Professional).filter_by(email="martin@lilas.example").one()
            ctx = context(found, s, actor_for(martin), clock)
            event.listen(engine, "before_cursor_execute", note)
            try:
                rows = len(desk_persons(ctx).rows)
            finally:
                event.remove(engine, "before_cursor_execute", note)
        return rows, len(sent)

    rows, one_row = queries_for_the_table()
    assert rows == 1
    with found.session_factory() as s:
        martin = s.query(Professional).filter_by(email="martin@lilas.example").one()
        for n in range(5):
            person = new_person(s, found.keyring, clock, f"many{n}", f"Personne {n}")
            s.commit()
            paper = upload(found, s, clock, person, f"Papier {n}", "identity")
            add_grant(s, clock, add_member(s, clock, person, martin), paper)
        s.commit()
    rows, many_rows = queries_for_the_table()
    assert rows == 6 and many_rows == one_row


def test_the_table_counts_what_her_page_shows(app: Flask, clock: Clock) -> None:
    """The table's numbers come from the database (the policy's condition in SQL), the
    person's page from the policy paper by paper: each kind of share, its end, the trash,
    a helper's mandate and another person's papers, counted by hand and by both."""
    found = app.extensions["locker"]
    with found.session_factory() as s:
        org = new_organization(s, clock, "CHRS")
        inclusion = new_organization(s, clock, "Espace numérique", digital_inclusion=True)
        plain = new_organization(s, clock, "Mairie")
        martin = new_professional(s, clock, org, "Mme Martin")
        helper = new_professional(s, clock, inclusion, "Mme Aide")
        clerk = new_professional(s, clock, plain, "M. Guichet")
        p = new_person(s, found.keyring, clock, "paula", "Paula")
        q = new_person(s, found.keyring, clock, "quentin", "Quentin")
        s.commit()
        paper = {
            name: upload(found, s, clock, p, name, category)
            for name, category in (
                ("a", "identity"),
                ("b", "health"),
                ("c", "work"),
                ("d", "taxes"),
                ("e", "identity"),
                ("f", "health"),
                ("g", "housing"),
            )
        }
        upload(found, s, clock, q, "q", "health")
        soon, later = clock().date() + timedelta(days=10), clock().date() + timedelta(days=400)
        for name, valid_until in (("b", soon), ("e", soon), ("f", later)):
            found_paper = find_document(s, paper[name])
            assert found_paper is not None
            found_paper.valid_until = valid_until
        trashed = find_document(s, paper["d"])
        assert trashed is not None
        trashed.deleted_at = clock()
        mine = add_member(s, clock, p, martin, referent=True)
        add_member(s, clock, q, martin)  # her health paper is not Paula's category share
        add_grant(s, clock, mine, paper["a"])
        add_grant(s, clock, mine, paper["c"], expires_at=clock() + timedelta(minutes=10))
        add_grant(s, clock, mine, paper["d"])
        add_grant(s, clock, mine, paper["g"], revoked_at=clock())
        add_grant(s, clock, mine, None, category="health", expires_at=clock() + timedelta(hours=2))
        add_mandate(s, clock, add_member(s, clock, p, helper), "view")
        add_mandate(s, clock, add_member(s, clock, p, clerk), "view")  # not an inclusion org
        s.commit()

    def table_and_page(
        pro: Professional,
    ) -> tuple[dict[str, tuple[object, ...]], tuple[object, ...]]:
        """The table's rows by name, and Paula's page in the same numbers (then visited)."""
        with found.session_factory() as s:
            ctx = context(found, s, actor_for(s.merge(pro)), clock)
            rows = {
                r.display_name: (r.shared, r.new, r.ended, r.expiring)
                for r in desk_persons(ctx).rows
            }
            page = desk_person(ctx, person_id=p.id)
            s.commit()
            new = (
                None if page.last_visit is None else len(page.new_papers) + len(page.new_categories)
            )
            assert len(page.papers) == min(page.shared, PAPERS_PAGE)
            return rows, (page.shared, new, len(page.ended), len(page.expiring))

    # First look: a, c (by paper), b and f (health); not d (trash), g (revoked), e.
    rows, page = table_and_page(martin)
    assert rows == {"Paula": (4, None, 1, 1), "Quentin": (0, None, 0, 0)}
    assert rows["Paula"] == page
    rows, page = table_and_page(helper)
    assert rows == {"Paula": (6, None, 0, 2)} and rows["Paula"] == page
    rows, page = table_and_page(clerk)
    assert rows == {"Paula": (0, None, 0, 0)} and rows["Paula"] == page

    # After Mme Martin's visit: a new paper h shared, her identity papers shared as a
    # category, and c's share ends.
    clock.advance(minutes=5)
    with found.session_factory() as s:
        member = s.merge(mine)
        h = upload(found, s, clock, s.merge(p), "h", "identity")
        add_grant(s, clock, member, h)
        add_grant(s, clock, member, None, category="identity")
        s.commit()
    clock.advance(minutes=10)
    rows, page = table_and_page(martin)
    # a, b, e, f, h; new: h, and a, e, h by the new category, plus that category itself.
    assert rows["Paula"] == (5, 4, 1, 2) and rows["Paula"] == page
    rows, page = table_and_page(martin)
    assert rows["Paula"] == (5, 0, 0, 2) and rows["Paula"] == page
    rows, page = table_and_page(helper)
    assert rows["Paula"] == (7, 1, 0, 2) and rows["Paula"] == page  # h is new to her too
