"""The state commitment: a compact sparse Merkle tree over 256-bit keys.

The tree maps 32-byte keys (SHA-256 hashes of typed ids, chosen by the ledger) to arbitrary value
bytes. Its root commits to every pair; a proof shows that a key holds a value (membership) or that
it holds nothing (non-membership) against a root, and ``verify`` checks one with no tree at hand.
See docs/adr/0002-state-commitment.md for why this structure.

Shape. A binary trie on the key's bits, most significant bit first (bit 0 is the top bit of
``key[0]``). An empty subtree is not stored; it hashes to the placeholder constant. A subtree
holding one leaf is collapsed into that leaf, so every leaf sits at the shortest prefix of its key
that no other key shares. Every other subtree is an internal node, including one whose children
are an empty subtree and a subtree of two or more leaves. The shape, and so the root, depends
only on the set of pairs, never on the order of updates.

Hashing (SHA-256; byte for byte that of penumbra-zone/jmt instantiated with SHA-256, whose root
vectors the tests reproduce)::

    empty    = b"SPARSE_MERKLE_PLACEHOLDER_HASH__"              (32 ASCII bytes, not a hash)
    leaf     = SHA-256(b"JMT::LeafNode" || key || SHA-256(value))
    internal = SHA-256(b"JMT::IntrnalNode" || left || right)

jmt hashes its users' keys into the 32-byte key; here the caller passes that 32-byte key directly.

Versions. Nodes are immutable and shared between versions, so ``update`` rebuilds only the paths
of the keys it changes, and ``snapshot()`` is O(1): it keeps the current root node, and every
proof at that root stays available while the tree moves on. A snapshot costs memory only for the
nodes that later updates replace (about 12 per change at a million leaves).

Public API::

    tree = SparseMerkleTree()                       # or SparseMerkleTree.from_items(pairs)
    root = tree.update({key: value, other: None})   # None deletes; returns the new root
    tree.root, tree.get(key), len(tree), tree.items()
    proof = tree.prove(key)                         # membership or non-membership
    snap = tree.snapshot()                          # same read API, never changes
    verify(root, key, value_or_None, proof)         # raises ProofError, or returns None
    Proof.from_dict(proof.to_dict())                # JSON-friendly, hex strings

Not thread-safe for concurrent writers; a ``Snapshot`` may be read from any thread.
"""

from __future__ import annotations

import gc
import operator
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from hashlib import sha256
from itertools import islice
from typing import Any, Final

from anchoring.auditor.errors import VerifyError, VerifyFailure

KEY_SIZE: Final = 32
"""Keys are exactly 32 bytes: a 256-bit path."""

MAX_PROOF_SIBLINGS: Final = 256
"""One sibling per level; two keys differing only in their last bit put leaves at depth 256."""

MAX_BATCH_CHANGES: Final = 100_000
"""Largest batch ``update`` accepts: it bounds one call's time (a few seconds at a million leaves)
and its transient memory. Split larger change sets, or rebuild with ``from_items``."""

EMPTY_ROOT: Final = b"SPARSE_MERKLE_PLACEHOLDER_HASH__"
"""The hash of an empty subtree, and so the root of an empty tree."""

SETTLE_AFTER_LEAVES: Final = 100_000
"""``from_items`` ends a build of this many leaves or more with a full garbage collection."""

PROOF_FORMAT: Final = "jmt-sha256"
"""The ``format`` field of a serialised proof: the hashing above, siblings listed bottom-up."""

LEAF_DOMAIN: Final = b"JMT::LeafNode"
INTERNAL_DOMAIN: Final = b"JMT::IntrnalNode"  # sic: jmt drops a vowel to fit 16 bytes
_LAST_BIT: Final = 8 * KEY_SIZE - 1
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")

# A node is a plain tuple, because a million leaves need ~2.4 million nodes and a tuple is
# several times cheaper to create than an object.
#   leaf:      (leaf_hash, key, value)    key and value are bytes
#   internal:  (node_hash, left, right)   a child is a node, or None for an empty subtree
# A node is never mutated: that is what makes old roots provable after later updates.
_Node = tuple[bytes, Any, Any]


class ProofFailure(StrEnum):
    """Why a proof was rejected; each reason is final: retrying the same proof cannot succeed."""

    MALFORMED = "malformed"
    """A field has the wrong type, length or encoding."""
    TOO_LONG = "too_long"
    """More siblings than a 256-bit key has levels."""
    NON_CANONICAL = "non_canonical"
    """The lowest sibling is the empty placeholder: an honest tree collapses such a level."""
    WRONG_KIND = "wrong_kind"
    """A membership proof was needed and a non-membership proof given, or the reverse."""
    KEY_MISMATCH = "key_mismatch"
    """The proof's leaf is for another key."""
    VALUE_MISMATCH = "value_mismatch"
    """The proof's leaf holds a different value."""
    PREFIX_MISMATCH = "prefix_mismatch"
    """The other leaf of a non-membership proof does not lie on the key's path."""
    ROOT_MISMATCH = "root_mismatch"
    """The proof leads to a different root."""


class ProofError(VerifyError):
    """A proof does not show what it was asked to show; ``reason`` says why, within the
    package's code ``state_proof_failed``."""

    code = VerifyFailure.state_proof_failed

    def __init__(self, reason: ProofFailure, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ProofLeaf:
    """The leaf a proof ends at: the queried key's own leaf, or the leaf that occupies its path."""

    key: bytes
    value_hash: bytes


@dataclass(frozen=True, slots=True)
class Proof:
    """A path from a leaf position to the root.

    ``leaf`` is the leaf found at the end of the key's path, or None when that position is empty.
    It is a membership proof when ``leaf.key`` is the queried key, otherwise a non-membership
    proof. ``siblings`` are the hashes beside the path, from the leaf's level up to the root's
    children (jmt's order); their count is the depth of the leaf position.
    """

    leaf: ProofLeaf | None
    siblings: tuple[bytes, ...]

    def to_dict(self) -> dict[str, Any]:
        """Serialise to JSON-friendly values: lowercase hex strings, no ``0x`` prefix."""
        leaf = None
        if self.leaf is not None:
            leaf = {"key": self.leaf.key.hex(), "value_hash": self.leaf.value_hash.hex()}
        return {
            "format": PROOF_FORMAT,
            "leaf": leaf,
            "siblings": [sibling.hex() for sibling in self.siblings],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Proof:
        """Parse what ``to_dict`` made, strictly: unknown fields, bad hex or too many siblings
        raise ``ProofError`` (``MALFORMED`` or ``TOO_LONG``), since the input is untrusted."""
        if not isinstance(data, Mapping) or set(data) != {"format", "leaf", "siblings"}:
            raise ProofError(ProofFailure.MALFORMED, "want exactly: format, leaf, siblings")
        if data["format"] != PROOF_FORMAT:
            raise ProofError(ProofFailure.MALFORMED, f"unknown format {data['format']!r}")
        siblings = data["siblings"]
        if not isinstance(siblings, list):
            raise ProofError(ProofFailure.MALFORMED, "siblings must be a list")
        _check_length(len(siblings))
        leaf = data["leaf"]
        if leaf is not None:
            if not isinstance(leaf, Mapping) or set(leaf) != {"key", "value_hash"}:
                raise ProofError(ProofFailure.MALFORMED, "leaf wants exactly: key, value_hash")
            key = _from_hex(leaf["key"], "leaf key")
            leaf = ProofLeaf(key, _from_hex(leaf["value_hash"], "leaf value_hash"))
        return cls(leaf, tuple(_from_hex(sibling, "sibling") for sibling in siblings))


def verify(root: bytes, key: bytes, value: bytes | None, proof: Proof) -> None:
    """Check that, in the tree whose root is ``root``, ``key`` holds ``value`` (None: nothing).

    Pure: needs only its arguments. Returns None on success, raises ``ProofError`` otherwise.
    """
    _check_shapes(root, key, value, proof)
    leaf = proof.leaf
    if value is not None:
        _check_membership(key, value, leaf)
    else:
        _check_non_membership(key, leaf, len(proof.siblings))
    node = EMPTY_ROOT if leaf is None else _leaf_hash(leaf.key, leaf.value_hash)
    path = int.from_bytes(key, "big")
    depth = len(proof.siblings)
    for sibling in proof.siblings:
        depth -= 1
        if (path >> (_LAST_BIT - depth)) & 1:
            node = sha256(INTERNAL_DOMAIN + sibling + node).digest()
        else:
            node = sha256(INTERNAL_DOMAIN + node + sibling).digest()
    if node != root:
        raise ProofError(ProofFailure.ROOT_MISMATCH, f"proof leads to {node.hex()}")


class _View:
    """The read operations shared by the live tree and its snapshots."""

    __slots__ = ("_node", "_size")

    def __init__(self, node: _Node | None = None, size: int = 0) -> None:
        self._node = node
        self._size = size

    @property
    def root(self) -> bytes:
        """The 32-byte root hash: ``EMPTY_ROOT`` for an empty tree."""
        return EMPTY_ROOT if self._node is None else self._node[0]

    def __len__(self) -> int:
        """The number of keys present."""
        return self._size

    def get(self, key: bytes) -> bytes | None:
        """The value at ``key``, or None when absent."""
        _check_key(key)
        node, _ = _descend(self._node, key)
        return node[2] if node is not None and node[1] == key else None

    def prove(self, key: bytes) -> Proof:
        """A membership proof if ``key`` is present, else a non-membership proof (see ``Proof``).

        O(depth): about 20 levels at a million random keys, never more than 256.
        """
        _check_key(key)
        node, siblings = _descend(self._node, key)
        siblings.reverse()  # collected top-down; a proof lists them bottom-up
        leaf = None if node is None else ProofLeaf(node[1], sha256(node[2]).digest())
        return Proof(leaf, tuple(siblings))

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) pair, in key order."""
        stack = [] if self._node is None else [self._node]
        while stack:
            node = stack.pop()
            if node[1].__class__ is bytes:
                yield node[1], node[2]
                continue
            for child in (node[2], node[1]):  # right first, so that left pops first
                if child is not None:
                    stack.append(child)


class Snapshot(_View):
    """An immutable version of the tree: its root, values and proofs never change."""

    __slots__ = ()


class SparseMerkleTree(_View):
    """The live state commitment. ``SparseMerkleTree()`` is empty; see the module's docstring."""

    __slots__ = ()

    @classmethod
    def from_items(
        cls, items: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]]
    ) -> SparseMerkleTree:
        """Build a tree from (key, value) pairs, a mapping or an iterable: faster than ``update``
        for a bulk load, and not subject to ``MAX_BATCH_CHANGES``. A repeated key raises
        ValueError; a bad key or value raises as in ``update``.

        Python's cyclic garbage collector is paused during the build, and a build of
        ``SETTLE_AFTER_LEAVES`` or more ends with one full collection: a bulk build allocates
        millions of tuples that the collector would otherwise rescan each time the heap grows
        by a quarter (a third of the build's time at a million leaves), to free nothing, since
        nodes never form cycles. Doing the one scan they need here keeps a one-second pause out
        of whatever runs next. The collector's previous state is restored.
        """
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            tree = cls._from_pairs(items)
            if was_enabled and len(tree) >= SETTLE_AFTER_LEAVES:
                gc.collect()  # while still disabled: enabling first could start a collection
        finally:
            if was_enabled:
                gc.enable()
        return tree

    @classmethod
    def _from_pairs(
        cls, items: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]]
    ) -> SparseMerkleTree:
        # Whole-list passes (comprehensions, map, one sort of integers) rather than one loop
        # doing everything per pair: the same work, an eighth less interpreter time.
        if isinstance(items, Mapping):
            keys, values, unique = list(items), list(items.values()), True
        else:
            pairs = list(items)
            keys = [key for key, _ in pairs]
            values = [value for _, value in pairs]
            unique = False
        _check_pairs(keys, values)
        leaves = [
            (sha256(LEAF_DOMAIN + key + sha256(value).digest()).digest(), key, value)
            for key, value in zip(keys, values, strict=True)
        ]
        paths = [int.from_bytes(key, "big") for key in keys]
        order = sorted(range(len(paths)), key=paths.__getitem__)  # integers sort as the bits do
        paths = [paths[i] for i in order]
        if not unique and any(map(operator.eq, paths, islice(paths, 1, None))):
            raise ValueError("a key is repeated in from_items")
        leaves = [leaves[i] for i in order]
        return cls(_build(paths, leaves, 0, len(paths), 0), len(paths))

    def update(self, changes: Mapping[bytes, bytes | None]) -> bytes:
        """Apply a batch: ``key -> value`` inserts or replaces, ``key -> None`` deletes (a no-op
        when absent). Returns the new root.

        Atomic: a bad key or value raises before anything changes. The cost follows the batch,
        not the tree: each changed key rehashes its path below the levels the batch shares.
        """
        if len(changes) > MAX_BATCH_CHANGES:
            raise ValueError(f"batch of {len(changes)} changes exceeds {MAX_BATCH_CHANGES}")
        for key, value in changes.items():
            _check_key(key)
            if value is not None:
                _check_value(value)
        if changes:
            batch = _Batch(changes)
            self._node = batch.apply(self._node, 0, 0, len(batch.keys))
            self._size += batch.size_delta
        return self.root

    def snapshot(self) -> Snapshot:
        """The current version, frozen. O(1): it shares every node with the live tree."""
        return Snapshot(self._node, self._size)


class _Batch:
    """One ``update``: the changes sorted by key, and the recursion that applies them."""

    __slots__ = ("keys", "leaves", "size_delta")

    def __init__(self, changes: Mapping[bytes, bytes | None]) -> None:
        ordered = sorted(changes)
        self.keys = [int.from_bytes(key, "big") for key in ordered]
        # New leaves are hashed once here; None marks a delete.
        self.leaves: list[_Node | None] = []
        for key in ordered:
            value = changes[key]
            leaf = None if value is None else (_leaf_hash(key, sha256(value).digest()), key, value)
            self.leaves.append(leaf)
        self.size_delta = 0

    def apply(self, node: _Node | None, depth: int, lo: int, hi: int) -> _Node | None:
        """The subtree at ``depth`` after applying changes[lo:hi], which all lie under it."""
        if node is None:
            return self._into_empty(depth, lo, hi)
        if node[1].__class__ is bytes:
            return self._into_leaf(node, depth, lo, hi)
        keys = self.keys
        shift = _LAST_BIT - depth
        mid = bisect_left(keys, ((keys[lo] >> shift) | 1) << shift, lo, hi)
        left, right = node[1], node[2]
        if mid > lo:
            left = self.apply(left, depth + 1, lo, mid)
        if mid < hi:
            right = self.apply(right, depth + 1, mid, hi)
        if left is node[1] and right is node[2]:
            return node  # only deletes of absent keys reached here
        return _join(left, right)

    def _into_empty(self, depth: int, lo: int, hi: int) -> _Node | None:
        keys, leaves = self._present(lo, hi)
        self.size_delta += len(keys)
        return _build(keys, leaves, 0, len(keys), depth)

    def _into_leaf(self, leaf: _Node, depth: int, lo: int, hi: int) -> _Node | None:
        """Merge the changes into the subtree that holds just ``leaf``."""
        keys, leaves = self._present(lo, hi)
        leaf_key = int.from_bytes(leaf[1], "big")
        at = bisect_left(self.keys, leaf_key, lo, hi)
        if at == hi or self.keys[at] != leaf_key:  # the leaf itself is unchanged: keep it
            if not keys:
                return leaf
            at = bisect_left(keys, leaf_key)
            keys.insert(at, leaf_key)
            leaves.insert(at, leaf)
        self.size_delta += len(keys) - 1
        return _build(keys, leaves, 0, len(keys), depth)

    def _present(self, lo: int, hi: int) -> tuple[list[int], list[_Node]]:
        """The keys and new leaves of changes[lo:hi] that insert or replace, not delete."""
        keys: list[int] = []
        leaves: list[_Node] = []
        for i in range(lo, hi):
            leaf = self.leaves[i]
            if leaf is not None:
                keys.append(self.keys[i])
                leaves.append(leaf)
        return keys, leaves


def _build(keys: list[int], leaves: list[_Node], lo: int, hi: int, depth: int) -> _Node | None:
    """The subtree at ``depth`` over keys[lo:hi]: sorted, distinct, sharing their first ``depth``
    bits, with ``leaves`` aligned to them."""
    if hi - lo < 2:
        return leaves[lo] if hi > lo else None
    return _branch(keys, leaves, lo, hi, depth)


def _branch(keys: list[int], leaves: list[_Node], lo: int, hi: int, depth: int) -> _Node:
    """``_build`` for two keys or more. Recursion is at most 256 deep: one frame per branching
    level, never one per level."""
    first = keys[lo]
    # Sorted keys share every bit above the first one where the smallest and the largest differ:
    # the subtree branches there, and the levels above it have one child each.
    split = _LAST_BIT + 1 - (first ^ keys[hi - 1]).bit_length()
    assert split >= depth, "keys must share the subtree's prefix"
    shift = _LAST_BIT - split
    mid = bisect_left(keys, ((first >> shift) | 1) << shift, lo, hi)
    # Inline the common one-leaf case: it halves the calls of a bulk build.
    left = leaves[lo] if mid - lo == 1 else _branch(keys, leaves, lo, mid, split + 1)
    right = leaves[mid] if hi - mid == 1 else _branch(keys, leaves, mid, hi, split + 1)
    node: _Node = (sha256(INTERNAL_DOMAIN + left[0] + right[0]).digest(), left, right)
    if split == depth:  # the usual case: nothing to lift
        return node
    for level in range(split - 1, depth - 1, -1):  # the one-child levels, bottom-up
        if (first >> (_LAST_BIT - level)) & 1:
            node = (sha256(INTERNAL_DOMAIN + EMPTY_ROOT + node[0]).digest(), None, node)
        else:
            node = (sha256(INTERNAL_DOMAIN + node[0] + EMPTY_ROOT).digest(), node, None)
    return node


def _join(left: _Node | None, right: _Node | None) -> _Node | None:
    """The parent of two subtrees, keeping the shape canonical: a lone leaf rises to its parent's
    place (that is how a delete collapses a path), an empty pair is empty."""
    if left is None:
        if right is None or right[1].__class__ is bytes:
            return right
        return (sha256(INTERNAL_DOMAIN + EMPTY_ROOT + right[0]).digest(), None, right)
    if right is None:
        if left[1].__class__ is bytes:
            return left
        return (sha256(INTERNAL_DOMAIN + left[0] + EMPTY_ROOT).digest(), left, None)
    return (sha256(INTERNAL_DOMAIN + left[0] + right[0]).digest(), left, right)


def _descend(node: _Node | None, key: bytes) -> tuple[_Node | None, list[bytes]]:
    """Follow ``key``'s path to a leaf or an empty position; return it and the sibling hashes
    met on the way, top-down."""
    path = int.from_bytes(key, "big")
    siblings: list[bytes] = []
    shift = _LAST_BIT
    while node is not None and node[1].__class__ is not bytes:
        if (path >> shift) & 1:
            sibling, node = node[1], node[2]
        else:
            node, sibling = node[1], node[2]
        siblings.append(EMPTY_ROOT if sibling is None else sibling[0])
        shift -= 1
    return node, siblings


def _leaf_hash(key: bytes, value_hash: bytes) -> bytes:
    return sha256(LEAF_DOMAIN + key + value_hash).digest()


def _check_key(key: object) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_SIZE:
        raise ValueError(f"a key must be {KEY_SIZE} bytes, got {key!r}")


def _check_value(value: object) -> None:
    # bytes only: a bytearray could change after its hash went into the tree.
    if not isinstance(value, bytes):
        raise TypeError(f"a value must be bytes, got {type(value).__name__}")


def _check_pairs(keys: list[bytes], values: list[bytes]) -> None:
    """Check a bulk load's keys and values at C speed; look for the culprit only on failure."""
    if (
        set(map(type, keys)) <= {bytes}
        and set(map(len, keys)) <= {KEY_SIZE}
        and set(map(type, values)) <= {bytes}
    ):
        return
    for key, value in zip(keys, values, strict=True):
        _check_key(key)
        _check_value(value)


def _check_length(siblings: int) -> None:
    if siblings > MAX_PROOF_SIBLINGS:
        raise ProofError(
            ProofFailure.TOO_LONG, f"{siblings} siblings, at most {MAX_PROOF_SIBLINGS}"
        )


def _check_shapes(root: object, key: object, value: object, proof: object) -> None:
    """Reject, with MALFORMED or TOO_LONG, anything that is not a well-typed claim."""
    if not _is_digest(root):
        raise ProofError(ProofFailure.MALFORMED, "root must be 32 bytes")
    if not _is_digest(key):
        raise ProofError(ProofFailure.MALFORMED, f"key must be {KEY_SIZE} bytes")
    if value is not None and not isinstance(value, bytes):
        raise ProofError(ProofFailure.MALFORMED, "value must be bytes or None")
    if not isinstance(proof, Proof) or not isinstance(proof.siblings, tuple):
        raise ProofError(ProofFailure.MALFORMED, "not a Proof")
    _check_length(len(proof.siblings))
    # map() keeps this check at C speed: it would otherwise cost a fifth of a verification.
    if not (set(map(type, proof.siblings)) <= {bytes} and set(map(len, proof.siblings)) <= {32}):
        raise ProofError(ProofFailure.MALFORMED, "every sibling must be 32 bytes")
    leaf = proof.leaf
    if leaf is not None and not (
        isinstance(leaf, ProofLeaf) and _is_digest(leaf.key) and _is_digest(leaf.value_hash)
    ):
        raise ProofError(ProofFailure.MALFORMED, "leaf key and value_hash must be 32 bytes")
    if proof.siblings and proof.siblings[0] == EMPTY_ROOT:
        # The lowest level of an honest path always has a non-empty sibling: with an empty one,
        # the level above would hold a single leaf, or nothing, and would have collapsed.
        raise ProofError(ProofFailure.NON_CANONICAL, "lowest sibling is the empty placeholder")


def _check_membership(key: bytes, value: bytes, leaf: ProofLeaf | None) -> None:
    if leaf is None:
        raise ProofError(ProofFailure.WRONG_KIND, "non-membership proof (empty position)")
    if leaf.key != key:
        raise ProofError(ProofFailure.KEY_MISMATCH, f"proof is for key {leaf.key.hex()}")
    if sha256(value).digest() != leaf.value_hash:
        raise ProofError(ProofFailure.VALUE_MISMATCH, "value hash differs from the proof's leaf")


def _check_non_membership(key: bytes, leaf: ProofLeaf | None, depth: int) -> None:
    if leaf is None:
        return
    if leaf.key == key:
        raise ProofError(ProofFailure.WRONG_KIND, "membership proof: the key is present")
    # The other leaf must sit where the key would: share its first `depth` bits. The root check
    # only shows that some leaf sits on the key's path, and a dishonest tree may hold a leaf off
    # its own path; this check makes such a leaf useless as a witness.
    differ = int.from_bytes(key, "big") ^ int.from_bytes(leaf.key, "big")
    shared = 8 * KEY_SIZE - differ.bit_length()
    if shared < depth:
        raise ProofError(
            ProofFailure.PREFIX_MISMATCH,
            f"leaf shares {shared} leading bits with the key, the path is {depth} deep",
        )


def _is_digest(data: object) -> bool:
    return isinstance(data, bytes) and len(data) == 32


def _from_hex(text: object, what: str) -> bytes:
    if not isinstance(text, str) or not _HEX_DIGEST.fullmatch(text):
        raise ProofError(ProofFailure.MALFORMED, f"{what} must be 64 lowercase hex digits")
    return bytes.fromhex(text)
