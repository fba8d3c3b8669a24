"""Counter links: papers shown once to an agent at a counter, who has no account"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "counter_links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("recipient_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("allow_download", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.Column("opened_at", UTC, nullable=True),
        sa.Column("viewer_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_counter_links_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_links")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_counter_links_code_hash")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_counter_links_token_hash")),
    )
    with op.batch_alter_table("counter_links") as batch_op:
        batch_op.create_index(batch_op.f("ix_counter_links_person_id"), ["person_id"], unique=False)
    op.create_table(
        "counter_link_papers",
        sa.Column("link_id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_counter_link_papers_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["counter_links.id"],
            name=op.f("fk_counter_link_papers_link_id_counter_links"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("link_id", "document_id", name=op.f("pk_counter_link_papers")),
    )


def downgrade() -> None:
    op.drop_table("counter_link_papers")
    with op.batch_alter_table("counter_links") as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_links_person_id"))
    op.drop_table("counter_links")
