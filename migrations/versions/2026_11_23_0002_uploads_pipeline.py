"""Uploads pipeline: thumbnails, trash, validity dates"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thumbnail_key", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("page_count", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("valid_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_documents_thumbnail_key"), ["thumbnail_key"]
        )
        batch_op.create_index(batch_op.f("ix_documents_deleted_at"), ["deleted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_deleted_at"))
        batch_op.drop_constraint(batch_op.f("uq_documents_thumbnail_key"), type_="unique")
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("valid_until")
        batch_op.drop_column("page_count")
        batch_op.drop_column("thumbnail_key")
