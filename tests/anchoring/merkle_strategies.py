"""Hypothesis strategies and helpers shared by the Merkle tests."""

from __future__ import annotations

from hypothesis import strategies as st

from anchoring.auditor.merkle import leaf_hash

MAX_TREE_SIZE = 3000

# Sizes around powers of two are where the tree's shape changes, so draw them often.
_EDGE_SIZES = sorted(
    {
        (1 << k) + delta
        for k in range(12)
        for delta in (-1, 0, 1)
        if 1 <= (1 << k) + delta <= MAX_TREE_SIZE
    }
)

tree_sizes = st.one_of(st.integers(1, MAX_TREE_SIZE), st.sampled_from(_EDGE_SIZES))
salts = st.binary(max_size=4)


def entries(size: int, salt: bytes) -> list[bytes]:
    """``size`` distinct entries; the salt varies their hashes from one example to the next."""
    return [salt + i.to_bytes(4, "big") for i in range(size)]


def leaf_hashes(size: int, salt: bytes) -> list[bytes]:
    return [leaf_hash(entry) for entry in entries(size, salt)]


def flip_bit(value: bytes, bit: int) -> bytes:
    flipped = bytearray(value)
    flipped[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(flipped)
