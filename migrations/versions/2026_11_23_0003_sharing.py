"""Sharing: accompaniment list, grants, mandates, recovery"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organization_profiles",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("digital_inclusion", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_profiles_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_organization_profiles")),
    )
    op.create_table(
        "share_codes",
        sa.Column("professional_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["professional_id"],
            ["professionals.id"],
            name=op.f("fk_share_codes_professional_id_professionals"),
        ),
        sa.PrimaryKeyConstraint("professional_id", name=op.f("pk_share_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_share_codes_code")),
    )
    op.create_table(
        "accompaniment_members",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("professional_id", sa.String(length=36), nullable=False),
        sa.Column("mission", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("referent", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_accompaniment_members_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["professional_id"],
            ["professionals.id"],
            name=op.f("fk_accompaniment_members_professional_id_professionals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accompaniment_members")),
    )
    with op.batch_alter_table("accompaniment_members") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_accompaniment_members_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_accompaniment_members_professional_id"),
            ["professional_id"],
            unique=False,
        )
    op.create_table(
        "grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=True),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.Column("expiry_recorded_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_grants_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["accompaniment_members.id"],
            name=op.f("fk_grants_member_id_accompaniment_members"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_grants_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
    )
    with op.batch_alter_table("grants") as batch_op:
        batch_op.create_index(batch_op.f("ix_grants_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_grants_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_grants_person_id"), ["person_id"], unique=False)
    op.create_table(
        "mandates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("scopes", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["accompaniment_members.id"],
            name=op.f("fk_mandates_member_id_accompaniment_members"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_mandates_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mandates")),
    )
    with op.batch_alter_table("mandates") as batch_op:
        batch_op.create_index(batch_op.f("ix_mandates_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mandates_person_id"), ["person_id"], unique=False)
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("issued_by_id", sa.String(length=36), nullable=True),
        sa.Column("organization_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=True),
        sa.Column("used_at", UTC, nullable=True),
        sa.Column("notice_seen_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["professionals.id"],
            name=op.f("fk_recovery_codes_issued_by_id_professionals"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_recovery_codes_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_recovery_codes_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    with op.batch_alter_table("recovery_codes") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recovery_codes_person_id"), ["person_id"], unique=False
        )
    op.create_table(
        "sharing_notices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("seen_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_sharing_notices_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["accompaniment_members.id"],
            name=op.f("fk_sharing_notices_member_id_accompaniment_members"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_sharing_notices_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_notices")),
    )
    with op.batch_alter_table("sharing_notices") as batch_op:
        batch_op.create_index(
            "ix_sharing_notices_person_seen", ["person_id", "seen_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sharing_notices") as batch_op:
        batch_op.drop_index("ix_sharing_notices_person_seen")
    op.drop_table("sharing_notices")
    with op.batch_alter_table("recovery_codes") as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_person_id"))
    op.drop_table("recovery_codes")
    with op.batch_alter_table("mandates") as batch_op:
        batch_op.drop_index(batch_op.f("ix_mandates_person_id"))
        batch_op.drop_index(batch_op.f("ix_mandates_member_id"))
    op.drop_table("mandates")
    with op.batch_alter_table("grants") as batch_op:
        batch_op.drop_index(batch_op.f("ix_grants_person_id"))
        batch_op.drop_index(batch_op.f("ix_grants_member_id"))
        batch_op.drop_index(batch_op.f("ix_grants_document_id"))
    op.drop_table("grants")
    with op.batch_alter_table("accompaniment_members") as batch_op:
        batch_op.drop_index(batch_op.f("ix_accompaniment_members_professional_id"))
        batch_op.drop_index(batch_op.f("ix_accompaniment_members_person_id"))
    op.drop_table("accompaniment_members")
    op.drop_table("share_codes")
    op.drop_table("organization_profiles")
