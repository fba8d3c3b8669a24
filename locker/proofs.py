"""Tree heads and RFC 9162 proofs, read from the stored complete subtrees.

Each answer plans the O(log n) subtrees it needs (locker.merkle), fetches them in one
query on the primary key, and composes them: no leaf is ever re-hashed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from locker.audit_models import AuditTreeNode
from locker.errors import ProofUnavailable
from locker.merkle import (
    EMPTY_ROOT,
    Node,
    consistency_ranges,
    inclusion_ranges,
    nodes_for,
    range_hash,
)
from locker.models import AuditRecord


@dataclass(frozen=True)
class InclusionProof:
    """A record's exact leaf bytes, its leaf hash and its RFC 9162 inclusion path."""

    leaf: bytes
    leaf_hash: bytes
    hashes: list[bytes]


def tree_size(session: Session) -> int:
    """How many leaves the tree holds now."""
    last = session.scalar(select(func.max(AuditTreeNode.position)).where(AuditTreeNode.level == 0))
    return 0 if last is None else last + 1


def _fetch(session: Session, nodes: set[Node]) -> dict[Node, bytes]:
    if not nodes:
        return {}
    rows = session.execute(
        select(AuditTreeNode.level, AuditTreeNode.position, AuditTreeNode.hash).where(
            tuple_(AuditTreeNode.level, AuditTreeNode.position).in_(sorted(nodes))
        )
    )
    found = {(row.level, row.position): bytes(row.hash) for row in rows}
    if len(found) != len(nodes):
        raise ProofUnavailable("the tree is missing a subtree")
    return found


def root_at(session: Session, size: int) -> bytes:
    """MTH of the first `size` leaves."""
    if size == 0:
        return EMPTY_ROOT
    return range_hash(0, size, _fetch(session, nodes_for([(0, size)])))


def tree_head(session: Session) -> tuple[int, bytes]:
    """The current (tree size, root hash)."""
    size = tree_size(session)
    return size, root_at(session, size)


def inclusion_proof(session: Session, index: int, size: int) -> InclusionProof:
    """PATH(index, D[size]) with the leaf it proves; ProofUnavailable outside the tree."""
    if not 0 <= index < size:
        raise ProofUnavailable("index outside the tree size")
    ranges = inclusion_ranges(index, size)
    record = session.execute(
        select(AuditRecord.canonical, AuditRecord.leaf_hash).where(AuditRecord.seq == index)
    ).one_or_none()
    hashes = _fetch(session, nodes_for(ranges) | {(0, size - 1)})
    if record is None:
        raise ProofUnavailable("no such record")
    return InclusionProof(
        leaf=bytes(record.canonical),
        leaf_hash=bytes(record.leaf_hash),
        hashes=[range_hash(start, end, hashes) for start, end in ranges],
    )


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) (RFC 9162); ProofUnavailable unless 0 < first <= second <= size."""
    if not 0 < first <= second:
        raise ProofUnavailable("need 0 < first <= second")
    ranges = consistency_ranges(first, second)
    hashes = _fetch(session, nodes_for(ranges) | {(0, second - 1)})
    return [range_hash(start, end, hashes) for start, end in ranges]
