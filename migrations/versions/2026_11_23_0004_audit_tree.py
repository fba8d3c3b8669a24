"""Audit log: Merkle tree nodes, signed checkpoints, append-only triggers"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

APPEND_ONLY = ("audit_records", "audit_tree_nodes", "audit_checkpoints")


def _backfill_tree() -> tuple[int, bytes]:
    """Build the tree over records written before this revision (frozen copy of the rule).

    Returns the tree's size and right edge (highest level first) for the state row.
    """
    bind = op.get_bind()
    nodes = sa.table(
        "audit_tree_nodes",
        sa.column("level", sa.SmallInteger),
        sa.column("position", sa.BigInteger),
        sa.column("hash", sa.LargeBinary),
    )
    edge: list[tuple[int, bytes]] = []
    batch: list[dict[str, Any]] = []
    rows = bind.execute(sa.text("SELECT leaf_hash FROM audit_records ORDER BY seq"))
    for position, (leaf,) in enumerate(rows):
        batch.append({"level": 0, "position": position, "hash": leaf})
        level, current = 0, bytes(leaf)
        while edge and edge[-1][0] == level:
            current = hashlib.sha256(b"\x01" + edge.pop()[1] + current).digest()
            level += 1
            up = ((position + 1) >> level) - 1
            batch.append({"level": level, "position": up, "hash": current})
        edge.append((level, current))
        if len(batch) >= 5000:
            bind.execute(sa.insert(nodes), batch)
            batch = []
    if batch:
        bind.execute(sa.insert(nodes), batch)
    count = bind.execute(sa.text("SELECT count(*) FROM audit_records")).scalar_one()
    return int(count), b"".join(digest for _, digest in edge)


def _seq_type(new: sa.types.TypeEngine[int], old: sa.types.TypeEngine[int]) -> None:
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=old, type_=new, existing_nullable=False)


def upgrade() -> None:
    # 64-bit sequence numbers: a busy service passes 2**31 records over the years.
    _seq_type(sa.BigInteger(), sa.Integer())
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "position", name=op.f("pk_audit_tree_nodes")),
    )
    op.create_table(
        "audit_log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_state")),
    )
    size, frontier = _backfill_tree()
    state = sa.table(
        "audit_log_state",
        sa.column("id", sa.Integer),
        sa.column("size", sa.BigInteger),
        sa.column("frontier", sa.LargeBinary),
    )
    op.get_bind().execute(sa.insert(state), [{"id": 1, "size": size, "frontier": frontier}])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # The application's role may only ever INSERT into the log; rewriting it needs a
        # deliberate, visible act (disabling the trigger), and verification catches it.
        op.execute(
            """
            CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the audit log is append-only: % on % refused',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
            )
    elif dialect == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
                )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")
    elif dialect == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    op.drop_table("audit_log_state")
    op.drop_table("audit_tree_nodes")
    op.drop_table("audit_checkpoints")
    _seq_type(sa.Integer(), sa.BigInteger())
