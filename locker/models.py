"""Database models (SQLAlchemy 2 typed). Models are singular, tables plural.

Nothing here holds a readable title, file name or key: those columns are ciphertext.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """A random UUID4 string: ids are unguessable, so a guessed id finds nothing."""
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 (SQLAlchemy API)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    # Its establishment number (SIRET, 14 digits): a ProConnect sign-in names it, and a
    # professional is let in only by the organisation whose SIRET the provider asserts.
    siret: Mapped[str | None] = mapped_column(String(14), unique=True, default=None)


class Professional(Base):
    __tablename__ = "professionals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    # "professional" or "org_admin"; an org admin manages accounts and never sees documents.
    role: Mapped[str] = mapped_column(String(20), default="professional")
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    # The interface language chosen (a BCP 47 code); the browser's own choice when None.
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    # The ProConnect account (`sub`) first matched to this professional: a later sign-in
    # with the same e-mail but another ProConnect account is refused.
    proconnect_sub: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    # The person key, wrapped by the keyring's master key with the person id as AAD.
    wrapped_person_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_by_professional_id: Mapped[str | None] = mapped_column(
        ForeignKey("professionals.id"), default=None
    )
    created_at: Mapped[datetime]
    # Set when someone else chose the password (a professional creating the account):
    # until the person sets their own, nothing but the password change is open to them.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    # The version of the information page the person accepted before first use, and when.
    information_version: Mapped[str | None] = mapped_column(String(32), default=None)
    information_accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    # The person chose to be reminded when a paper is about to expire (locker/reminders.py).
    expiry_reminders: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set when the person closed their account: the row keeps only its id (locker/closure.py).
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class AuthSession(Base):
    """A server-side sign-in: a browser session or an API token. Revoking the row ends it."""

    __tablename__ = "auth_sessions"

    # SHA-256 of the secret handed to the client: a database dump yields no usable session.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # "web" or "api"
    user_kind: Mapped[str] = mapped_column(String(16))  # "person" or "professional"
    user_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # The last request seen (to the minute): a browser session idle too long ends.
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    # When this sign-in passed its second factor (professionals: TOTP or a backup code).
    # A professional's sign-in without it opens only the enrolment or the code's page.
    second_factor_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_auth_sessions_user", "user_kind", "user_id"),)


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Random, opaque: the store learns nothing about whose or what the object is.
    object_key: Mapped[str] = mapped_column(String(64), unique=True)
    # Data key wrapped by the person key, bound to (document id, version).
    wrapped_data_key: Mapped[bytes] = mapped_column(LargeBinary)
    title_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    filename_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    category: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    uploaded_by_kind: Mapped[str] = mapped_column(String(16))
    uploaded_by_id: Mapped[str] = mapped_column(String(36))
    # Uploads pipeline: the encrypted thumbnail (None only for rows older than it), the
    # page count, an optional validity date, and the trash (purged 30 days after deleted_at).
    thumbnail_key: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    page_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    valid_until: Mapped[date | None] = mapped_column(Date, default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(index=True, default=None)
    # The encrypted preview, a JPEG at most 1600 px long (None for rows older than it: it
    # is drawn when first shown, then kept).
    preview_key: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    # The uploading client's own name for the upload (a form's hidden field): the same upload
    # sent again, after an answer lost on a bad connection, finds this row and stores nothing.
    upload_key: Mapped[str | None] = mapped_column(String(64), default=None)

    __table_args__ = (
        UniqueConstraint("upload_key", "person_id", "uploaded_by_id"),
        # A page of the person's list walks this from its key (locker/documents.py).
        Index("ix_documents_person_created", "person_id", "created_at", "id"),
    )


class ServiceClosure(Base):
    """The closing day the operator announced (one row at most; locker/service.py)."""

    __tablename__ = "service_closure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    closes_on: Mapped[date] = mapped_column(Date)
    announced_at: Mapped[datetime]


# The same text builds the column on PostgreSQL (stored) and SQLite (virtual): migration 0018.
BY_PERSON = "coalesce(actor_kind = 'person' AND actor_id = person_id, false)"


class AuditRecord(Base):
    """One leaf of the append-only audit log; `canonical` is exactly the hashed leaf bytes."""

    __tablename__ = "audit_records"

    # 64 bits: a busy service passes 2**31 records over the years.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(36))
    on_behalf_of: Mapped[str | None] = mapped_column(String(36))
    person_id: Mapped[str | None] = mapped_column(String(36))
    document_id: Mapped[str | None] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(48))
    outcome: Mapped[str] = mapped_column(String(8))  # "allowed" or "denied"
    reason: Mapped[str] = mapped_column(String(64))
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)
    # The person acted on their own locker. Computed by the database from the actor columns
    # (which the canonical bytes cover), so it is never written, nor altered, on its own.
    by_person: Mapped[bool] = mapped_column(Boolean, Computed(BY_PERSON))

    # A page of the person's access log walks one of these from its key: all their records,
    # or only theirs or only others' (locker/access_log.py).
    __table_args__ = (
        Index("ix_audit_records_person_seq", "person_id", "seq"),
        Index("ix_audit_records_person_by_seq", "person_id", "by_person", "seq"),
    )
