"""ProConnect sign-in, the service's side: the attempts under way (single use), matching a
verified identity to exactly one professional, and the ID token kept for signing out.

A professional is let in only when the provider asserts, at the assurance level the
service asks (`acr`), a verified e-mail that is theirs AND the SIRET of their own
organisation. No account is ever created here: an operator or organisation admin creates
professionals, and the operator records each organisation's SIRET.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from locker import accounts
from locker.actors import Actor, Clock
from locker.audit import AuditEvent, append_allowed, append_event
from locker.errors import NotFound, ServiceEnded
from locker.models import AuthSession, Organization, Professional
from locker.service import closure
from sharing.decisions import Action
from sharing.errors import ProConnectRefused
from sharing.models import ProConnectAttempt, ProConnectSignIn

# How long the provider has to send the browser back.
ATTEMPT_MINUTES = 10
# What ProConnect's `amr` says when a second factor was used at the provider.
SECOND_FACTOR_AMR = "mfa"


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()


def begin_attempt(
    session: Session, clock: Clock, *, state: str, nonce: str, code_verifier: str
) -> None:
    """Keep what the callback will check; attempts left unfinished are swept here."""
    now = clock()
    session.execute(
        delete(ProConnectAttempt).where(
            ProConnectAttempt.created_at < now - timedelta(minutes=ATTEMPT_MINUTES)
        )
    )
    session.add(
        ProConnectAttempt(
            state_hash=_state_hash(state), nonce=nonce, code_verifier=code_verifier, created_at=now
        )
    )
    session.flush()


def take_attempt(session: Session, clock: Clock, state: str) -> ProConnectAttempt | None:
    """The attempt of this state, removed at once (a state works once), if still live."""
    if not state or len(state) > 256:
        return None
    found = session.get(ProConnectAttempt, _state_hash(state))
    if found is None:
        return None
    session.delete(found)
    session.flush()
    if found.created_at < clock() - timedelta(minutes=ATTEMPT_MINUTES):
        return None
    return found


def refuse(
    session: Session, clock: Clock, reason: str, professional: Professional | None = None
) -> ProConnectRefused:
    """Record a refused ProConnect sign-in (naming the professional when one was found)
    and give the error to raise; the caller commits the record."""
    actor = accounts.actor_for(professional) if professional else Actor.anonymous()
    append_event(
        session, clock, AuditEvent("session:sign_in", "denied", f"proconnect:{reason}", actor)
    )
    return ProConnectRefused(reason, reason=reason)


def _professional(
    session: Session, clock: Clock, userinfo: Mapping[str, Any], sub: str
) -> Professional:
    """The one professional this verified identity is: their e-mail, in the organisation
    of the asserted SIRET, active, and not linked to another ProConnect account."""
    email, siret = userinfo.get("email"), userinfo.get("siret")
    if userinfo.get("email_verified") is not True or not isinstance(email, str):
        raise refuse(session, clock, "unverified_email")
    org = session.scalar(select(Organization).where(Organization.siret == siret))
    if not isinstance(siret, str) or org is None:
        raise refuse(session, clock, "unknown_organisation")
    found = session.scalar(select(Professional).where(Professional.email == email.strip().lower()))
    if found is None:
        raise refuse(session, clock, "unknown_email")
    if found.organization_id != org.id:
        raise refuse(session, clock, "other_organisation", found)
    if found.disabled_at is not None:
        raise refuse(session, clock, "deactivated", found)
    if found.proconnect_sub is None:
        found.proconnect_sub = sub
    elif found.proconnect_sub != sub:
        raise refuse(session, clock, "other_account", found)
    return found


def sign_in_with_proconnect(
    session: Session,
    clock: Clock,
    *,
    claims: Mapping[str, Any],
    userinfo: Mapping[str, Any],
    id_token: str,
    acr_values: Sequence[str],
    hours: int,
) -> tuple[str, accounts.SignedIn]:
    """Open a browser session for the professional this verified ProConnect identity is,
    or raise ProConnectRefused (recorded). A second factor used at the provider (`amr`
    holds "mfa") is this sign-in's second factor; otherwise the session waits for the
    TOTP code, as after a password. The caller commits."""
    announced = closure(session)
    if announced is not None and announced.over(clock()):
        raise ServiceEnded("the export window after closure is over")
    if claims.get("acr") not in acr_values:
        raise refuse(session, clock, "weak_acr")
    professional = _professional(session, clock, userinfo, str(claims["sub"]))
    amr = claims.get("amr")
    mfa = isinstance(amr, list) and SECOND_FACTOR_AMR in amr
    token = accounts.start_session(
        session, clock, professional, "web", hours, second_factor_at=clock() if mfa else None
    )
    reason = "proconnect_mfa" if mfa else "proconnect"
    append_allowed(session, clock, "session:sign_in", reason, accounts.actor_for(professional))
    signed_in = accounts.resolve_session(session, clock, token, "web")
    assert signed_in is not None
    _forget_ended_sign_ins(session, clock)
    session.add(
        ProConnectSignIn(
            token_hash=signed_in.auth_session.token_hash, id_token=id_token, created_at=clock()
        )
    )
    session.flush()
    return token, signed_in


def _forget_ended_sign_ins(session: Session, clock: Clock) -> None:
    """ID tokens serve only to sign a live session out at the provider: those of sessions
    ended otherwise (idle, expired, ended everywhere) go with each new sign-in."""
    live = exists().where(
        AuthSession.token_hash == ProConnectSignIn.token_hash,
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > clock(),
    )
    session.execute(delete(ProConnectSignIn).where(~live))


def take_id_token(session: Session, signed_in: accounts.SignedIn) -> str | None:
    """The ID token of a sign-in made through ProConnect (None for a password's), removed:
    signing out at the provider is started once."""
    found = session.get(ProConnectSignIn, signed_in.auth_session.token_hash)
    if found is None:
        return None
    session.delete(found)
    session.flush()
    return found.id_token


def unlink_proconnect(session: Session, clock: Clock, professional_id: str) -> None:
    """The operator's act when a professional's ProConnect account changed: the link to the
    old one removed (the next ProConnect sign-in links the new one), every sign-in of theirs
    ended; recorded; the caller commits."""
    professional = session.get(Professional, professional_id) if professional_id else None
    if professional is None:
        raise NotFound("professional")
    professional.proconnect_sub = None
    accounts.end_all_sessions(session, clock, professional)
    append_allowed(
        session, clock, Action.PROCONNECT_UNLINK, f"professional:{professional_id}", Actor.system()
    )
    session.flush()
