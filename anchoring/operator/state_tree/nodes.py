"""The persisted tree's node: a 16-ary node holding four levels of the binary tree.

The tree is anchoring.auditor.smt's binary sparse Merkle tree, cut into nibble-aligned pieces
as Jellyfish Merkle trees store it: a node at nibble path P (its first 4·|P| key bits) holds the
16 subtrees below P, one per next nibble (a *slot*). A slot is

    None                   empty: no key below it
    (key, value_hash)      exactly one key below it: the leaf itself, kept inline
    (hash, version)        two keys or more: a node of its own at P + slot, written at `version`

A node exists at P only when two keys or more lie below P (the root excepted, which exists at
every stored version, even for an empty tree or one key). Its hash is the binary subtree's,
computed over its 16 slots with smt's shape rules: a part of the node holding nothing hashes to
the placeholder, a part holding one leaf collapses into that leaf's hash, anything else is an
internal node. So every hash, and every proof, is smt's byte for byte.

Pure: no database here.
"""

from __future__ import annotations

from hashlib import sha256
from typing import Final

from anchoring.auditor.smt import EMPTY_ROOT, INTERNAL_DOMAIN, KEY_SIZE, LEAF_DOMAIN

SLOTS: Final = 16
MAX_DEPTH: Final = 2 * KEY_SIZE
"""Nibbles in a key: no node lies deeper than this."""

_VERSION_BYTES: Final = 8

Leaf = tuple[bytes, bytes]
"""(key, value_hash): the one leaf below a slot."""
Child = tuple[bytes, int]
"""(hash, version): the node of its own below a slot, and the version it was written at."""
Slot = Leaf | Child | None
Node = tuple[Slot, ...]
"""Always SLOTS slots, in nibble order."""

EMPTY_NODE: Final[Node] = (None,) * SLOTS
"""The root of an empty tree."""


def is_leaf(slot: Leaf | Child) -> bool:
    return slot[1].__class__ is bytes


def nibble(key: bytes, depth: int) -> int:
    """The key's nibble at `depth` (0: the top four bits)."""
    byte = key[depth >> 1]
    return byte >> 4 if depth & 1 == 0 else byte & 0x0F


def weight(node: Node, lo: int = 0, hi: int = SLOTS) -> int:
    """How many leaves lie in slots lo..hi-1, counting a child node as two: all that the shape
    rules ask is "none, one, or more"."""
    total = 0
    for slot in node[lo:hi]:
        if slot is not None:
            total += 1 if is_leaf(slot) else 2
    return total


def only_leaf(node: Node, lo: int = 0, hi: int = SLOTS) -> Leaf | None:
    """The one present slot of lo..hi-1 when it is a leaf and alone; else None."""
    found: Slot = None
    for slot in node[lo:hi]:
        if slot is not None:
            if found is not None:
                return None
            found = slot
    return found if found is not None and is_leaf(found) else None  # type: ignore[return-value]


_EMPTY: Final = 0  # what a part of a node holds: nothing,
_ONE_LEAF: Final = 1  # exactly one leaf (it collapses into the leaf's hash),
_MORE: Final = 2  # or more (an internal node)


def levels(node: Node) -> list[list[bytes]]:
    """The hashes of the binary tree a node holds, bottom-up: levels[0] the 16 slots',
    levels[1] the 8 pairs', ... levels[4] = [the node's hash]. The shape rules decide each:
    an empty part hashes to the placeholder, a part with one leaf to that leaf's hash."""
    # Whole-list passes and a zip over pairs: this runs for every node a cut writes.
    hashes: list[bytes] = [
        EMPTY_ROOT if slot is None
        else slot[0] if slot[1].__class__ is int
        else sha256(LEAF_DOMAIN + slot[0] + slot[1]).digest()  # type: ignore[operator]
        for slot in node]
    kinds = [_EMPTY if slot is None else _MORE if slot[1].__class__ is int else _ONE_LEAF
             for slot in node]
    result = [hashes]
    while len(hashes) > 1:
        upper: list[bytes] = []
        upper_kinds: list[int] = []
        for left, right, left_kind, right_kind in zip(hashes[0::2], hashes[1::2], kinds[0::2],
                                                      kinds[1::2], strict=True):
            if left_kind + right_kind <= _ONE_LEAF:  # nothing, or one leaf beside nothing
                upper.append(left if left_kind else right)
                upper_kinds.append(left_kind + right_kind)
            else:
                upper.append(sha256(INTERNAL_DOMAIN + left + right).digest())
                upper_kinds.append(_MORE)
        hashes, kinds = upper, upper_kinds
        result.append(hashes)
    return result


def node_hash(node: Node) -> bytes:
    return levels(node)[-1][0]


def encode(node: Node) -> bytes:
    """Two bitmaps (present slots, leaf slots; slot 0 is the lowest bit), then per present
    slot in order: key and value hash (a leaf), or hash and 8-byte version (a child)."""
    present = leaves = 0
    parts = []
    for index, slot in enumerate(node):
        if slot is None:
            continue
        present |= 1 << index
        if is_leaf(slot):
            leaves |= 1 << index
            parts.append(slot[0] + slot[1])  # type: ignore[operator]
        else:
            parts.append(slot[0] + slot[1].to_bytes(_VERSION_BYTES, "big"))  # type: ignore[union-attr]
    return present.to_bytes(2, "big") + leaves.to_bytes(2, "big") + b"".join(parts)


def decode(blob: bytes) -> Node:
    """The node `encode` made; ValueError for bytes it cannot have made."""
    if len(blob) < 4:
        raise ValueError("a node is at least 4 bytes")
    present = int.from_bytes(blob[:2], "big")
    leaves = int.from_bytes(blob[2:4], "big")
    if leaves & ~present:
        raise ValueError("a leaf slot is not marked present")
    slots: list[Slot] = [None] * SLOTS
    at = 4
    bits = present
    while bits:  # the present slots only, lowest first
        lowest = bits & -bits
        bits ^= lowest
        if leaves & lowest:
            slots[lowest.bit_length() - 1] = (blob[at:at + 32], blob[at + 32:at + 64])
            at += 64
        else:
            slots[lowest.bit_length() - 1] = (blob[at:at + 32],
                                              int.from_bytes(blob[at + 32:at + 40], "big"))
            at += 40
    if at != len(blob):
        raise ValueError(f"a node of {len(blob)} bytes, its bitmaps say {at}")
    return tuple(slots)
