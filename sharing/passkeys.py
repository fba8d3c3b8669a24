"""Professionals' passkeys (WebAuthn, through py_webauthn): another way to pass the second
factor, beside the TOTP code, which stays mandatory (a passkey is added once TOTP is on).

Why it works so:

- **The protocol is py_webauthn's.** Options are made and answers verified by it; nothing
  here parses authenticator data or checks a signature by hand.
- **A challenge is used once, for a short time, by the sign-in that asked for it.** It is
  kept on the server beside the sign-in (`PasskeyChallenge`), never in the cookie: a
  replayed answer, an old cookie or another process finds nothing to match.
- **The user is verified** (PIN or biometrics on the authenticator): a passkey stands for a
  second factor, so mere presence is not enough.
- **A cloned authenticator is refused**: a signature count that does not go forward (when
  the authenticator counts at all) is refused and recorded as such.
- **Only one's own passkeys**: an answer signed by another professional's credential is
  refused like a wrong one.
- **Adding and removing one are recorded**, like the TOTP events; removing asks for a
  fresh factor (a stolen session must not strip its victim's keys unseen).

The relying party (the site's name the browser binds a passkey to) comes from settings, or
from the request's own host: `RelyingParty`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from locker import accounts
from locker.accounts import actor_for
from locker.actors import Clock
from locker.audit import AuditEvent, append_allowed, append_event
from locker.context import RequestContext
from locker.errors import NotFound
from locker.models import Professional
from sharing import second_factor
from sharing.decisions import Action
from sharing.errors import BadPasskey, FreshFactorRequired, NoEnrolment
from sharing.models import Passkey, PasskeyChallenge

log = logging.getLogger(__name__)

CHALLENGE_MINUTES = 5
TIMEOUT_MS = 120_000  # what the browser is told; the server's own limit is the one above
MAX_PASSKEYS = 10
NAME_LENGTH = 100
RP_NAME = "Coffre-fort numérique"
REGISTER, USE = "register", "use"
# What a browser's answer may weigh (an attestation with a certificate chain is a few KB).
MAX_ANSWER = 64 * 1024


@dataclass(frozen=True)
class RelyingParty:
    """The site a passkey is bound to: its id (a host name) and the origin pages run on."""

    id: str
    origin: str


@dataclass(frozen=True)
class PasskeyView:
    """What the settings page and the API show of a passkey."""

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


def _professional(user: accounts.User) -> Professional:
    return second_factor.professional_only(user, "only professionals have passkeys")


def passkeys_of(session: Session, professional_id: str) -> list[Passkey]:
    """The professional's passkeys, oldest first."""
    query = select(Passkey).where(Passkey.professional_id == professional_id)
    return list(session.scalars(query.order_by(Passkey.created_at, Passkey.id)))


def described(session: Session, user: accounts.User) -> list[PasskeyView]:
    """The signed-in professional's passkeys as shown to them (a person: AccessDenied)."""
    professional = _professional(user)
    return [
        PasskeyView(key.id, key.name, key.created_at, key.last_used_at)
        for key in passkeys_of(session, professional.id)
    ]


def has_passkey(session: Session, user: accounts.User) -> bool:
    """Whether `user` is a professional with at least one passkey."""
    if not isinstance(user, Professional):
        return False
    query = select(Passkey.id).where(Passkey.professional_id == user.id).limit(1)
    return session.scalar(query) is not None


def _descriptor(key: Passkey) -> PublicKeyCredentialDescriptor:
    known = {t.value for t in AuthenticatorTransport}
    transports = [AuthenticatorTransport(t) for t in key.transports.split(",") if t in known]
    return PublicKeyCredentialDescriptor(id=key.credential_id, transports=transports or None)


def _keep_challenge(
    session: Session, clock: Clock, signed_in: accounts.SignedIn, purpose: str, challenge: bytes
) -> None:
    """The sign-in's one pending challenge (an earlier one, unused, is forgotten)."""
    token_hash = signed_in.auth_session.token_hash
    row = session.get(PasskeyChallenge, token_hash)
    if row is None:
        row = PasskeyChallenge(token_hash=token_hash)
        session.add(row)
    row.purpose, row.challenge = purpose, challenge
    row.expires_at = clock() + timedelta(minutes=CHALLENGE_MINUTES)
    session.flush()


def _take_challenge(
    session: Session, clock: Clock, signed_in: accounts.SignedIn, purpose: str
) -> bytes | None:
    """The sign-in's pending challenge for `purpose`, used up now (whatever the answer)."""
    row = session.get(PasskeyChallenge, signed_in.auth_session.token_hash)
    if row is None:
        return None
    session.delete(row)
    session.flush()
    if row.purpose != purpose or row.expires_at <= clock():
        return None
    return row.challenge


def _answer(credential: str) -> dict[str, Any] | None:
    """The browser's answer as a JSON object, or None (too big, not JSON, not an object)."""
    if not credential or len(credential) > MAX_ANSWER:
        return None
    try:
        parsed = json.loads(credential)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _may_add(session: Session, signed_in: accounts.SignedIn, fresh: bool) -> Professional:
    professional = _professional(signed_in.user)
    if not second_factor.is_enrolled(session, professional):
        raise NoEnrolment("totp first")
    if not fresh:
        # A stolen session alone must not plant a lasting factor of the thief's.
        raise FreshFactorRequired(Action.SECOND_FACTOR_PASSKEY_ADD)
    return professional


def registration_options(
    session: Session,
    clock: Clock,
    signed_in: accounts.SignedIn,
    rp: RelyingParty,
    *,
    fresh: bool,
) -> str:
    """The options (JSON) for `navigator.credentials.create()`: user verification required,
    the professional's passkeys excluded; the challenge kept for this sign-in. A person:
    AccessDenied; a professional without TOTP: NoEnrolment (a passkey comes in addition);
    a factor passed too long ago (not `fresh`): FreshFactorRequired."""
    professional = _may_add(session, signed_in, fresh)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=RP_NAME,
        user_name=professional.email,
        # The user handle: the account's id, no name or address.
        user_id=professional.id.encode(),
        user_display_name=professional.display_name,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(key) for key in passkeys_of(session, professional.id)],
    )
    _keep_challenge(session, clock, signed_in, REGISTER, options.challenge)
    return options_to_json(options)


def _refuse(
    session: Session, clock: Clock, professional: Professional, action: Action, reason: str
) -> BadPasskey:
    append_event(session, clock, AuditEvent(action, "denied", reason, actor_for(professional)))
    return BadPasskey(reason)


def add_passkey(
    session: Session,
    clock: Clock,
    signed_in: accounts.SignedIn,
    rp: RelyingParty,
    credential: str,
    name: str,
    *,
    fresh: bool,
) -> Passkey:
    """The browser's answer to the registration options, verified (this sign-in's challenge,
    this site, a verified user) and stored under `name`; recorded. BadPasskey (recorded)
    when it does not hold; the caller commits either way. FreshFactorRequired as for the
    options."""
    professional = _may_add(session, signed_in, fresh)
    action = Action.SECOND_FACTOR_PASSKEY_ADD
    challenge = _take_challenge(session, clock, signed_in, REGISTER)
    answer = _answer(credential)
    if challenge is None or answer is None:
        raise _refuse(session, clock, professional, action, "no_challenge")
    if len(passkeys_of(session, professional.id)) >= MAX_PASSKEYS:
        raise _refuse(session, clock, professional, action, "too_many_passkeys")
    try:
        verified = verify_registration_response(
            credential=answer,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise _refuse(session, clock, professional, action, "invalid_registration") from None
    taken = select(Passkey.id).where(Passkey.credential_id == verified.credential_id)
    if session.scalar(taken) is not None:
        raise _refuse(session, clock, professional, action, "credential_taken")
    said = answer.get("response")
    transports = said.get("transports") if isinstance(said, dict) else None
    known = {t.value for t in AuthenticatorTransport}
    transports = (
        [t for t in transports if isinstance(t, str)] if isinstance(transports, list) else []
    )
    key = Passkey(
        professional_id=professional.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=",".join(t for t in transports if t in known)[:200],
        name=" ".join(name.split())[:NAME_LENGTH] or "Clé d'accès",
        created_at=clock(),
    )
    session.add(key)
    session.flush()
    append_allowed(session, clock, action, f"passkey:{key.id}", actor_for(professional))
    return key


def authentication_options(
    session: Session, clock: Clock, signed_in: accounts.SignedIn, rp: RelyingParty
) -> str:
    """The options (JSON) for `navigator.credentials.get()`, offering the professional's own
    passkeys, user verification required; the challenge kept for this sign-in. NotFound
    when they have none."""
    professional = _professional(signed_in.user)
    keys = passkeys_of(session, professional.id)
    if not keys:
        raise NotFound("passkey")
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=TIMEOUT_MS,
        allow_credentials=[_descriptor(key) for key in keys],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _keep_challenge(session, clock, signed_in, USE, options.challenge)
    return options_to_json(options)


def _own_key(session: Session, professional: Professional, answer: dict[str, Any]) -> Passkey:
    raw_id = answer.get("rawId") or answer.get("id")
    if not isinstance(raw_id, str) or len(raw_id) > 2048:
        raise ValueError("no credential id")
    found = session.scalar(
        select(Passkey).where(
            Passkey.credential_id == base64url_to_bytes(raw_id),
            Passkey.professional_id == professional.id,
        )
    )
    if found is None:
        raise ValueError("not one of theirs")
    return found


def use_passkey(
    session: Session, clock: Clock, signed_in: accounts.SignedIn, rp: RelyingParty, credential: str
) -> None:
    """The browser's answer to the authentication options, verified against one of the
    professional's own passkeys: this sign-in has passed its second factor now (after the
    password, or again before a sensitive act); recorded. BadPasskey (recorded) otherwise,
    a count gone back as `sign_count_regression`; the caller commits either way."""
    professional = _professional(signed_in.user)
    action = Action.SECOND_FACTOR_USE
    challenge = _take_challenge(session, clock, signed_in, USE)
    answer = _answer(credential)
    if challenge is None or answer is None:
        raise _refuse(session, clock, professional, action, "passkey_no_challenge")
    try:
        key = _own_key(session, professional, answer)
        # Counted below (a regression is said as such, after the signature holds).
        verified = verify_authentication_response(
            credential=answer,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=key.public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise _refuse(session, clock, professional, action, "passkey_invalid") from None
    counted = verified.new_sign_count > 0 or key.sign_count > 0
    if counted and verified.new_sign_count <= key.sign_count:
        # Two authenticators answering for one credential: a copy exists somewhere.
        log.warning(
            "passkey %s of professional %s: sign count went back (%d after %d)",
            key.id,
            professional.id,
            verified.new_sign_count,
            key.sign_count,
        )
        raise _refuse(session, clock, professional, action, "sign_count_regression")
    key.sign_count, key.last_used_at = verified.new_sign_count, clock()
    append_allowed(session, clock, action, "passkey", actor_for(professional))
    second_factor.pass_factor(session, clock, signed_in)


def remove_passkey(ctx: RequestContext, signed_in: accounts.SignedIn, passkey_id: str) -> None:
    """One of the professional's own passkeys removed (someone else's, or none: NotFound),
    after a fresh factor (FreshFactorRequired, recorded, otherwise); recorded; the caller
    commits."""
    professional = _professional(signed_in.user)
    key = ctx.session.get(Passkey, passkey_id) if len(passkey_id) == 36 else None
    if key is None or key.professional_id != professional.id:
        raise NotFound("passkey")
    action = Action.SECOND_FACTOR_PASSKEY_REMOVE
    if not ctx.fresh_factor:
        ctx.record_denied(action, "stale_second_factor")
        raise FreshFactorRequired(action)
    ctx.session.delete(key)
    ctx.session.flush()
    append_allowed(ctx.session, ctx.clock, action, f"passkey:{passkey_id}", actor_for(professional))
