"""RFC 9162 Merkle tree arithmetic over stored complete subtrees.

A complete subtree is named (level, index): it covers the leaves
[index * 2**level, (index + 1) * 2**level). Every hash a tree head, an inclusion proof
or a consistency proof needs is either such a subtree (stored as it completes during
appends) or a combination of the few complete subtrees along the tree's right edge.
So proofs are planned here as lists of node names, fetched in one query, and composed
without ever touching more than O(log n) rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping

Node = tuple[int, int]  # (level, index)
EMPTY_ROOT = hashlib.sha256(b"").digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two strictly smaller than `size` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def edge_levels(size: int) -> list[int]:
    """The levels of the right edge's complete subtrees for a tree of `size`, highest first."""
    return [bit for bit in range(size.bit_length() - 1, -1, -1) if size >> bit & 1]


def edge_root(edge: list[bytes]) -> bytes:
    """MTH of consecutive complete subtrees given highest first (a right edge, say)."""
    current = edge[-1]
    for left in reversed(edge[:-1]):
        current = node_hash(left, current)
    return current


def extend_frontier(
    size: int, frontier: bytes, leaf: bytes
) -> tuple[list[tuple[int, int, bytes]], bytes]:
    """Append leaf number `size` to a tree known by its right edge.

    Returns every subtree to store (the leaf itself at level 0, then each one it
    completes) and the new right edge; nothing else of the tree is needed.
    """
    levels = edge_levels(size)
    if len(frontier) != 32 * len(levels):
        raise ValueError("the right edge does not fit the tree size")
    edge = [(level, frontier[32 * i : 32 * i + 32]) for i, level in enumerate(levels)]
    nodes = [(0, size, leaf)]
    level, current = 0, leaf
    while edge and edge[-1][0] == level:
        current = node_hash(edge.pop()[1], current)
        level += 1
        nodes.append((level, ((size + 1) >> level) - 1, current))
    edge.append((level, current))
    return nodes, b"".join(digest for _, digest in edge)


def completed_by_append(seq: int) -> list[Node]:
    """The complete subtrees above leaf `seq` that appending it completes (level >= 1)."""
    nodes: list[Node] = []
    level = 1
    while (seq + 1) % (1 << level) == 0:
        nodes.append((level, (seq + 1) // (1 << level) - 1))
        level += 1
    return nodes


def _range_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees whose ordered combination is MTH(D[start:end])."""
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return [(level, start >> level)]
    k = split_point(size)
    return _range_nodes(start, start + k) + _range_nodes(start + k, end)


def range_hash(start: int, end: int, hashes: Mapping[Node, bytes]) -> bytes:
    """MTH(D[start:end]) from the stored complete subtrees (ranges from the RFC recursion)."""
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return hashes[(level, start >> level)]
    k = split_point(size)
    return node_hash(range_hash(start, start + k, hashes), range_hash(start + k, end, hashes))


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PATH(index, D[size]), deepest first (RFC 9162 2.1.3.1)."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PROOF(first, D[second]) (RFC 9162 2.1.4.1)."""
    if not 0 < first <= second:
        raise ValueError("need 0 < first <= second")
    ranges: list[tuple[int, int]] = []
    start, end, whole = 0, second, True
    m = first
    while True:
        if m == end - start:
            if not whole:
                ranges.append((start, end))
            break
        k = split_point(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            whole = False
    ranges.reverse()
    return ranges


def nodes_for(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    """Every stored complete subtree needed to compute the given ranges."""
    needed: set[Node] = set()
    for start, end in ranges:
        needed.update(_range_nodes(start, end))
    return needed


class TreeBuilder:
    """Streams leaf hashes in order and yields every complete subtree as it completes.

    Memory stays O(log n): only the right edge (one hash per level) is kept.
    """

    def __init__(self) -> None:
        self.size = 0
        self._edge: list[tuple[int, bytes]] = []  # (level, hash), levels strictly decreasing

    def push(self, leaf: bytes, on_node: Callable[[int, int, bytes], None] | None = None) -> None:
        """Add the next leaf hash; report each completed subtree (level >= 1) to on_node."""
        level, current = 0, leaf
        edge = self._edge
        while edge and edge[-1][0] == level:
            current = node_hash(edge.pop()[1], current)
            level += 1
            if on_node is not None:
                on_node(level, (self.size + 1 >> level) - 1, current)
        edge.append((level, current))
        self.size += 1

    def frontier(self) -> bytes:
        """The right edge's hashes, highest level first (what an append needs)."""
        return b"".join(digest for _, digest in self._edge)

    def root(self) -> bytes:
        """MTH of all leaves pushed so far (SHA-256 of nothing for an empty tree)."""
        return edge_root([digest for _, digest in self._edge]) if self._edge else EMPTY_ROOT


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH over leaf hashes given in order."""
    builder = TreeBuilder()
    for leaf in leaf_hashes:
        builder.push(leaf)
    return builder.root()
