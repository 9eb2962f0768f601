"""An append-only RFC 9162 Merkle log that answers roots and proofs for any size up to its head.

Storage layout: the log stores the hash of every *complete perfect subtree*, keyed by
``(level, index)``: level 0 holds the leaf hashes, and node ``(level, index)`` is the root of
leaves ``[index * 2**level, (index + 1) * 2**level)``. A perfect subtree never changes once its
last leaf arrives, so rows are written once and never updated, and every size up to the head is
answered from the same rows:

- ``root(size)`` folds the ``popcount(size)`` subtrees that the binary digits of ``size`` name;
- a proof is O(log n) leaf ranges (`anchoring.auditor.merkle.inclusion_proof_ranges`,
  `anchoring.auditor.merkle.consistency_proof_ranges`), each the fold of O(log n) stored subtrees,
  all fetched in one `NodeStore.get_many` call;
- ``append`` hashes the new leaf with the log's *frontier* (the perfect subtrees named by the
  binary digits of the size: O(log n) hashes kept in memory), so it costs one node hash
  amortised and log2(n) at most, and writes its rows in one `NodeStore.put_many` call.

A log of n leaves stores 2n - popcount(n) hashes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from hashlib import sha256
from itertools import repeat
from typing import NoReturn, Protocol

from anchoring.auditor.merkle import (
    EMPTY_ROOT,
    HASH_SIZE_BYTES,
    NODE_PREFIX,
    LeafRange,
    NodeKey,
    consistency_proof_ranges,
    fold_subtree_hashes,
    inclusion_proof_ranges,
    perfect_subtrees,
)

__all__ = ["MemoryNodeStore", "MerkleLog", "NodeRow", "NodeStore"]

NodeRow = tuple[int, int, bytes]
"""One stored perfect subtree: ``(level, index, hash)``."""

_LevelRun = tuple[int, int, list[bytes]]
"""New nodes of one level: ``(level, first index, hashes)``."""


class NodeStore(Protocol):
    """Where a `MerkleLog` keeps its perfect-subtree hashes: a table of (level, index, hash).

    What a store must guarantee (for SQL: primary key (level, index), one transaction per
    `put_many`, rows inserted in the order given):

    - Rows are only ever added, never changed or removed.
    - `put_many` is all-or-nothing. The log writes a leaf and the parents it completes in one
      call; a store that kept half a batch would lose subtree hashes for good.
    - `leaf_count` is the number of level-0 rows; a log reopens at that size.

    One writer at a time: the log keeps its frontier in memory and does not re-read it.
    """

    def leaf_count(self) -> int:
        """Number of leaves stored (rows at level 0)."""
        ...

    def get_many(self, keys: Sequence[NodeKey]) -> list[bytes]:
        """Hashes of the ``(level, index)`` keys, in the order asked; every key must exist."""
        ...

    def put_many(self, rows: Iterable[NodeRow]) -> None:
        """Store ``(level, index, hash)`` rows, atomically. ``rows`` may be a one-pass iterator
        (the log streams large batches rather than building millions of tuples)."""
        ...


class MemoryNodeStore:
    """`NodeStore` in memory: one flat list per level, the list position being the index.

    A read is one indexing step and a write one list append. The log writes each level's rows
    in index order, so a row that would not land at the end of its level's list is refused (and
    the batch taken back), which is what a primary key does for a SQL store.
    """

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = [[]]

    def leaf_count(self) -> int:
        return len(self._levels[0])

    def get_many(self, keys: Sequence[NodeKey]) -> list[bytes]:
        levels = self._levels
        try:
            return [levels[level][index] for level, index in keys]
        except IndexError:
            missing = [key for key in keys if not self._holds(key)]
            raise KeyError(f"nodes not stored: {missing[:5]}") from None

    def put_many(self, rows: Iterable[NodeRow]) -> None:
        levels = self._levels
        leaves_before = len(levels[0])
        try:
            for level, index, node in rows:
                if level >= len(levels):
                    self._open_level(level)
                hashes = levels[level]
                if index != len(hashes):
                    raise ValueError(
                        f"node ({level}, {index}) is not the next at level {level} "
                        f"(that is index {len(hashes)}): the store is append-only"
                    )
                hashes.append(node)
        except BaseException:
            self._truncate_to(leaves_before)
            raise

    def _open_level(self, level: int) -> None:
        if level != len(self._levels):
            raise ValueError(f"node at level {level} before any at level {len(self._levels)}")
        self._levels.append([])

    def _holds(self, key: NodeKey) -> bool:
        level, index = key
        return 0 <= level < len(self._levels) and 0 <= index < len(self._levels[level])

    def _truncate_to(self, leaf_count: int) -> None:
        """Take back a refused batch. Between batches the store holds exactly the complete
        perfect subtrees of its leaves, so the leaf count alone says what was there before;
        remembering only that keeps a valid batch's cost at one walk over its rows."""
        for level, hashes in enumerate(self._levels):
            del hashes[leaf_count >> level :]


class MerkleLog:
    """Append-only RFC 9162 log over a `NodeStore`; leaves are 32-byte leaf hashes.

    Entries are hashed by the caller (`anchoring.auditor.merkle.leaf_hash`), so the log never
    sees or stores entry bytes. Not thread-safe: the journal appends under its own writer lock.
    """

    def __init__(self, store: NodeStore) -> None:
        self._store = store
        self._size = store.leaf_count()
        self._frontier = self._load_frontier()

    @property
    def size(self) -> int:
        """Number of leaves in the log (its head)."""
        return self._size

    def append(self, leaf_hash: bytes) -> int:
        """Add one leaf hash; returns its index. Writes the leaf and any parents it completes.

        If the store refuses the write, the log is unchanged: the one frontier slot written
        below is a stale one (its bit of the old size is 0), so nothing valid is lost.
        """
        if type(leaf_hash) is not bytes or len(leaf_hash) != HASH_SIZE_BYTES:
            _refuse_leaf_hash(leaf_hash, 0)
        index = self._size
        frontier = self._frontier
        rows: list[NodeRow] = [(0, index, leaf_hash)]
        carry, level, position = leaf_hash, 0, index
        # Like incrementing a binary counter: each trailing 1-bit of the index is a left sibling
        # in the frontier that the new node completes.
        while position & 1:
            carry = sha256(NODE_PREFIX + frontier[level] + carry).digest()
            level += 1
            position >>= 1
            rows.append((level, position, carry))
        if level < len(frontier):
            frontier[level] = carry
        else:
            frontier.append(carry)
        self._store.put_many(rows)
        self._size = index + 1
        return index

    def extend(self, leaf_hashes: Iterable[bytes]) -> int:
        """Add many leaf hashes in one store write; returns the new size.

        Hashes a whole level at a time, which is faster than repeated `append` for batches.
        """
        leaves = list(leaf_hashes)
        if set(map(type, leaves)) - {bytes} or set(map(len, leaves)) - {HASH_SIZE_BYTES}:
            for position, value in enumerate(leaves):
                if type(value) is not bytes or len(value) != HASH_SIZE_BYTES:
                    _refuse_leaf_hash(value, position)
        if not leaves:
            return self._size
        frontier = list(self._frontier)  # committed only once the store took the batch
        runs = _new_nodes_by_level(self._size, leaves, frontier)
        self._store.put_many(_rows_of(runs))
        self._frontier = frontier
        self._size += len(leaves)
        return self._size

    def root(self, size: int | None = None) -> bytes:
        """RFC 9162 root of the first ``size`` leaves (default: the head); any earlier size too."""
        size = self._size if size is None else size
        self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        return fold_subtree_hashes(self._store.get_many(perfect_subtrees(0, size)))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 inclusion proof for leaf ``index`` in the tree of the first ``size`` leaves."""
        self._check_size(size)
        return self._range_hashes(inclusion_proof_ranges(index, size))

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """RFC 9162 proof that the tree of ``size2`` leaves extends that of ``size1`` leaves."""
        self._check_size(size2)
        return self._range_hashes(consistency_proof_ranges(size1, size2))

    def _range_hashes(self, ranges: Sequence[LeafRange]) -> list[bytes]:
        """Hash of each leaf range, from one batched read of the subtrees they consist of."""
        subtrees_per_range = [perfect_subtrees(begin, end) for begin, end in ranges]
        stored = self._store.get_many([key for keys in subtrees_per_range for key in keys])
        hashes: list[bytes] = []
        offset = 0
        for keys in subtrees_per_range:
            hashes.append(fold_subtree_hashes(stored[offset : offset + len(keys)]))
            offset += len(keys)
        return hashes

    def _load_frontier(self) -> list[bytes]:
        """Frontier of a reopened log. Entry ``level`` is valid where the size has that bit set;
        the others are placeholders that `append` and `extend` never read."""
        frontier = [EMPTY_ROOT] * self._size.bit_length()
        keys = perfect_subtrees(0, self._size)
        for (level, _index), node in zip(keys, self._store.get_many(keys), strict=True):
            frontier[level] = node
        return frontier

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self._size:
            raise ValueError(f"size {size} is outside 0..{self._size}, the log's head")


def _new_nodes_by_level(
    old_size: int, leaves: list[bytes], frontier: list[bytes]
) -> list[_LevelRun]:
    """Every perfect subtree that appending ``leaves`` completes, level by level.

    Updates ``frontier`` in place to the frontier of the new size.
    """
    runs: list[_LevelRun] = []
    level, first_index, row = 0, old_size, leaves
    while row:
        runs.append((level, first_index, row))
        if first_index & 1:
            # The first new node's left sibling is older: it is in the frontier.
            row = [frontier[level], *row]
            first_index -= 1
        if len(row) & 1:
            # An unpaired last node is the subtree that the new size's bit at `level` names.
            _set_frontier(frontier, level, row[-1])
        pairs = iter(row)  # zip(pairs, pairs) walks the row two at a time; odd ends handled above
        row = [
            sha256(NODE_PREFIX + left + right).digest()
            for left, right in zip(pairs, pairs, strict=False)
        ]
        level, first_index = level + 1, first_index >> 1
    return runs


def _rows_of(runs: Sequence[_LevelRun]) -> Iterator[NodeRow]:
    """Stream runs as rows; zip recycles its tuple when the consumer lets go of it."""
    for level, first_index, hashes in runs:
        yield from zip(repeat(level), range(first_index, first_index + len(hashes)), hashes)


def _set_frontier(frontier: list[bytes], level: int, node: bytes) -> None:
    if level >= len(frontier):
        # A batch can reach several new levels at once; the slots between are never read.
        frontier.extend([EMPTY_ROOT] * (level + 1 - len(frontier)))
    frontier[level] = node


def _refuse_leaf_hash(value: object, position: int) -> NoReturn:
    raise ValueError(
        f"leaf hash {position} must be {HASH_SIZE_BYTES} bytes, got {value!r:.80}; "
        "hash the entry with anchoring.auditor.merkle.leaf_hash"
    )
