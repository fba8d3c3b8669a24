"""Organisation administration: invitations of professionals, and departures the persons decide"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"

UTC = sa.DateTime(timezone=True)
ID = sa.String(length=36)


def upgrade() -> None:
    op.create_table(
        "professional_invitations",
        sa.Column("id", ID, nullable=False),
        sa.Column("professional_id", ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", ID, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["professionals.id"],
            name=op.f("fk_professional_invitations_invited_by_id_professionals"),
        ),
        sa.ForeignKeyConstraint(
            ["professional_id"],
            ["professionals.id"],
            name=op.f("fk_professional_invitations_professional_id_professionals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_professional_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_professional_invitations_token_hash")),
    )
    with op.batch_alter_table("professional_invitations") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_professional_invitations_professional_id"),
            ["professional_id"],
            unique=False,
        )
    op.create_table(
        "professional_departures",
        sa.Column("id", ID, nullable=False),
        sa.Column("person_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("professional_id", ID, nullable=False),
        sa.Column("successor_id", ID, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["accompaniment_members.id"],
            name=op.f("fk_professional_departures_member_id_accompaniment_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_professional_departures_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["professional_id"],
            ["professionals.id"],
            name=op.f("fk_professional_departures_professional_id_professionals"),
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"],
            ["professionals.id"],
            name=op.f("fk_professional_departures_successor_id_professionals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_professional_departures")),
    )
    with op.batch_alter_table("professional_departures") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_professional_departures_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_professional_departures_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("professional_departures") as batch_op:
        batch_op.drop_index(batch_op.f("ix_professional_departures_person_id"))
        batch_op.drop_index(batch_op.f("ix_professional_departures_member_id"))
    op.drop_table("professional_departures")
    with op.batch_alter_table("professional_invitations") as batch_op:
        batch_op.drop_index(batch_op.f("ix_professional_invitations_professional_id"))
    op.drop_table("professional_invitations")
