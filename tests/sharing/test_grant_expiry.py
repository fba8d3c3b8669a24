"""An end date passing is written to the person's log once, and opens nothing meanwhile."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from locker.models import AuditRecord
from sharing.grants import record_grant_expiries
from tests.factories import (
    Clock,
    add_grant,
    add_member,
    new_organization,
    new_person,
    new_professional,
    upload,
)


@pytest.mark.no_csrf
def test_expiry_is_recorded_once_per_grant(app: Flask, clock: Clock) -> None:
    found = app.extensions["locker"]
    with found.session_factory() as session:
        org = new_organization(session, clock, "CHRS")
        pro = new_professional(session, clock, org, "martin")
        person = new_person(session, found.keyring, clock, "zoe")
        session.commit()
        doc = upload(found, session, clock, person)
        member = add_member(session, clock, person, pro)
        soon = add_grant(session, clock, member, doc, expires_at=clock() + _days(1))
        later = add_grant(session, clock, member, doc, expires_at=clock() + _days(30))
        revoked = add_grant(
            session, clock, member, doc, expires_at=clock() + _days(1), revoked_at=clock()
        )
        add_grant(session, clock, member, doc)  # no end date
        session.commit()
        assert record_grant_expiries(session, clock) == 0

        clock.advance(days=2)
        assert record_grant_expiries(session, clock) == 1
        session.commit()
        assert record_grant_expiries(session, clock) == 0  # once only
        clock.advance(days=40)
        assert record_grant_expiries(session, clock) == 1
        session.commit()

        rows = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "grant:expire")
            .order_by(AuditRecord.seq)
        ).all()
        assert [(r.person_id, r.document_id, r.actor_kind, r.reason) for r in rows] == [
            (person.id, doc, "system", "end_date"),
            (person.id, doc, "system", "end_date"),
        ]
        assert soon.expiry_recorded_at is not None and later.expiry_recorded_at is not None
        assert revoked.expiry_recorded_at is None  # a revocation is its own record


def _days(n: int):
    from datetime import timedelta

    return timedelta(days=n)
