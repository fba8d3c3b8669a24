"""Second factor: professionals' TOTP, backup codes, and when a sign-in passed it"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions") as batch_op:
        batch_op.add_column(sa.Column("second_factor_at", UTC, nullable=True))
    op.create_table(
        "second_factors",
        sa.Column("professional_id", sa.String(length=36), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("confirmed_at", UTC, nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["professional_id"],
            ["professionals.id"],
            name=op.f("fk_second_factors_professional_id_professionals"),
        ),
        sa.PrimaryKeyConstraint("professional_id", name=op.f("pk_second_factors")),
    )
    op.create_table(
        "second_factor_backup_codes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("professional_id", sa.String(length=36), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["professional_id"],
            ["professionals.id"],
            name=op.f("fk_second_factor_backup_codes_professional_id_professionals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_second_factor_backup_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_second_factor_backup_codes_code_hash")),
    )
    with op.batch_alter_table("second_factor_backup_codes") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_second_factor_backup_codes_professional_id"),
            ["professional_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("second_factor_backup_codes") as batch_op:
        batch_op.drop_index(batch_op.f("ix_second_factor_backup_codes_professional_id"))
    op.drop_table("second_factor_backup_codes")
    op.drop_table("second_factors")
    with op.batch_alter_table("auth_sessions") as batch_op:
        batch_op.drop_column("second_factor_at")
