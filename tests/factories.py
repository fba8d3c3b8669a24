"""Values the tests build again and again, made one way: accounts, sharing rows, worlds."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from crypto.keyring import Keyring
from locker import accounts, actors
from locker.actors import Actor
from locker.context import RequestContext
from locker.documents import UploadRequest, upload_document
from locker.models import Organization, Person, Professional
from sharing import second_factor
from sharing.models import AccompanimentMember, Grant, Mandate, Passkey, SecondFactor
from sharing.organizations import set_audits_service, set_digital_inclusion
from web.accounts import INFORMATION_VERSION
from web.context import Services

PASSWORD = "correct horse battery"
# Hashing once keeps world building fast; every account still has a real Argon2id hash.
PASSWORD_HASH = accounts.PASSWORD_HASHER.hash(PASSWORD)
PNG = (Path(__file__).parent / "samples" / "scan.png").read_bytes()
# Every professional made here is enrolled in the second factor with this secret (stored
# sealed, as enrolment stores it), so tests compute codes: `second_factor_code`.
FACTOR_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# The keyring of the app under test (set by the `app` fixture): professionals are enrolled
# under it. Without one (no app), they are made without a factor.
_keyring: list[Keyring] = []


def use_keyring(keyring: Keyring | None) -> None:
    """The keyring new professionals' factors are sealed under (the `app` fixture's)."""
    _keyring.clear()
    if keyring is not None:
        _keyring.append(keyring)


class Clock:
    """An injectable clock: tests move time instead of waiting."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def context(
    found: Services,
    session: Session,
    actor: Actor,
    clock: actors.Clock | None = None,
    *,
    fresh_factor: bool = True,
) -> RequestContext:
    """What a service call needs: the app's collaborators, `session`, and who acts (a
    professional as if they had just typed their code, unless not `fresh_factor`)."""
    return RequestContext(
        session=session,
        session_factory=found.session_factory,
        store=found.store,
        keyring=found.keyring,
        clock=clock or found.clock,
        actor=actor,
        fresh_factor=fresh_factor,
    )


def new_organization(
    session: Session,
    clock: actors.Clock,
    name: str,
    digital_inclusion: bool = False,
    audits_service: bool = False,
) -> Organization:
    """An organisation; with `digital_inclusion`, its professionals' mandates count; with
    `audits_service`, its auditors read the whole log."""
    org = accounts.create_organization(session, clock, name)
    if digital_inclusion:
        set_digital_inclusion(session, clock, organization_id=org.id, on=True)
    if audits_service:
        set_audits_service(session, clock, organization_id=org.id, on=True)
    return org


def new_professional(
    session: Session,
    clock: actors.Clock,
    org: Organization,
    name: str,
    role: str = "professional",
    email: str | None = None,
    *,
    enrolled: bool = True,
    keyring: Keyring | None = None,
) -> Professional:
    """A professional named `name`, signing in as `email` (`name`@example.org) with PASSWORD
    and, unless not `enrolled`, a confirmed second factor of FACTOR_SECRET (sealed under
    `keyring`, by default the app's under test)."""
    pro = Professional(
        organization_id=org.id,
        email=email or f"{name}@example.org",
        display_name=name,
        password_hash=PASSWORD_HASH,
        role=role,
        created_at=clock(),
    )
    session.add(pro)
    session.flush()
    keyring = keyring or (_keyring[0] if _keyring else None)
    if enrolled and keyring is not None:
        enrol(session, keyring, clock, pro)
    return pro


def add_passkey(
    session: Session, clock: actors.Clock, pro: Professional, name: str = "Bureau"
) -> Passkey:
    """A passkey row of `pro`'s (its key is never checked: for pages and rights, not for
    signing in; tests/soft_authenticator.py makes real ones)."""
    key = Passkey(
        professional_id=pro.id,
        credential_id=secrets.token_bytes(32),
        public_key=b"\xa0",
        sign_count=0,
        transports="internal",
        name=name,
        created_at=clock(),
    )
    session.add(key)
    session.flush()
    return key


def enrol(
    session: Session,
    keyring: Keyring,
    clock: actors.Clock,
    pro: Professional,
    secret: str = FACTOR_SECRET,
) -> None:
    """`pro`'s confirmed second factor of `secret`, stored as enrolment stores it."""
    wrapped, sealed = second_factor.seal_secret(keyring, pro.id, secret)
    session.add(
        SecondFactor(
            professional_id=pro.id,
            wrapped_key=wrapped,
            secret_ciphertext=sealed,
            created_at=clock(),
            confirmed_at=clock(),
        )
    )
    session.flush()


def totp_at(step: int, secret: str = FACTOR_SECRET) -> str:
    """The app's code of one 30-second step."""
    return pyotp.TOTP(secret, interval=second_factor.STEP_SECONDS).generate_otp(step)


def current_step(clock: actors.Clock) -> int:
    """The 30-second step the app's clock is in."""
    return pyotp.TOTP(FACTOR_SECRET, interval=second_factor.STEP_SECONDS).timecode(clock())


def second_factor_code(
    sessions: Flask | sessionmaker[Session],
    professional: Professional | str,
    clock: actors.Clock | None = None,
) -> str | None:
    """A valid, unused code of `professional`'s factor (FACTOR_SECRET) at the app's time,
    or None when they have no confirmed factor.

    The product refuses a step already used; so that tests may sign the same professional
    in again and again at one test-clock time, when the current step is used already this
    moves the professional's last used step back, as if 30 seconds had passed (only tests
    do that). The code is always the current step's: with the real clock, a step that
    ends before the server reads it is still in the accepted window."""
    if isinstance(sessions, Flask):
        found = sessions.extensions["locker"]
        sessions, clock = found.session_factory, clock or found.clock
    assert clock is not None
    pro_id = professional if isinstance(professional, str) else professional.id
    with sessions() as session:
        factor = session.get(SecondFactor, pro_id)
        if factor is None or factor.confirmed_at is None:
            return None
        now = current_step(clock)
        if factor.last_step is not None and factor.last_step >= now:
            factor.last_step = now - 1
            session.commit()
        return totp_at(now)


def new_person(
    session: Session,
    keyring: Keyring,
    clock: actors.Clock,
    username: str,
    display_name: str | None = None,
) -> Person:
    """A person signing in as `username` with PASSWORD, stored (her key included) the way
    accounts.create_person stores one, without hashing the password again; she has read
    the information page already (tests/web/test_information.py covers the first visit)."""
    person = Person(
        username=username,
        display_name=display_name or username.title(),
        password_hash=PASSWORD_HASH,
        created_at=clock(),
        information_version=INFORMATION_VERSION,
    )
    return accounts.store_new_person(session, keyring, person)


def add_member(
    session: Session,
    clock: actors.Clock,
    person: Person,
    pro: Professional,
    referent: bool = False,
) -> AccompanimentMember:
    """An active member of `person`'s list, as if she had added `pro` herself."""
    member = AccompanimentMember(
        person_id=person.id,
        professional_id=pro.id,
        mission="test",
        status="active",
        referent=referent,
        created_at=clock(),
    )
    session.add(member)
    session.flush()
    return member


def add_grant(
    session: Session,
    clock: actors.Clock,
    member: AccompanimentMember,
    document_id: str | None,
    **extra: object,
) -> Grant:
    """The person's grant of one document to `member`, or of a category with `document_id`
    None and `category=` (`extra`: expiry, revocation...)."""
    grant = Grant(
        person_id=member.person_id,
        member_id=member.id,
        document_id=document_id,
        origin="person",
        created_at=clock(),
        **extra,
    )
    session.add(grant)
    session.flush()
    return grant


def add_mandate(
    session: Session,
    clock: actors.Clock,
    member: AccompanimentMember,
    scopes: str,
    expires_at: datetime | None = None,
) -> Mandate:
    """A mandate of `scopes` given to `member`, for thirty days unless `expires_at`."""
    mandate = Mandate(
        person_id=member.person_id,
        member_id=member.id,
        scopes=scopes,
        created_at=clock(),
        expires_at=expires_at or clock() + timedelta(days=30),
    )
    session.add(mandate)
    session.flush()
    return mandate


def upload(
    found: Services,
    session: Session,
    clock: actors.Clock,
    person: Person,
    title: str = "paper",
    category: str = "identity",
) -> str:
    """The id of a scan `person` uploads herself."""
    view = upload_document(
        session,
        found.store,
        found.keyring,
        clock,
        actor=Actor(kind="person", id=person.id),
        person=person,
        upload=UploadRequest(
            source=io.BytesIO(PNG),
            filename="scan.png",
            title=title,
            category=category,
            max_bytes=10_000_000,
        ),
    )
    return view.id


# Professionals of the digital-inclusion organisation (`helper_no_inclusion` is not one:
# its mandate, given all scopes, must count for nothing).
HELPERS = {"helper_upload", "helper_organise", "helper_share", "helper_view", "helper_expired"}
ACTOR_NAMES = (
    "owner",
    "referent_grant",
    "referent_nogrant",
    "intervenor_grant",
    "intervenor_expired",
    "intervenor_revoked",
    "removed_member",
    "helper_upload",
    "helper_organise",
    "helper_share",
    "helper_view",
    "helper_expired",
    "helper_no_inclusion",
    "other_person",
    "other_org_pro",
    "org_admin",
    "anonymous",
)


@dataclass
class World:
    """Alice's locker and everyone around it; `users` maps an actor name to its account."""

    alice: Person
    bob: Person
    org: Organization
    doc: str  # granted to the referent and the intervenor
    doc_plain: str  # granted to nobody
    bob_doc: str
    helper_org: Organization  # does digital inclusion; `org` does not
    users: dict[str, Person | Professional] = field(default_factory=dict)
    members: dict[str, AccompanimentMember] = field(default_factory=dict)

    def document_for(self, name: str) -> str:
        """The document an actor's column targets (the referent without a grant: the other)."""
        return self.doc_plain if name == "referent_nogrant" else self.doc


def build_world(app: Flask, clock: Clock) -> World:
    """Every kind of actor of the authorization matrix, around one person."""
    found = app.extensions["locker"]
    with found.session_factory() as session:
        org = new_organization(session, clock, "CHRS Les Lilas")
        other_org = new_organization(session, clock, "Mission locale")
        helper_org = new_organization(session, clock, "Espace numérique", digital_inclusion=True)
        alice = new_person(session, found.keyring, clock, "alice")
        bob = new_person(session, found.keyring, clock, "bob")
        session.commit()
        world = World(
            alice=alice,
            bob=bob,
            org=org,
            doc=upload(found, session, clock, alice, "Carte d'identité"),
            doc_plain=upload(found, session, clock, alice, "Avis d'imposition", "taxes"),
            bob_doc=upload(found, session, clock, bob, "Bob's paper"),
            helper_org=helper_org,
            users={"owner": alice, "other_person": bob},
        )
        pros: dict[str, Professional] = {}
        for name in ACTOR_NAMES:
            if name in {"owner", "other_person", "anonymous", "referent_nogrant"}:
                continue
            home = helper_org if name in HELPERS else other_org if name == "other_org_pro" else org
            role = "org_admin" if name == "org_admin" else "professional"
            pros[name] = new_professional(session, clock, home, name, role, keyring=found.keyring)
        pros["referent_nogrant"] = pros["referent_grant"]
        world.users.update(pros)
        m = world.members
        m["referent"] = add_member(session, clock, alice, pros["referent_grant"], referent=True)
        add_grant(session, clock, m["referent"], world.doc)
        for name in (
            "intervenor_grant",
            "intervenor_expired",
            "intervenor_revoked",
            "removed_member",
        ):
            m[name] = add_member(session, clock, alice, pros[name])
            add_grant(session, clock, m[name], world.doc)
        for name in (
            "helper_upload",
            "helper_organise",
            "helper_share",
            "helper_view",
            "helper_expired",
            "helper_no_inclusion",
        ):
            m[name] = add_member(session, clock, alice, pros[name])
            scope = name.removeprefix("helper_")
            full = scope in {"expired", "no_inclusion"}
            add_mandate(session, clock, m[name], "upload organise share view" if full else scope)
        session.commit()
        # Expiry, revocation and removal happen after the fact, as they would in life.
        soon = clock() + timedelta(hours=1)
        grants = session.query(Grant).filter(Grant.member_id == m["intervenor_expired"].id)
        for grant in grants:
            grant.expires_at = soon
        for mandate in session.query(Mandate).filter(Mandate.member_id == m["helper_expired"].id):
            mandate.expires_at = soon
        for grant in session.query(Grant).filter(Grant.member_id == m["intervenor_revoked"].id):
            grant.revoked_at = clock()
        m["removed_member"].ended_at = clock()
        session.commit()
    clock.advance(hours=2)
    return world
