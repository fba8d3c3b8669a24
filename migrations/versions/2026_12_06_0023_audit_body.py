"""Which organisation audits the service: only its professionals may hold the auditor role"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0020"


def upgrade() -> None:
    with op.batch_alter_table("organization_profiles") as batch_op:
        batch_op.add_column(
            sa.Column("audits_service", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("organization_profiles") as batch_op:
        batch_op.drop_column("audits_service")
