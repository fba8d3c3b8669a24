"""The Merkle arithmetic against the RFC 6962 test vectors and an independent verifier."""

from __future__ import annotations

import base64
import hashlib

import pytest

from locker import merkle
from tests import audit_verifier as rfc

# The certificate-transparency test vectors (RFC 6962 trees of 1..8 leaves).
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# Larger trees from the same suite: leaf i is the two bytes (i & 0xff, i >> 8).
LARGE_ROOTS = {
    10: "VjWMPSYNtCuCNlF/RLnQy6HcwSk6CIipfxm+hettA+4=",
    15: "j4SulYmocFuxdeyp12xXCIgK6PekBcxzAIj4zbQzNEI=",
    16: "c+4Uc6BCMOZf/v3NZK1kqTUJe+bBoFtOhP+P3SayKRE=",
    100: "dUh9hYH88p0CMoHkdr1wC2szbhcLAXOejWpINIooKUY=",
    255: "SmdsuKUqiod3RX2jyF2M6JnbdE4QuTwwipfAowI4/i0=",
    256: "qFI0t/tZ1MdOYgyPpPzHFiZVw86koScXy9q3FU5casA=",
    1000: "RXrgb8xHd55Y48FbfotJwCbV82Kx22LZfEbmBGAvwlQ=",
}


def stored_tree(leaves: list[bytes]) -> dict[merkle.Node, bytes]:
    """Every complete subtree, built the way appends build them."""
    hashes: dict[merkle.Node, bytes] = {}
    builder = merkle.TreeBuilder()
    for i, leaf in enumerate(leaves):
        hashes[(0, i)] = rfc.leaf_hash(leaf)
        for level, position in merkle.completed_by_append(i):
            left = hashes[(level - 1, 2 * position)]
            right = hashes[(level - 1, 2 * position + 1)]
            hashes[(level, position)] = merkle.node_hash(left, right)
        builder.push(rfc.leaf_hash(leaf))
    return hashes


def proof(ranges: list[tuple[int, int]], hashes: dict[merkle.Node, bytes]) -> list[bytes]:
    return [merkle.range_hash(a, b, hashes) for a, b in ranges]


def test_roots_match_the_rfc6962_vectors_both_ways() -> None:
    hashes = stored_tree(LEAVES)
    for n in range(1, 9):
        assert rfc.mth(LEAVES[:n]).hex() == ROOTS[n - 1]
        assert merkle.range_hash(0, n, hashes).hex() == ROOTS[n - 1]
        assert merkle.root_of(rfc.leaf_hash(x) for x in LEAVES[:n]).hex() == ROOTS[n - 1]
    assert merkle.root_of([]) == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", sorted(LARGE_ROOTS))
def test_larger_tree_roots(size: int) -> None:
    leaves = [bytes([i & 0xFF, (i >> 8) & 0xFF]) for i in range(size)]
    want = base64.b64decode(LARGE_ROOTS[size])
    assert merkle.range_hash(0, size, stored_tree(leaves)) == want
    assert rfc.mth(leaves) == want


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_vectors(index: int, size: int, path: list[str]) -> None:
    got = proof(merkle.inclusion_ranges(index, size), stored_tree(LEAVES[:size]))
    assert [h.hex() for h in got] == path
    root = bytes.fromhex(ROOTS[size - 1])
    assert rfc.verify_inclusion(index, size, rfc.leaf_hash(LEAVES[index]), got, root)


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_consistency_vectors(first: int, second: int, path: list[str]) -> None:
    got = proof(merkle.consistency_ranges(first, second), stored_tree(LEAVES[:second]))
    assert [h.hex() for h in got] == path
    first_root, second_root = bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1])
    assert rfc.verify_consistency(first, second, first_root, second_root, got)


def test_every_proof_up_to_40_leaves_verifies_independently() -> None:
    leaves = [f"record {i}".encode() for i in range(40)]
    hashes = stored_tree(leaves)
    roots = [rfc.mth(leaves[:n]) for n in range(41)]
    for size in range(1, 41):
        for index in range(size):
            path = proof(merkle.inclusion_ranges(index, size), hashes)
            assert rfc.verify_inclusion(index, size, hashes[(0, index)], path, roots[size])
        for first in range(1, size + 1):
            path = proof(merkle.consistency_ranges(first, size), hashes)
            assert rfc.verify_consistency(first, size, roots[first], roots[size], path)


def test_the_independent_verifier_refuses_wrong_proofs() -> None:
    leaves = [f"record {i}".encode() for i in range(13)]
    hashes = stored_tree(leaves)
    root = rfc.mth(leaves)
    path = proof(merkle.inclusion_ranges(6, 13), hashes)
    assert rfc.verify_inclusion(6, 13, hashes[(0, 6)], path, root)
    flipped = [path[0][:-1] + bytes([path[0][-1] ^ 1]), *path[1:]]
    assert not rfc.verify_inclusion(6, 13, hashes[(0, 6)], flipped, root)
    assert not rfc.verify_inclusion(7, 13, hashes[(0, 6)], path, root)
    assert not rfc.verify_inclusion(6, 13, hashes[(0, 6)], path[:-1], root)
    assert not rfc.verify_inclusion(6, 13, hashes[(0, 5)], path, root)
    consistency = proof(merkle.consistency_ranges(5, 13), hashes)
    old = rfc.mth(leaves[:5])
    assert rfc.verify_consistency(5, 13, old, root, consistency)
    forked = rfc.mth([b"forged", *leaves[1:5]])
    assert not rfc.verify_consistency(5, 13, forked, root, consistency)


def test_each_append_completes_exactly_the_subtrees_it_closes() -> None:
    assert merkle.completed_by_append(0) == []
    assert merkle.completed_by_append(1) == [(1, 0)]
    assert merkle.completed_by_append(6) == []
    assert merkle.completed_by_append(7) == [(1, 3), (2, 1), (3, 0)]
    total = sum(len(merkle.completed_by_append(i)) for i in range(1024))
    assert total == 1023  # a tree of 1024 leaves has 1023 interior nodes
