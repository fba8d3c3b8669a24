"""Sharing models: the accompaniment list, grants, mandates (tables of `sharing/`).

Rows are never cached: the access policy reads them on every request, so a removal, a
revocation or an expiry takes effect at once, for sessions and tokens already open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from locker.models import Base, new_id


class OrganizationProfile(Base):
    """What sharing needs to know of an organisation: whether it does digital inclusion,
    and whether it audits the service.

    Only professionals of a digital-inclusion organisation may be given, or act under, a
    mandate; only those of the organisation auditing the service act as auditors (the
    whole log's metadata, every person's). No row means no to both: the operator says.
    """

    __tablename__ = "organization_profiles"

    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    digital_inclusion: Mapped[bool] = mapped_column(Boolean, default=False)
    audits_service: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime]


class ShareCode(Base):
    """A professional's short code, given to a person who adds them to their list."""

    __tablename__ = "share_codes"

    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime]


class AccompanimentMember(Base):
    """One entry of a person's accompaniment list (liste d'accompagnement)."""

    __tablename__ = "accompaniment_members"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), index=True)
    mission: Mapped[str] = mapped_column(String(200))
    # "requested" (a professional asked; the person has not accepted yet) or "active".
    status: Mapped[str] = mapped_column(String(12))
    referent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Grant(Base):
    """A person's permission for one member on one document, or on a whole category."""

    __tablename__ = "grants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("accompaniment_members.id"), index=True)
    # Exactly one of the two: a document, or a category (which covers later papers too).
    document_id: Mapped[str | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str | None] = mapped_column(String(32))
    # "person", "mandate" (created by a helper) or "deposit" (the depositor's own grant).
    origin: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # When the end date's passing was written to the audit log (once per grant).
    expiry_recorded_at: Mapped[datetime | None] = mapped_column(default=None)


class Mandate(Base):
    """A helper's scoped, dated, revocable delegation from a person."""

    __tablename__ = "mandates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("accompaniment_members.id"), index=True)
    # Space-separated among sharing.rights.SCOPES (upload, organise, share, view, recovery, export).
    scopes: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """A hashed recovery code: one-time (issued face to face) or from a printed card."""

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "issued" (face to face, 15 minutes), "card" (printed by the person) or "initial" (the
    # card printed at account creation: its issuer saw it, so it counts as issued by them).
    kind: Mapped[str] = mapped_column(String(8))
    issued_by_id: Mapped[str | None] = mapped_column(ForeignKey("professionals.id"))
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    # Set when the person has read "your password was reset by ... of ... on ...".
    notice_seen_at: Mapped[datetime | None]
    # Set when the person said "Ce n'était pas moi" about the reset made with this code:
    # the issuer may never issue a code for this person again.
    disputed_at: Mapped[datetime | None] = mapped_column(default=None)


class SharingNotice(Base):
    """Something the person is told on their next page: a member deposited a paper."""

    __tablename__ = "sharing_notices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    kind: Mapped[str] = mapped_column(String(16))  # "deposit"
    member_id: Mapped[str] = mapped_column(ForeignKey("accompaniment_members.id"))
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    seen_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_sharing_notices_person_seen", "person_id", "seen_at"),)


class CounterLink(Base):
    """A one-time link the person gives an agent at a counter (CAF, préfecture, hôpital)
    who has no account: the chosen papers, watermarked, for a few minutes.

    Only hashes of the link's secret and of its short code are kept: the database alone
    opens nothing. The first browser to open it becomes its only viewer (`viewer_hash`,
    the hash of a secret kept in that browser's cookie).
    """

    __tablename__ = "counter_links"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Who it is for ("CAF de Lyon"), under the person's key: it says what they apply for.
    recipient_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    allow_download: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    viewer_hash: Mapped[str | None] = mapped_column(String(64))


class CounterLinkPaper(Base):
    """One paper a counter link shows, in the order the person chose."""

    __tablename__ = "counter_link_papers"

    link_id: Mapped[str] = mapped_column(
        ForeignKey("counter_links.id", ondelete="CASCADE"), primary_key=True
    )
    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int]


class DeskVisit(Base):
    """When a professional last opened a person's page on their desk: what is new is
    what happened since. One row per professional and person, overwritten at each visit;
    it goes with either account."""

    __tablename__ = "desk_visits"

    professional_id: Mapped[str] = mapped_column(
        ForeignKey("professionals.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    visited_at: Mapped[datetime]


class ProfessionalInvitation(Base):
    """A single-use link an organisation admin hands to a new professional, who chooses
    their own password with it. Only the SHA-256 of its 256-bit secret is kept."""

    __tablename__ = "professional_invitations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The admin who invited (None: the operator's command line).
    invited_by_id: Mapped[str | None] = mapped_column(ForeignKey("professionals.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ProfessionalDeparture(Base):
    """A professional of the person's list was deactivated by their organisation: the
    person is told, and chooses to end what they shared or to hand it to the colleague
    the admin proposed (nothing reaches that colleague before the person says yes)."""

    __tablename__ = "professional_departures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    # The departed professional's list entry; forgotten with it (sharing/retention.py).
    member_id: Mapped[str] = mapped_column(
        ForeignKey("accompaniment_members.id", ondelete="CASCADE"), index=True
    )
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
    successor_id: Mapped[str | None] = mapped_column(ForeignKey("professionals.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    # "ended" or "handed_over", once the person chose.
    outcome: Mapped[str | None] = mapped_column(String(12))


class SecondFactor(Base):
    """A professional's TOTP factor (sharing/second_factor.py): the secret sealed under a
    key of its own, that key wrapped by the keyring's master key (bound to the professional
    id), so a database dump alone yields no factor.

    `confirmed_at` is None while enrolling (the secret shown, no code typed back yet);
    `last_step` is the last 30-second step used: a code of that step or before is refused.
    """

    __tablename__ = "second_factors"

    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    last_step: Mapped[int | None] = mapped_column(BigInteger)


class BackupCode(Base):
    """One of a professional's ten single-use backup codes, stored hashed only."""

    __tablename__ = "second_factor_backup_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ProConnectAttempt(Base):
    """A ProConnect sign-in under way: what the callback needs, found by the state's hash
    and deleted when it comes back (the state is single use, whatever the browser replays).

    The PKCE verifier and the nonce are useless without the code the provider gives the
    browser, and the row lives a few minutes at most.
    """

    __tablename__ = "proconnect_attempts"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(index=True)


class ProConnectSignIn(Base):
    """The ID token behind a sign-in made through ProConnect, kept for signing out at the
    provider too (`id_token_hint`); deleted when that sign-out starts."""

    __tablename__ = "proconnect_sign_ins"

    token_hash: Mapped[str] = mapped_column(
        ForeignKey("auth_sessions.token_hash", ondelete="CASCADE"), primary_key=True
    )
    id_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Passkey(Base):
    """A professional's passkey (WebAuthn credential, sharing/passkeys.py): another way to
    pass the second factor, beside TOTP (which stays). The public key is not a secret; the
    sign count tells a cloned authenticator (a count that goes back is refused)."""

    __tablename__ = "passkeys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), index=True)
    # The authenticator's credential id (at most 1023 bytes, WebAuthn §5.8.3).
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE, as the authenticator sent it
    sign_count: Mapped[int] = mapped_column(BigInteger)
    transports: Mapped[str] = mapped_column(String(200))  # comma-separated, as the browser said
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class PasskeyChallenge(Base):
    """The one WebAuthn challenge a sign-in is waiting for (a registration or a use): kept
    on the server beside the sign-in, so it is used once whichever process answers, and
    dropped at its first use or when it expires."""

    __tablename__ = "passkey_challenges"

    token_hash: Mapped[str] = mapped_column(
        ForeignKey("auth_sessions.token_hash"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(String(16))  # "register" or "use"
    challenge: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime]
