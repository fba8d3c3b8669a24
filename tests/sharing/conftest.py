"""A sharing world: one person's list with every kind of actor, and a clock tests move."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from locker import accounts
from locker.accounts import PASSWORD_HASHER
from locker.actors import Actor
from locker.documents import UploadRequest, upload_document
from locker.models import Organization, Person, Professional
from sharing.models import AccompanimentMember, Grant, Mandate
from sharing.organizations import set_digital_inclusion
from tests.conftest import PASSWORD, Clock, sample

PNG = sample("scan.png")
# Hashing once keeps world building fast; every account still has a real Argon2id hash.
_HASH = PASSWORD_HASHER.hash(PASSWORD)


def new_professional(
    session: Session, clock: Clock, org: Organization, name: str, role: str = "professional"
) -> Professional:
    """A professional row with a real password hash (computed once for the suite)."""
    pro = Professional(
        organization_id=org.id,
        email=f"{name}@example.org",
        display_name=name,
        password_hash=_HASH,
        role=role,
        created_at=clock(),
    )
    session.add(pro)
    session.flush()
    return pro


def new_person(session: Session, app: Flask, clock: Clock, username: str) -> Person:
    keyring = app.extensions["locker"].keyring
    person = accounts.create_person(
        session,
        keyring,
        clock,
        username=username,
        display_name=username.title(),
        password=PASSWORD,
    )
    person.password_hash = _HASH
    return person


def add_member(
    session: Session, clock: Clock, person: Person, pro: Professional, referent: bool = False
) -> AccompanimentMember:
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
    session: Session, clock: Clock, member: AccompanimentMember, document_id: str, **extra: object
) -> Grant:
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
    clock: Clock,
    member: AccompanimentMember,
    scopes: str,
    expires_at: datetime | None = None,
) -> Mandate:
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
    app: Flask,
    session: Session,
    clock: Clock,
    person: Person,
    title: str = "paper",
    category: str = "identity",
) -> str:
    found = app.extensions["locker"]
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
        org = accounts.create_organization(session, clock, "CHRS Les Lilas")
        other_org = accounts.create_organization(session, clock, "Mission locale")
        helper_org = accounts.create_organization(session, clock, "Espace numérique")
        set_digital_inclusion(session, clock, organization_id=helper_org.id, on=True)
        alice = new_person(session, app, clock, "alice")
        bob = new_person(session, app, clock, "bob")
        session.commit()
        doc = upload(app, session, clock, alice, "Carte d'identité")
        doc_plain = upload(app, session, clock, alice, "Avis d'imposition", "taxes")
        bob_doc = upload(app, session, clock, bob, "Bob's paper")
        world = World(
            alice=alice,
            bob=bob,
            org=org,
            doc=doc,
            doc_plain=doc_plain,
            bob_doc=bob_doc,
            helper_org=helper_org,
        )
        world.users["owner"] = alice
        world.users["other_person"] = bob
        pros = {
            name: new_professional(session, clock, helper_org if name in HELPERS else org, name)
            for name in ACTOR_NAMES
            if name
            not in {
                "owner",
                "other_person",
                "anonymous",
                "org_admin",
                "other_org_pro",
                "referent_nogrant",
            }
        }
        pros["other_org_pro"] = new_professional(session, clock, other_org, "other_org_pro")
        pros["org_admin"] = new_professional(session, clock, org, "org_admin", role="org_admin")
        pros["referent_nogrant"] = pros["referent_grant"]
        world.users.update(pros)
        m = world.members
        m["referent"] = add_member(session, clock, alice, pros["referent_grant"], referent=True)
        add_grant(session, clock, m["referent"], doc)
        for name in (
            "intervenor_grant",
            "intervenor_expired",
            "intervenor_revoked",
            "removed_member",
        ):
            m[name] = add_member(session, clock, alice, pros[name])
            add_grant(session, clock, m[name], doc)
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
