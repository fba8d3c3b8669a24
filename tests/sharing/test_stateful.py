"""Random sequences of adds, removals, grants, revocations, expiries, mandates, a
professional's deactivation and reads, each read checked against a tiny model of who may
see what (hypothesis state machine)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from locker.actors import Actor
from locker.documents import find_document
from locker.errors import NotFound
from sharing import departures, desk, documents, grants, members
from sharing.decisions import Action
from sharing.models import Grant
from sharing.organizations import set_digital_inclusion
from sharing.policy import decide
from tests.factories import (
    Clock,
    add_mandate,
    context,
    new_organization,
    new_person,
    new_professional,
    upload,
)

PROS = 3
DOCS = (("identity", 0), ("health", 1))  # (category, index)
CATEGORIES = ("identity", "health", "taxes")
MANDATES = ("view share", "upload", "organise", "share")


@dataclass
class ModelGrant:
    member: int  # generation of membership: a re-added professional starts afresh
    document: int | None
    category: str | None
    expires: datetime | None
    revoked: bool = False


@dataclass
class ModelMandate:
    member: int
    scopes: str
    expires: datetime


@pytest.mark.no_csrf
def test_reads_always_match_the_model(app: Flask, clock: Clock) -> None:
    found = app.extensions["locker"]

    class Sharing(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.session = found.session_factory()
            s = self.session
            # pro i works for org i % 2; only a digital-inclusion org's mandates count.
            self.inclusion = [True, False]
            self.orgs = [
                new_organization(s, clock, f"Org{i}", digital_inclusion=on)
                for i, on in enumerate(self.inclusion)
            ]
            self.person = new_person(s, found.keyring, clock, f"p{secrets.token_hex(6)}")
            self.pros = [
                new_professional(s, clock, self.orgs[i % 2], f"pro{i}-{secrets.token_hex(4)}")
                for i in range(PROS)
            ]
            s.commit()
            self.docs = [upload(found, s, clock, self.person, "t", c) for c, _ in DOCS]
            # One paper expires soon, one much later: the desk counts the first only.
            for doc, days in zip(self.docs, (10, 200), strict=True):
                found_doc = find_document(s, doc)
                assert found_doc is not None
                found_doc.valid_until = clock().date() + timedelta(days=days)
            s.commit()
            self.categories = [c for c, _ in DOCS]  # helpers under "organise" move papers
            self.owner = Actor(kind="person", id=self.person.id)
            self.member_ids: dict[int, str] = {}  # pro index -> live member id
            self.generation: dict[int, int] = {}
            self.next_generation = 0
            self.grants: list[ModelGrant] = []
            self.mandates: list[ModelMandate] = []
            self.disabled: set[int] = set()  # deactivated by their organisation

        def teardown(self) -> None:
            self.session.close()

        def _actor(self, pro: int) -> Actor:
            p = self.pros[pro]
            return Actor(
                kind="professional", id=p.id, organization_id=p.organization_id, role="professional"
            )

        def _expiry(self, minutes: int | None) -> datetime | None:
            return None if minutes is None else clock() + timedelta(minutes=minutes)

        @rule(pro=st.integers(0, PROS - 1))
        def add(self, pro: int) -> None:
            if pro in self.member_ids or pro in self.disabled:
                return
            code = members.share_code_for(self.session, clock, self.pros[pro])
            assert code is not None
            member = members.add_member(
                context(found, self.session, self.owner, clock),
                person_id=self.person.id,
                professional_code=code,
                mission="",
            )
            self.session.commit()
            self.member_ids[pro] = member.id
            self.generation[pro] = self.next_generation
            self.next_generation += 1

        @rule(pro=st.integers(0, PROS - 1), by_self=st.booleans())
        def remove(self, pro: int, by_self: bool) -> None:
            if pro not in self.member_ids:
                return
            by_self = by_self and pro not in self.disabled  # a deactivated one can do nothing
            members.remove_member(
                context(found, self.session, self._actor(pro) if by_self else self.owner, clock),
                person_id=self.person.id,
                member_id=self.member_ids.pop(pro),
            )
            self.session.commit()
            del self.generation[pro]

        @rule(
            pro=st.integers(0, PROS - 1),
            doc=st.integers(0, 1),
            minutes=st.none() | st.integers(1, 120),
        )
        def grant(self, pro: int, doc: int, minutes: int | None) -> None:
            if pro not in self.member_ids:
                return
            grants.create_grant(
                context(found, self.session, self.owner, clock),
                document_id=self.docs[doc],
                member_id=self.member_ids[pro],
                expires_at=self._expiry(minutes),
            )
            self.session.commit()
            self.grants.append(ModelGrant(self.generation[pro], doc, None, self._expiry(minutes)))

        @rule(
            pro=st.integers(0, PROS - 1),
            doc=st.integers(0, 1),
            minutes=st.none() | st.integers(1, 120),
        )
        def share_category(self, pro: int, doc: int, minutes: int | None) -> None:
            if pro not in self.member_ids:
                return
            category = CATEGORIES[doc]
            grants.create_category_grant(
                context(found, self.session, self.owner, clock),
                person_id=self.person.id,
                member_id=self.member_ids[pro],
                category=category,
                expires_at=self._expiry(minutes),
            )
            self.session.commit()
            self.grants.append(
                ModelGrant(self.generation[pro], None, category, self._expiry(minutes))
            )

        @rule(pro=st.integers(0, PROS - 1))
        def revoke_all(self, pro: int) -> None:
            if pro not in self.member_ids:
                return
            rows = self.session.scalars(
                select(Grant.id).where(
                    Grant.member_id == self.member_ids[pro], Grant.revoked_at.is_(None)
                )
            ).all()
            for grant_id in rows:
                grants.revoke_grant(
                    context(found, self.session, self.owner, clock),
                    grant_id=grant_id,
                )
            self.session.commit()
            for g in self.grants:
                if g.member == self.generation[pro]:
                    g.revoked = True

        @rule(
            pro=st.integers(0, PROS - 1),
            scopes=st.sampled_from(MANDATES),
            minutes=st.integers(1, 120),
        )
        def mandate(self, pro: int, scopes: str, minutes: int) -> None:
            if pro not in self.member_ids:
                return
            from sharing.models import AccompanimentMember

            member = self.session.get(AccompanimentMember, self.member_ids[pro])
            assert member is not None
            expires = clock() + timedelta(minutes=minutes)
            add_mandate(self.session, clock, member, scopes, expires_at=expires)
            self.session.commit()
            self.mandates.append(ModelMandate(self.generation[pro], scopes, expires))

        @rule(org=st.integers(0, 1), on=st.booleans())
        def set_inclusion(self, org: int, on: bool) -> None:
            set_digital_inclusion(self.session, clock, organization_id=self.orgs[org].id, on=on)
            self.session.commit()
            self.inclusion[org] = on

        @rule(pro=st.integers(0, PROS - 1))
        def deactivate(self, pro: int) -> None:
            # Their organisation switches them off: at once, nothing more for them anywhere
            # (their list entry stays until the person decides; it opens nothing).
            operator = context(found, self.session, Actor.system(), clock)
            departures.deactivate_professional(operator, professional_id=self.pros[pro].id)
            self.session.commit()
            self.disabled.add(pro)

        def _helper(self, pro: int, scope: str = "view") -> bool:
            if pro in self.disabled:
                return False
            gen, now = self.generation.get(pro), clock()
            live = any(
                m.member == gen and scope in m.scopes.split() and m.expires > now
                for m in self.mandates
            )
            return live and self.inclusion[pro % 2]

        def _readers(self, doc: int) -> set[int]:
            return {pro for pro in range(PROS) if self._may_see(pro, doc)}

        @rule(pro=st.integers(0, PROS - 1), doc=st.integers(0, 1), to=st.sampled_from(CATEGORIES))
        def helper_moves(self, pro: int, doc: int, to: str) -> None:
            # Under "organise" a helper may file a paper elsewhere, never where more read it.
            before, was_reader = self._readers(doc), self._may_see(pro, doc)
            moved = self.categories[doc]
            try:
                documents.edit_document_for(
                    context(found, self.session, self._actor(pro), clock),
                    document_id=self.docs[doc],
                    category=to,
                )
                self.session.commit()
                moved = to
            except NotFound:
                self.session.rollback()
            self.categories[doc] = moved
            assert self._readers(doc) <= before, (pro, doc, to)
            assert was_reader or not self._may_see(pro, doc), (pro, doc, to)

        @rule(pro=st.integers(0, PROS - 1), to=st.integers(0, PROS - 1), doc=st.integers(0, 1))
        def helper_shares(self, pro: int, to: int, doc: int) -> None:
            # Under "share" a helper shares for the person, never with themself.
            if to not in self.member_ids:
                return
            was_reader = self._may_see(pro, doc)
            try:
                grants.create_grant(
                    context(found, self.session, self._actor(pro), clock),
                    document_id=self.docs[doc],
                    member_id=self.member_ids[to],
                )
                self.session.commit()
            except NotFound:
                self.session.rollback()
                assert to == pro or not self._helper(pro, "share"), (pro, to)
                return
            assert to != pro and self._helper(pro, "share"), (pro, to)
            self.grants.append(ModelGrant(self.generation[to], doc, None, None))
            assert self._may_see(pro, doc) == was_reader

        @rule(minutes=st.integers(1, 90))
        def wait(self, minutes: int) -> None:
            clock.advance(minutes=minutes)

        def _may_see(self, pro: int, doc: int) -> bool:
            if pro not in self.generation or pro in self.disabled:
                return False
            gen, now, category = self.generation[pro], clock(), self.categories[doc]
            for g in self.grants:
                live = not g.revoked and (g.expires is None or g.expires > now)
                if live and g.member == gen and (g.document == doc or g.category == category):
                    return True
            return self._helper(pro)

        def _desk_row(self, pro: int) -> desk.DeskRow | None:
            ctx = context(found, self.session, self._actor(pro), clock)
            rows = [r for r in desk.desk_persons(ctx).rows if r.person_id == self.person.id]
            return rows[0] if rows else None

        @rule(pro=st.integers(0, PROS - 1))
        def visit_desk(self, pro: int) -> None:
            # The table's counts (made by the database) say what the person's page shows
            # (made by the policy, paper by paper), before the visit moves on.
            if pro not in self.generation or pro in self.disabled:
                return
            row = self._desk_row(pro)
            assert row is not None
            ctx = context(found, self.session, self._actor(pro), clock)
            page = desk.desk_person(ctx, person_id=self.person.id)
            self.session.commit()
            assert row.shared == page.shared == len(page.papers)  # (fewer than a page here)
            assert row.expiring == len(page.expiring)
            assert row.ended == len(page.ended)
            if page.last_visit is None:
                assert row.new is None
            else:
                assert row.new == len(page.new_papers) + len(page.new_categories)

        @invariant()
        def the_desk_counts_what_the_model_shows(self) -> None:
            self.session.expire_all()
            for pro in range(PROS):
                if pro in self.disabled:
                    continue
                row = self._desk_row(pro)
                if pro not in self.generation:
                    assert row is None, pro
                    continue
                assert row is not None, pro
                seen = [doc for doc in range(len(DOCS)) if self._may_see(pro, doc)]
                assert row.shared == len(seen), (pro, seen)
                assert row.expiring == (1 if 0 in seen else 0), (pro, seen)

        @invariant()
        def reads_match_the_model(self) -> None:
            self.session.expire_all()  # read current rows, as every request does
            for pro in range(PROS):
                for doc in range(len(DOCS)):
                    document = find_document(self.session, self.docs[doc])
                    assert document is not None
                    for action in (
                        "document:read",
                        "document:describe",
                        "document:thumbnail",
                        "document:preview",
                    ):
                        allowed = decide(
                            self.session, self._actor(pro), action, document, now=clock()
                        ).allowed
                        assert allowed == self._may_see(pro, doc), (pro, doc, action)
                    # Nobody but the owner may ever re-share.
                    reshare = decide(
                        self.session, self._actor(pro), Action.GRANT_CREATE, document, now=clock()
                    )
                    assert reshare.allowed == self._helper(pro, "share"), (pro, doc)

    run_state_machine_as_test(
        Sharing,
        settings=settings(
            max_examples=20,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
