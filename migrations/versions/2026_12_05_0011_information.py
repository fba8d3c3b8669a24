"""Information before first use: the version of the page each person accepted, and when"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("information_version", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("information_accepted_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("information_accepted_at")
        batch_op.drop_column("information_version")
