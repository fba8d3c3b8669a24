"""The desk: when each professional last opened each person's page ("what's new")"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "desk_visits",
        sa.Column("professional_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("visited_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_desk_visits_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["professional_id"],
            ["professionals.id"],
            name=op.f("fk_desk_visits_professional_id_professionals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("professional_id", "person_id", name=op.f("pk_desk_visits")),
    )
    with op.batch_alter_table("desk_visits") as batch_op:
        batch_op.create_index(batch_op.f("ix_desk_visits_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("desk_visits") as batch_op:
        batch_op.drop_index(batch_op.f("ix_desk_visits_person_id"))
    op.drop_table("desk_visits")
