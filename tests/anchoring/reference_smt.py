"""The compact sparse Merkle tree written out literally: the yardstick for anchoring.auditor.smt.

Slow on purpose: the root of a map is computed from scratch, by splitting the sorted pairs on one
key bit per level, exactly as the definition reads. It hashes like penumbra-zone/jmt with SHA-256
and imports nothing from the code under test.

    root(empty)        = the 32 ASCII bytes "SPARSE_MERKLE_PLACEHOLDER_HASH__"
    root(one pair)     = SHA-256("JMT::LeafNode" || key || SHA-256(value))
    root(two or more)  = SHA-256("JMT::IntrnalNode" || root(bit d is 0) || root(bit d is 1))
"""

from __future__ import annotations

from hashlib import sha256

PLACEHOLDER = b"SPARSE_MERKLE_PLACEHOLDER_HASH__"


def bit(key: bytes, depth: int) -> int:
    """Bit number ``depth`` of the key, counting from the most significant bit of key[0]."""
    return (key[depth // 8] >> (7 - depth % 8)) & 1


def leaf_hash(key: bytes, value: bytes) -> bytes:
    return sha256(b"JMT::LeafNode" + key + sha256(value).digest()).digest()


def internal_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"JMT::IntrnalNode" + left + right).digest()


def root(state: dict[bytes, bytes]) -> bytes:
    """The root of a map of 32-byte keys to values."""
    return _subtree_root(sorted(state.items()), 0)


def _subtree_root(pairs: list[tuple[bytes, bytes]], depth: int) -> bytes:
    if not pairs:
        return PLACEHOLDER
    if len(pairs) == 1:
        key, value = pairs[0]
        return leaf_hash(key, value)
    left = [(key, value) for key, value in pairs if bit(key, depth) == 0]
    right = [(key, value) for key, value in pairs if bit(key, depth) == 1]
    return internal_hash(_subtree_root(left, depth + 1), _subtree_root(right, depth + 1))
