"""ProConnect sign-in: an organisation's SIRET, a professional's ProConnect account, the
sign-ins under way and the ID tokens kept for signing out at the provider"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch_op:
        batch_op.add_column(sa.Column("siret", sa.String(length=14), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_organizations_siret"), ["siret"])
    with op.batch_alter_table("professionals") as batch_op:
        batch_op.add_column(sa.Column("proconnect_sub", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_professionals_proconnect_sub"), ["proconnect_sub"]
        )
    op.create_table(
        "proconnect_attempts",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_proconnect_attempts")),
    )
    with op.batch_alter_table("proconnect_attempts") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proconnect_attempts_created_at"), ["created_at"], unique=False
        )
    op.create_table(
        "proconnect_sign_ins",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("id_token", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["token_hash"],
            ["auth_sessions.token_hash"],
            name=op.f("fk_proconnect_sign_ins_token_hash_auth_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_proconnect_sign_ins")),
    )


def downgrade() -> None:
    op.drop_table("proconnect_sign_ins")
    with op.batch_alter_table("proconnect_attempts") as batch_op:
        batch_op.drop_index(batch_op.f("ix_proconnect_attempts_created_at"))
    op.drop_table("proconnect_attempts")
    with op.batch_alter_table("professionals") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_professionals_proconnect_sub"), type_="unique")
        batch_op.drop_column("proconnect_sub")
    with op.batch_alter_table("organizations") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_organizations_siret"), type_="unique")
        batch_op.drop_column("siret")
