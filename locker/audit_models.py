"""Audit-log models beyond the records themselves: the Merkle tree and signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from locker.models import Base


class AuditTreeNode(Base):
    """The hash of one complete subtree, written in the append that completes it.

    (level, position) covers leaves [position * 2**level, (position + 1) * 2**level).
    Level 0 is a second copy of each record's leaf hash, written in the same transaction:
    a record altered in `audit_records` alone no longer matches its copy here, which
    names it exactly. Proofs read O(log n) of these rows and never recompute leaves.
    """

    __tablename__ = "audit_tree_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class AuditCheckpoint(Base):
    """A signed tree head: the C2SP tlog-checkpoint note exactly as published."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class AuditLogState(Base):
    """One row: the tree's size and right edge, so an append needs no search.

    Updating it first locks it, which serialises appends (gapless sequence numbers) on
    every backend. It is a cache of the tree, not evidence: verification recomputes it.
    """

    __tablename__ = "audit_log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    # The right edge's complete subtrees, highest level first, 32 bytes each.
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
