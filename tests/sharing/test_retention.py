"""Retention: each kind of ended history goes at its duration and not a second before;
what is live, unread, disputed or still named stays; papers, persons and the audit log
are never touched, and the log still verifies."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from locker.accounts import end_session, start_session
from locker.actors import Actor, utc_now
from locker.models import AuditRecord, AuthSession, Base, Document, Person
from locker.settings import Settings
from sharing.counter import create_counter_link, revoke_counter_link
from sharing.grants import record_grant_expiries
from sharing.members import remove_member
from sharing.models import AccompanimentMember, CounterLink, Grant, Mandate, RecoveryCode
from sharing.models import SharingNotice as Notice
from sharing.recovery import RESET_LOCK
from sharing.retention import RETENTION, forget_history
from tests.app_processes import settings_env
from tests.conftest import Actors
from tests.factories import (
    Clock,
    World,
    add_grant,
    add_mandate,
    add_member,
    build_world,
    context,
    new_professional,
)
from web.cli import main

Row = tuple[type[Base], str]
YEAR = timedelta(days=365)


@dataclass
class History:
    """Rows made around Alice's locker: those that end at `end`, by kind, and those that
    must outlive every duration."""

    end: datetime
    ended: dict[str, list[Row]] = field(default_factory=dict)
    kept: list[Row] = field(default_factory=list)
    # Expired after `end`, its expiry not yet on the log: it stays until it is.
    unrecorded: str = ""


def _code(
    session: Session, person: Person, clock: Clock, kind: str = "card", **dates: object
) -> str:
    code = RecoveryCode(
        person_id=person.id,
        code_hash=secrets.token_hex(32),
        kind=kind,
        created_at=clock(),
        **dates,
    )
    session.add(code)
    session.flush()
    return code.id


def _notice(session: Session, member: AccompanimentMember, clock: Clock) -> Notice:
    notice = Notice(
        person_id=member.person_id, kind="deposit", member_id=member.id, created_at=clock()
    )
    session.add(notice)
    session.flush()
    return notice


def _history(app: Flask, world: World, clock: Clock) -> History:
    """Everything ends the way it does in life (removal, revocation, sign-out, expiry)."""
    found = app.extensions["locker"]
    alice, referent = world.alice, world.members["referent"]
    end = clock() + timedelta(hours=1)
    with found.session_factory() as session:
        ctx = context(found, session, Actor(kind="person", id=alice.id), clock)
        leaving = add_member(session, clock, alice, world.users["other_org_pro"])
        newcomer = new_professional(session, clock, world.org, "Mme Blocked")
        blocked = add_member(session, clock, alice, newcomer)
        left_grant = add_grant(session, clock, leaving, world.doc)
        left_mandate = add_mandate(session, clock, leaving, "view")
        seen, unread = _notice(session, leaving, clock), _notice(session, blocked, clock)
        expired_grant = add_grant(session, clock, referent, world.doc_plain, expires_at=end)
        unrecorded = add_grant(session, clock, referent, world.doc_plain, expires_at=end + YEAR)
        helper = world.members["helper_view"]
        expired_mandate = add_mandate(session, clock, helper, "view", expires_at=end)
        live_mandate = add_mandate(session, clock, helper, "view", expires_at=end + 5 * YEAR)
        start_session(session, clock, alice, "api", hours=1)  # expires at `end`
        signed_out = start_session(session, clock, alice, "api", hours=24)
        link = create_counter_link(
            ctx, person_id=alice.id, document_ids=[world.doc], recipient="CAF", minutes=60
        )
        sessions = session.scalars(select(AuthSession.token_hash)).all()
        history = History(
            end,
            ended={
                "sign_in_sessions": [(AuthSession, token) for token in sessions],
                "counter_links": [(CounterLink, link.id)],
                "grants": [(Grant, left_grant.id), (Grant, expired_grant.id)],
                "mandates": [(Mandate, left_mandate.id), (Mandate, expired_mandate.id)],
                "recovery_codes": [
                    (RecoveryCode, _code(session, alice, clock, used_at=end, notice_seen_at=end)),
                    (RecoveryCode, _code(session, alice, clock, "issued", expires_at=end)),
                ],
                "notices": [(Notice, seen.id)],
                "list_entries": [(AccompanimentMember, leaving.id)],
            },
            kept=[
                # Still in use, still unread, or still barring its issuer.
                (Mandate, live_mandate.id),
                (AccompanimentMember, referent.id),
                (Notice, unread.id),
                (AccompanimentMember, blocked.id),
                (RecoveryCode, _code(session, alice, clock)),
                (RecoveryCode, _code(session, alice, clock, used_at=end)),
                (
                    RecoveryCode,
                    _code(session, alice, clock, used_at=end, notice_seen_at=end, disputed_at=end),
                ),
                # Removed by hand without its grant being revoked: the grant keeps it.
                (AccompanimentMember, world.members["removed_member"].id),
                *((Grant, grant.id) for grant in _live_grants(session, referent)),
            ],
            unrecorded=unrecorded.id,
        )
        session.commit()
        clock.now = end
        end_session(session, clock, signed_out)
        revoke_counter_link(ctx, link_id=link.id)
        for member in (leaving, blocked):
            remove_member(ctx, person_id=alice.id, member_id=member.id)
        seen.seen_at = end
        record_grant_expiries(session, clock)
        session.commit()
    return history


def _live_grants(session: Session, member: AccompanimentMember) -> list[Grant]:
    query = select(Grant).where(Grant.member_id == member.id, Grant.expires_at.is_(None))
    return list(session.scalars(query))


def _forget(app: Flask, clock: Clock) -> dict[str, int]:
    with app.extensions["locker"].session_factory() as session:
        counts = forget_history(session, clock)
        session.commit()
        return counts


def _left(app: Flask, rows: list[Row]) -> list[Row]:
    with app.extensions["locker"].session_factory() as session:
        return [(model, key) for model, key in rows if session.get(model, key) is not None]


def _untouched(app: Flask) -> tuple[int, ...]:
    """What forgetting never deletes: papers, persons, audit records."""
    with app.extensions["locker"].session_factory() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Document, Person, AuditRecord)
        )


def _audit_verifies(settings: Settings) -> None:
    verified = CliRunner().invoke(main, ["audit", "verify"], env=settings_env(settings))
    assert verified.exit_code == 0, verified.output


def test_each_kind_goes_at_its_duration_and_not_before(
    app: Flask, clock: Clock, settings: Settings
) -> None:
    world = build_world(app, clock)
    history = _history(app, world, clock)
    before = _untouched(app)
    for duration in sorted(set(RETENTION.values())):
        for at in (duration - timedelta(seconds=1), duration):
            clock.now = history.end + at
            _forget(app, clock)
            for kind, rows in history.ended.items():
                assert _left(app, rows) == (rows if RETENTION[kind] > at else []), (kind, at)
    clock.now = history.end + 3 * YEAR
    assert set(_forget(app, clock)) == set(RETENTION)
    assert _left(app, history.kept) == history.kept
    assert _untouched(app) == before
    _audit_verifies(settings)


def test_a_grant_goes_only_once_its_expiry_is_on_the_log(app: Flask, clock: Clock) -> None:
    history = _history(app, build_world(app, clock), clock)
    clock.now = history.end + 3 * YEAR
    unrecorded: list[Row] = [(Grant, history.unrecorded)]
    _forget(app, clock)
    assert _left(app, unrecorded) == unrecorded
    with app.extensions["locker"].session_factory() as session:
        assert record_grant_expiries(session, clock) >= 1
        session.commit()
    _forget(app, clock)
    assert _left(app, unrecorded) == []


def test_durations_are_those_the_docs_state_and_outlast_what_reads_the_rows() -> None:
    # docs/aipd.md §2.4 and docs/registre.md name these figures.
    durations = dict(RETENTION)
    assert durations.pop("sign_in_sessions") == timedelta(days=90)
    assert set(durations.values()) == {YEAR}
    # The 7-day lock after a reset reads used codes; the person's list of counter links
    # shows the last 7 days.
    assert RETENTION["recovery_codes"] > RESET_LOCK
    assert RETENTION["counter_links"] > timedelta(days=7)


def test_locker_purge_reports_what_it_forgot(app: Flask, world: Actors, settings: Settings) -> None:
    now = utc_now()
    with app.extensions["locker"].session_factory() as session:
        for days in (91, 89):
            ended = now - timedelta(days=days)
            session.add(
                AuthSession(
                    token_hash=secrets.token_hex(32),
                    channel="web",
                    user_kind="person",
                    user_id=world.alice.id,
                    created_at=ended - timedelta(hours=1),
                    expires_at=ended,
                )
            )
        session.commit()
    runner, env = CliRunner(), settings_env(settings)
    assert runner.invoke(main, ["audit", "checkpoint"], env=env).exit_code == 0
    purged = runner.invoke(main, ["purge"], env=env)
    assert purged.exit_code == 0, purged.output
    report = json.loads(purged.output)
    assert set(report) == {"purged", "objects_left", "grants_expired", "forgotten"}
    assert report["purged"] == 0 and report["grants_expired"] == 0
    assert report["forgotten"] == {kind: int(kind == "sign_in_sessions") for kind in RETENTION}
    with app.extensions["locker"].session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AuthSession)) == 1
    _audit_verifies(settings)
