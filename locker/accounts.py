"""Accounts: organisations, professionals, persons, passwords and revocable sign-ins."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crypto.errors import KeyNotFound
from crypto.keyring import Keyring
from crypto.keys import decrypt_field, encrypt_field, generate_key
from locker.actors import Actor, Clock
from locker.audit import AuditEvent, append_allowed, append_event
from locker.errors import AlreadyExists, InvalidInput, ServiceEnded, WrongCurrentPassword
from locker.models import AuthSession, Organization, Person, Professional
from locker.service import closure

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
MAX_NAME = 200

# One hasher for the whole service: Argon2id with argon2-cffi's RFC 9106 "low memory" profile.
PASSWORD_HASHER = PasswordHasher()
# Verified against when the account does not exist, so both answers cost the same time.
# Written out rather than hashed at import (0.1 s in every process, CLI included), and
# hashed anew only if the hasher's parameters ever change, so its cost always matches.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$RIx+gNbDlSv4gBaJcEjt5A$"
    "zdd7yqD+bNQopE9sDDWAwy6cYpi7Cebvb2MLhb02dxo"
)
if PASSWORD_HASHER.check_needs_rehash(_DUMMY_HASH):
    _DUMMY_HASH = PASSWORD_HASHER.hash("not-a-real-password-but-the-same-cost")


User = Person | Professional


@dataclass(frozen=True)
class SignedIn:
    """A resolved sign-in: the user and the server-side session row behind the token."""

    user: User
    auth_session: AuthSession


def person_key_aad(person_id: str) -> bytes:
    """Associated data binding a wrapped person key to its person."""
    return f"locker/person-key/v1:{person_id}".encode()


# A person key sealed under the person's erasure key, over the master key's wrap (a key
# stored before erasure keys is the master key's wrap alone: its first byte is 0).
ERASABLE = b"\xfeE1"


def _erasure_aad(person_id: str) -> bytes:
    return f"locker/person-key-erasure/v1:{person_id}".encode()


def seal_person_key(keyring: Keyring, person_id: str, master_wrapped: bytes) -> bytes:
    """The master key's wrap of a person key, sealed again under the person's erasure key
    (made now if they have none): what `persons.wrapped_person_key` stores."""
    erasure = keyring.erasure_keys()
    try:
        key = erasure.get(person_id)
    except KeyNotFound:
        key = erasure.create(person_id)
    return ERASABLE + encrypt_field(key, master_wrapped, _erasure_aad(person_id))


def master_wrapped(keyring: Keyring, person: Person) -> bytes:
    """The master key's wrap of the person's key, out of its erasure seal: KeyNotFound once
    the account is closed, whatever copy of the row (a backup's) is read."""
    stored = person.wrapped_person_key
    if not stored.startswith(ERASABLE):
        return stored
    key = keyring.erasure_keys().get(person.id)
    return decrypt_field(key, stored[len(ERASABLE) :], _erasure_aad(person.id))


def person_key(keyring: Keyring, person: Person) -> bytes:
    """The person's key, out of its erasure seal and the master key's wrap (a closed
    account has none)."""
    return keyring.unwrap(master_wrapped(keyring, person), person_key_aad(person.id))


def actor_for(user: User) -> Actor:
    """The policy's view of a signed-in user."""
    if isinstance(user, Person):
        return Actor(kind="person", id=user.id)
    return Actor(
        kind="professional", id=user.id, organization_id=user.organization_id, role=user.role
    )


def _own_id(actor: Actor) -> str | None:
    """The person a user's own act is about: themself, or nobody for a professional."""
    return actor.id if actor.kind == "person" else None


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput("password length", field="password", minimum=MIN_PASSWORD)


def _check_name(value: str, field: str) -> str:
    value = " ".join(value.split())
    if not value or len(value) > MAX_NAME:
        raise InvalidInput(f"{field} empty or too long", field=field)
    return value


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive and trimmed."""
    return username.strip().lower()


def create_organization(session: Session, clock: Clock, name: str) -> Organization:
    """A new organisation (a CHRS, a day centre, a CAF office...)."""
    org = Organization(name=_check_name(name, "name"), created_at=clock())
    session.add(org)
    session.flush()
    return org


def create_professional(
    session: Session,
    clock: Clock,
    *,
    organization_id: str,
    email: str,
    display_name: str,
    password: str,
    role: str = "professional",
) -> Professional:
    """A professional account in an existing organisation; e-mail unique, case-insensitive."""
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise InvalidInput("e-mail address", field="email")
    if role not in {"professional", "org_admin", "auditor"}:
        raise InvalidInput("role", field="role")
    if session.get(Organization, organization_id) is None:
        raise InvalidInput("no such organisation", field="organization_id")
    _check_password(password)
    if session.scalar(select(Professional.id).where(Professional.email == email)):
        raise AlreadyExists("email", field="email")
    pro = Professional(
        organization_id=organization_id,
        email=email,
        display_name=_check_name(display_name, "display_name"),
        password_hash=PASSWORD_HASHER.hash(password),
        role=role,
        created_at=clock(),
    )
    session.add(pro)
    session.flush()
    return pro


def create_person(
    session: Session,
    keyring: Keyring,
    clock: Clock,
    *,
    username: str,
    display_name: str,
    password: str,
    created_by: str | None = None,
    must_change_password: bool = False,
) -> Person:
    """A person's account with a fresh person key wrapped by the current master key.

    `must_change_password` when someone else chose the password: it then opens nothing
    but the change to the person's own.
    """
    username = normalise_username(username)
    if not USERNAME_RE.match(username):
        raise InvalidInput("username", field="username")
    _check_password(password)
    if session.scalar(select(Person.id).where(Person.username == username)):
        raise AlreadyExists("username", field="username")
    person = Person(
        username=username,
        display_name=_check_name(display_name, "display_name"),
        password_hash=PASSWORD_HASHER.hash(password),
        created_by_professional_id=created_by,
        must_change_password=must_change_password,
        created_at=clock(),
    )
    return store_new_person(session, keyring, person)


def correct_account(
    session: Session,
    user: User,
    *,
    display_name: str | None = None,
    username: str | None = None,
) -> bool:
    """The user's own name (anyone) or username (a person) corrected; whether anything
    changed. The caller records it and commits."""
    changed = False
    if display_name is not None:
        name = _check_name(display_name, "display_name")
        changed, user.display_name = name != user.display_name, name
    if username is not None:
        if not isinstance(user, Person):
            raise InvalidInput("professionals sign in with their e-mail", field="username")
        wanted = normalise_username(username)
        if wanted != user.username:
            if not USERNAME_RE.match(wanted):
                raise InvalidInput("username", field="username")
            taken = session.scalar(select(Person.id).where(Person.username == wanted))
            if taken:
                raise AlreadyExists("username", field="username")
            user.username, changed = wanted, True
    session.flush()
    return changed


def check_current_password(user: User, password: str) -> None:
    """The user's own password, typed again before an act that cannot be undone by
    someone holding only their session; WrongCurrentPassword otherwise."""
    try:
        PASSWORD_HASHER.verify(user.password_hash, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        raise WrongCurrentPassword("current_password", field="current_password") from None


def accept_information(session: Session, clock: Clock, person: Person, version: str) -> None:
    """The person has read the information page of this version and accepts it before
    using the locker; recorded (the log keeps which version, and when); caller commits."""
    if person.information_version == version:
        return
    person.information_version, person.information_accepted_at = version, clock()
    append_allowed(
        session, clock, "information:accept", version, actor_for(person), person_id=person.id
    )


def store_new_person(session: Session, keyring: Keyring, person: Person) -> Person:
    """Store a new person's row with a fresh person key, wrapped by the current master key,
    sealed under a new erasure key, and bound to the row's id."""
    person.wrapped_person_key = b""
    session.add(person)
    session.flush()  # assigns the id the wrapped key is bound to
    wrapped = keyring.wrap(generate_key(), person_key_aad(person.id))
    person.wrapped_person_key = seal_person_key(keyring, person.id, wrapped)
    session.flush()
    return person


def authenticate(
    session: Session, *, username: str | None = None, email: str | None = None, password: str
) -> User | None:
    """The user whose credentials these are, or None; same work whichever part was wrong."""
    user: User | None = None
    if username is not None:
        user = session.scalar(select(Person).where(Person.username == normalise_username(username)))
    elif email is not None:
        user = session.scalar(
            select(Professional).where(Professional.email == email.strip().lower())
        )
    password = password[:MAX_PASSWORD]
    stored = user.password_hash if user is not None else _DUMMY_HASH
    try:
        PASSWORD_HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if isinstance(user, Professional) and user.disabled_at is not None:
        return None
    if PASSWORD_HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = PASSWORD_HASHER.hash(password)
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(
    session: Session,
    clock: Clock,
    user: User,
    channel: str,
    hours: int,
    *,
    second_factor_at: datetime | None = None,
) -> str:
    """A new random sign-in token (never reused) whose hash only is stored; a
    professional's opens nothing but the second factor's pages until `second_factor_at`
    is set (here, when the factor came with the password, or later)."""
    token = secrets.token_urlsafe(32)
    now = clock()
    session.add(
        AuthSession(
            token_hash=_hash_token(token),
            channel=channel,
            user_kind=actor_for(user).kind,
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
            second_factor_at=second_factor_at,
        )
    )
    session.flush()
    return token


def resolve_session(
    session: Session,
    clock: Clock,
    token: str,
    channel: str,
    idle: Mapping[str, timedelta] | None = None,
) -> SignedIn | None:
    """The live sign-in behind a token, or None if unknown, expired, revoked or disabled.

    With `idle` (per user kind), a sign-in unused for longer is ended for good, and one in
    use has its last activity moved forward (at most once a minute: one write, not one a
    request); the caller commits.
    """
    if not token or len(token) > 128:
        return None
    row = session.get(AuthSession, _hash_token(token))
    if row is None or row.channel != channel or row.revoked_at is not None:
        return None
    now = clock()
    if row.expires_at <= now:
        return None
    if idle is not None and row.user_kind in idle:
        seen = row.last_seen_at or row.created_at
        if now - seen >= idle[row.user_kind]:
            row.revoked_at = now
            session.flush()
            return None
        if now - seen >= timedelta(minutes=1):
            row.last_seen_at = now
            session.flush()
    user: User | None
    if row.user_kind == "person":
        user = session.get(Person, row.user_id)
    else:
        user = session.get(Professional, row.user_id)
        if user is not None and user.disabled_at is not None:
            return None
    if user is None:
        return None
    return SignedIn(user=user, auth_session=row)


def end_session(session: Session, clock: Clock, token: str) -> bool:
    """Revoke one sign-in; a replayed token or cookie is refused from now on."""
    row = session.get(AuthSession, _hash_token(token))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = clock()
    session.flush()
    return True


def end_all_sessions(
    session: Session, clock: Clock, user: User, *, keep: AuthSession | None = None
) -> None:
    """Revoke every sign-in of a user (after a password change or reset), but `keep`."""
    query = update(AuthSession).where(
        AuthSession.user_kind == actor_for(user).kind,
        AuthSession.user_id == user.id,
        AuthSession.revoked_at.is_(None),
    )
    if keep is not None:
        query = query.where(AuthSession.token_hash != keep.token_hash)
    session.execute(query.values(revoked_at=clock()))


def sign_in(
    session: Session,
    clock: Clock,
    *,
    identifier: str,
    password: str,
    channel: str,
    hours: int,
    professional_hours: int | None = None,
    second_factor: Callable[[Professional], bool | None] | None = None,
) -> tuple[str, SignedIn] | None:
    """Check credentials and open a new session; success and failure both go on the log.

    An identifier with "@" is a professional's e-mail, anything else a person's username.
    A professional's session lasts `professional_hours` at most (an absolute limit). With
    `second_factor`, a professional's factor is checked after the password: True passes it
    (the session opens everything), False refuses the sign-in, None (no factor yet) opens
    a session for the enrolment only; without it, the session waits for the factor.
    The caller commits (a failed attempt's record too).
    """
    announced = closure(session)
    if announced is not None and announced.over(clock()):
        raise ServiceEnded("the export window after closure is over")
    if "@" in identifier:
        user = authenticate(session, email=identifier, password=password)
    else:
        user = authenticate(session, username=identifier, password=password)
    if user is None:
        target = None
        if "@" not in identifier:
            # The person sees attempts on their account in their own access log.
            target = session.scalar(
                select(Person.id).where(Person.username == normalise_username(identifier))
            )
        refused = AuditEvent(
            "session:sign_in", "denied", "bad_credentials", Actor.anonymous(), target
        )
        append_event(session, clock, refused)
        return None
    factor_at = None
    if isinstance(user, Professional):
        if professional_hours is not None:
            hours = min(hours, professional_hours)
        passed = second_factor(user) if second_factor is not None else None
        if passed is False:
            refused = AuditEvent(
                "session:sign_in", "denied", "second_factor", actor_for(user), None
            )
            append_event(session, clock, refused)
            return None
        factor_at = clock() if passed else None
    token = start_session(session, clock, user, channel, hours, second_factor_at=factor_at)
    actor = actor_for(user)
    append_allowed(session, clock, "session:sign_in", channel, actor, person_id=_own_id(actor))
    signed_in = resolve_session(session, clock, token, channel)
    assert signed_in is not None
    return token, signed_in


def sign_out(
    session: Session, clock: Clock, token: str, actor: Actor, *, everywhere: User | None = None
) -> None:
    """End one session (or, `everywhere`, every session and token of that user: a phone left
    signed in somewhere) and record it; the caller commits."""
    if everywhere is not None:
        end_all_sessions(session, clock, everywhere)
    elif not end_session(session, clock, token):
        return
    action = "session:sign_out_everywhere" if everywhere else "session:sign_out"
    append_allowed(session, clock, action, "user", actor, person_id=_own_id(actor))


def remember_language(session: Session, user: User, language: str) -> None:
    """Keep the interface language a user chose, for their next sign-in on any device."""
    user.language = language
    session.flush()


def set_password(session: Session, clock: Clock, user: User, password: str) -> None:
    """Replace a password and end every session and token of that user."""
    _check_password(password)
    user.password_hash = PASSWORD_HASHER.hash(password)
    end_all_sessions(session, clock, user)
    session.flush()


def change_own_password(
    session: Session,
    clock: Clock,
    signed_in: SignedIn,
    *,
    current_password: str,
    new_password: str,
) -> None:
    """The user replaces their password, typing the current one; every other sign-in ends.

    The sign-in it is done from stays open (the user is in front of it); a stolen cookie
    or token elsewhere stops working. Recorded; the caller commits.
    """
    user = signed_in.user
    check_current_password(user, current_password)
    _check_password(new_password)
    if new_password == current_password:
        # The old password must stop working: the one someone else chose or saw.
        raise InvalidInput("new password is the old one", field="new_password")
    user.password_hash = PASSWORD_HASHER.hash(new_password)
    if isinstance(user, Person):
        user.must_change_password = False
    end_all_sessions(session, clock, user, keep=signed_in.auth_session)
    actor = actor_for(user)
    append_allowed(session, clock, "account:password", "own", actor, person_id=_own_id(actor))
    session.flush()
