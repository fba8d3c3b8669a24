"""Lists a page at a time: the person's papers by date, their records by sequence

A page of the person's papers (newest first) and of their access log (newest first) walks
one index from its key and stops at the page's end, instead of sorting everything the
person has. Each composite index starts with the person, so it also serves every lookup the
single-column index it replaces served.
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_index("ix_documents_person_id")
        batch_op.create_index("ix_documents_person_created", ["person_id", "created_at", "id"])
    with op.batch_alter_table("audit_records") as batch_op:
        batch_op.drop_index("ix_audit_records_person_id")
        batch_op.create_index("ix_audit_records_person_seq", ["person_id", "seq"])


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch_op:
        batch_op.drop_index("ix_audit_records_person_seq")
        batch_op.create_index("ix_audit_records_person_id", ["person_id"])
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_index("ix_documents_person_created")
        batch_op.create_index("ix_documents_person_id", ["person_id"])
