"""Packs per procedure: papers matched to each checklist by category and title words, the
trash never counted, missing papers named; the pack shared with the referent in one step,
by the person alone, every refusal on the log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import select

from locker.accounts import actor_for
from locker.context import RequestContext
from locker.errors import NotFound
from locker.models import AuditRecord
from sharing import packs
from sharing.documents import describe_document_for
from sharing.errors import NoReferent
from sharing.models import Grant
from sharing.trash import trash_document_for
from tests.factories import Clock, World, build_world, context, upload


@contextmanager
def acting(app: Flask, clock: Clock, world: World, name: str) -> Iterator[RequestContext]:
    """A service context for one actor of the world; committed when the block succeeds."""
    found = app.extensions["locker"]
    with found.session_factory() as session:
        yield context(found, session, actor_for(session.merge(world.users[name])), clock)
        session.commit()


def _papers(app: Flask, clock: Clock, world: World, *papers: tuple[str, str]) -> list[str]:
    found = app.extensions["locker"]
    with found.session_factory() as session:
        return [upload(found, session, clock, world.alice, t, c) for t, c in papers]


def _records(app: Flask, action: str, outcome: str) -> list[AuditRecord]:
    with app.extensions["locker"].session_factory() as session:
        query = select(AuditRecord).where(
            AuditRecord.action == action, AuditRecord.outcome == outcome
        )
        return list(session.scalars(query.order_by(AuditRecord.seq)))


def test_titles_are_compared_without_accents_case_or_plural_and_by_whole_words() -> None:
    rib, tax = packs.PAPERS["rib"], packs.PAPERS["tax_notice"]
    for title in ("RELEVÉ D'IDENTITÉ BANCAIRE", "releve d’identite bancaire", "Mon IBAN", "rib"):
        assert rib.matches("other", packs.words_of(title)), title
    for title in ("Contribution", "Attribution de logement", "Ribambelle"):
        assert not rib.matches("other", packs.words_of(title)), title
    assert tax.matches("other", packs.words_of("Avis d’impôts 2024"))
    assert tax.matches("taxes", packs.words_of("Courrier"))  # by its category alone


def test_every_checklist_names_known_papers_and_asks_for_something() -> None:
    assert list(packs.PROCEDURES) == [
        "rsa",
        "dalo",
        "ame_css",
        "domiciliation",
        "titre_sejour",
        "france_travail",
    ]
    for procedure, items in packs.PROCEDURES.items():
        keys = [key for key, _ in items]
        assert set(keys) <= set(packs.PAPERS) and len(keys) == len(set(keys)), procedure
        assert any(required for _, required in items), procedure


def test_papers_match_by_category_and_title_words_and_the_trash_never_counts(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)  # Alice: a "Carte d'identité", an "Avis d'imposition"
    rib, caf, noise, trashed = _papers(
        app,
        clock,
        world,
        ("Relevé d'identité bancaire", "other"),
        ("Attestation CAF", "income_benefits"),
        ("Attribution", "other"),
        ("Facture EDF", "housing"),
    )
    with acting(app, clock, world, "owner") as ctx:
        trash_document_for(ctx, document_id=trashed)
    with acting(app, clock, world, "owner") as ctx:
        pack = packs.pack_for(ctx, person_id=world.alice.id, procedure="rsa")
    found = {item.key: [paper.id for paper in item.papers] for item in pack.items}
    assert found == {
        "identity": [world.doc],
        "address": [],  # the only housing paper is in the trash
        "rib": [rib],  # by its title, filed under "other"
        "social_security": [],
        "tax_notice": [world.doc_plain],
        "caf": [caf],
        "income": [caf],  # one paper counts for every item it matches
        "family": [],
    }
    assert noise not in pack.document_ids and trashed not in pack.document_ids
    assert pack.missing == ["address"]
    assert (pack.have, pack.needed) == (2, 3)
    assert pack.document_ids == [world.doc, rib, world.doc_plain, caf]


def test_the_list_counts_each_procedure_and_an_unknown_one_is_not_found(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    with acting(app, clock, world, "owner") as ctx:
        listed = packs.list_packs_for(ctx, person_id=world.alice.id)
        assert [pack.procedure for pack in listed] == list(packs.PROCEDURES)
        rsa = listed[0]
        assert (rsa.have, rsa.needed, rsa.missing) == (1, 3, ["address", "rib"])
        for call in (packs.pack_for, packs.share_pack_with_referent):
            with pytest.raises(NotFound):
                call(ctx, person_id=world.alice.id, procedure="nope")


def test_a_view_helper_sees_the_packs_on_the_persons_log_and_others_see_nothing(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    with acting(app, clock, world, "helper_view") as ctx:
        pack = packs.pack_for(ctx, person_id=world.alice.id, procedure="dalo")
    assert world.doc in pack.document_ids
    listed = _records(app, "person:list_documents", "allowed")
    assert [r.on_behalf_of for r in listed] == [world.alice.id]
    for name in ("referent_grant", "helper_share", "other_person", "org_admin"):
        with acting(app, clock, world, name) as ctx, pytest.raises(NotFound):
            packs.list_packs_for(ctx, person_id=world.alice.id)
    assert len(_records(app, "person:list_documents", "denied")) == 4


def test_the_person_shares_the_pack_with_the_referent_who_can_then_open_it(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)  # the referent sees the identity card, not the tax notice
    with acting(app, clock, world, "referent_nogrant") as ctx, pytest.raises(NotFound):
        describe_document_for(ctx, document_id=world.doc_plain)
    with acting(app, clock, world, "owner") as ctx:
        shared = packs.share_pack_with_referent(ctx, person_id=world.alice.id, procedure="rsa")
    assert shared.referent.id == world.members["referent"].id
    assert shared.document_ids == [world.doc, world.doc_plain]
    with acting(app, clock, world, "referent_nogrant") as ctx:
        assert describe_document_for(ctx, document_id=world.doc_plain).title == "Avis d'imposition"
    # One grant for the paper the referent could not open, recorded; none the second time.
    created = _records(app, "grant:create", "allowed")
    assert [r.document_id for r in created] == [world.doc_plain]
    with acting(app, clock, world, "owner") as ctx:
        packs.share_pack_with_referent(ctx, person_id=world.alice.id, procedure="rsa")
    assert len(_records(app, "grant:create", "allowed")) == 1


def test_only_the_person_shares_a_pack_and_every_refusal_is_logged(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    names = ("helper_share", "referent_grant", "other_person", "org_admin")
    for name in names:
        with acting(app, clock, world, name) as ctx, pytest.raises(NotFound):
            packs.share_pack_with_referent(ctx, person_id=world.alice.id, procedure="rsa")
    refused = _records(app, "grant:create", "denied")
    assert len(refused) == len(names) and {r.person_id for r in refused} == {world.alice.id}
    # A "share" mandate shares paper by paper; one tap for the whole pack is the person's.
    assert refused[0].reason == "not_owner"
    with app.extensions["locker"].session_factory() as session:
        assert (
            session.scalars(select(Grant).where(Grant.document_id == world.doc_plain)).all() == []
        )


def test_without_a_referent_nothing_is_shared_and_the_refusal_says_why(
    app: Flask, clock: Clock
) -> None:
    world = build_world(app, clock)
    with app.extensions["locker"].session_factory() as session:
        session.merge(world.members["referent"]).referent = False
        session.commit()
    with acting(app, clock, world, "owner") as ctx:
        assert packs.referent_for(ctx, person_id=world.alice.id) is None
        with pytest.raises(NoReferent):
            packs.share_pack_with_referent(ctx, person_id=world.alice.id, procedure="rsa")
    assert _records(app, "grant:create", "allowed") == []
