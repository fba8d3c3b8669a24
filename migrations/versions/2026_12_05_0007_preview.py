"""Previews: the encrypted JPEG (at most 1600 px long) each paper shows inline"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    # Nullable: documents stored before previews get theirs when first shown.
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preview_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_documents_preview_key"), ["preview_key"])


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_documents_preview_key"), type_="unique")
        batch_op.drop_column("preview_key")
