"""Upload keys: the same upload sent twice (a retry after a lost answer) stores one paper"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    # Nullable: papers stored before keys, deposits and the command line have none.
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upload_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_documents_upload_key"), ["upload_key", "person_id", "uploaded_by_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_documents_upload_key"), type_="unique")
        batch_op.drop_column("upload_key")
