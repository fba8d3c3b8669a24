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


# Plain index statements, no batch mode: on SQLite a batch may copy the table, and the
# audit table's append-only triggers must stay as they are.
def upgrade() -> None:
    op.drop_index("ix_documents_person_id", table_name="documents")
    op.create_index("ix_documents_person_created", "documents", ["person_id", "created_at", "id"])
    op.drop_index("ix_audit_records_person_id", table_name="audit_records")
    op.create_index("ix_audit_records_person_seq", "audit_records", ["person_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_records_person_seq", table_name="audit_records")
    op.create_index("ix_audit_records_person_id", "audit_records", ["person_id"])
    op.drop_index("ix_documents_person_created", table_name="documents")
    op.create_index("ix_documents_person_id", "documents", ["person_id"])
