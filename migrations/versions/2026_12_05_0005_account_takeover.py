"""Account takeover: forced first password change, disputed resets"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disputed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_column("disputed_at")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
