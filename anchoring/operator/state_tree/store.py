"""The state commitment's tree, persisted: nodes in the ledger's database, versioned per
checkpoint, read through a bounded cache. Every statement of the persisted tree is here.

    tree = TreeStore()                               # cache of DEFAULT_CACHE_BYTES
    tree.apply(tx, number, {key: value | None})      # -> the root at checkpoint `number`
    tree.root_at(tx, number); tree.prove(tx, key, number); tree.get(tx, key, number)
    tree.build_from_leaves(tx, number)               # once, for a ledger that has no nodes
    tree.prune(tx, latest, keep, pinned)             # drop what only old checkpoints need
    tree.committed(); tree.rolled_back()             # after the transaction of an `apply`

Tables (ledger/store/schema.py):

    state_tree_nodes(version, path, node)         primary key (version, path)
    state_tree_stale(stale_since, version, path)  primary key (stale_since, version, path)

A node is written once, at the checkpoint (`version`) that made it, under its nibble path, and
never changed (anchoring/operator/state_tree/nodes.py: 16 slots, each empty, an inline leaf, or
a child node named by its hash and version, as jmt's internal nodes name their children's
versions). A checkpoint writes only the nodes on the paths of the keys it changed, and its root
always. The node it replaces is recorded in `state_tree_stale` under the checkpoint that
replaced it: a node stale since S was part of the trees of checkpoints version..S-1 only, which
is what pruning needs to know. The key puts `version` first: a checkpoint's nodes are appended
together at the end of the index, and each read is a point lookup by the full key.

Why 16-ary nodes rather than one row per binary node: a proof reads one row per four levels
(about 6 at 10 million keys, 64 at most), an update reads and writes a quarter as many rows, a
leaf is kept inline in its parent rather than in a row of its own, and the table holds about a
third of a row per key (~100 bytes a key) rather than two rows. Hashing the 4 levels inside a
node costs at most 15 SHA-256 per node, which is cheaper than the rows it saves.

Values are not in the tree: a leaf holds its key and the hash of its value, and `get` reads
the value from the leaf versions (state_leaves) and checks it against that hash.

The cache keeps decoded nodes, least recently used first out, up to `cache_bytes` of the
memory they take (counted per node as sys.getsizeof measures it: ~400 bytes, plus ~190 a
present slot; a full node of the upper levels ~3 KB). The default, 96 MiB, holds every node
of the top four levels at 10 million keys and the most used of the fifth. A proof
or an update touches the cached levels for free and reads the rest in one batched query per
level. Nodes an `apply` writes enter the cache only once its transaction committed
(`committed`): a rolled-back checkpoint's nodes would otherwise answer for the one that
replaces it under the same version.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, Final

from anchoring.auditor.smt import EMPTY_ROOT, KEY_SIZE, Proof, ProofLeaf
from anchoring.operator.errors import CheckpointError, OperatorFailure, StoreInconsistent
from anchoring.operator.state_tree.nodes import (
    EMPTY_NODE,
    SLOTS,
    Leaf,
    Node,
    Slot,
    decode,
    encode,
    is_leaf,
    levels,
    nibble,
    node_hash,
    only_leaf,
    weight,
)
from anchoring.operator.state_tree.update import Batch, NodeKey, build_group, build_top
from anchoring.operator.state_versions import leaf_at
from ledger.store.sql import SqlTransaction

DEFAULT_CACHE_BYTES: Final = 96 * 2**20
# What a cached node costs, measured with sys.getsizeof: its 16-slot tuple, its key and the
# cache's entry; then each present slot (a leaf, a pair of 32-byte bytes: 186; a child: 153).
_NODE_BYTES: Final = 400
_SLOT_BYTES: Final = 190
_READ_CHUNK: Final = 2_000  # node keys per statement (on SQLite two parameters each)
_WRITE_CHUNK: Final = 20_000  # rows per insert while building a whole tree
PRUNE_PAGE: Final = 5_000


class VersionNotStored(CheckpointError, LookupError):
    """The checkpoint has no persisted tree: it was pruned, or cut before the ledger kept its
    tree's nodes. Its proofs come from the slow path, a rebuild from the leaf versions
    (anchoring.operator.state_commitment.rebuild_at), which are never pruned."""

    def __init__(self, version: int) -> None:
        super().__init__(f"checkpoint {version} has no persisted state tree (pruned, or cut "
                         "before the tree was persisted): its tree is rebuilt from the leaf "
                         "versions instead")
        self.version = version

    code = OperatorFailure.state_tree_not_stored


@dataclass(frozen=True)
class Pruned:
    """What one `prune` did: nodes deleted, and the oldest checkpoint whose tree it kept
    whole (every later one is kept too, with the pinned ones)."""

    nodes: int
    oldest_kept: int
    complete: bool  # False: it stopped at `max_nodes`; the next call goes on


PRUNE_PER_CUT: Final = 50_000
"""Nodes the checkpointer deletes at most per cut when a retention is set: a first prune of a
long history spreads over the following cuts instead of holding one."""


@dataclass(frozen=True)
class TreeRetention:
    """Which checkpoints keep their persisted tree: the latest `keep`, the `pinned` ones (an
    operator's choice: checkpoints whose proofs are still asked for), and the latest anchored
    one. The others are pruned; their proofs then come from a rebuild from the leaf versions."""

    keep: int
    pinned: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.keep, bool) or not isinstance(self.keep, int) or self.keep < 1:
            raise ValueError(f"keep must be a whole number of checkpoints from 1, got "
                             f"{self.keep!r}")
        if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in self.pinned):
            raise ValueError(f"pinned checkpoints are numbers from 1, got {list(self.pinned)!r}")


class TreeStore:
    """The persisted tree of one ledger, with the cache of one process. Any number of threads
    may read through one object; `apply` is for one writer (the checkpointer)."""

    def __init__(self, cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        if cache_bytes < 0:
            raise ValueError("a cache of a negative size")
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[NodeKey, tuple[Node, int]] = OrderedDict()  # node, its cost
        self._cached_bytes = 0
        self._lock = threading.Lock()
        self._pending: list[tuple[NodeKey, Node]] = []

    # --- reading ------------------------------------------------------------------------------

    def has_version(self, tx: SqlTransaction, version: int) -> bool:
        return version == 0 or self._root_node(tx, version) is not None

    def root_at(self, tx: SqlTransaction, version: int) -> bytes:
        """The state root of checkpoint `version` (0: the empty tree before any)."""
        return node_hash(self._root(tx, version))

    def prove(self, tx: SqlTransaction, key: bytes, version: int) -> Proof:
        """smt's proof of `key` at checkpoint `version`: membership if the key is present,
        else non-membership; the same bytes smt.SparseMerkleTree.prove gives."""
        leaf, siblings = self._descend(tx, key, version)
        proven = None if leaf is None else ProofLeaf(leaf[0], leaf[1])
        siblings.reverse()
        return Proof(proven, tuple(siblings))

    def value_hash(self, tx: SqlTransaction, key: bytes, version: int) -> bytes | None:
        """The hash of `key`'s value at checkpoint `version`; None: absent."""
        leaf, _ = self._descend(tx, key, version, want_siblings=False)
        return leaf[1] if leaf is not None and leaf[0] == key else None

    def get(self, tx: SqlTransaction, key: bytes, version: int) -> bytes | None:
        """`key`'s value at checkpoint `version`, from the leaf versions, checked against the
        tree; None: absent."""
        expected = self.value_hash(tx, key, version)
        if expected is None:
            return None
        value = leaf_at(tx, key, version)
        if value is None or sha256(value).digest() != expected:
            raise StoreInconsistent(
                f"key {key.hex()} at checkpoint {version}: its stored leaf version does not "
                "hash to the persisted tree's leaf; the table state_leaves or state_tree_nodes "
                "was changed; run `carbonledger audit`")
        return value

    def leaves(self, tx: SqlTransaction, version: int) -> Iterator[Leaf]:
        """Every (key, value hash) of checkpoint `version`'s tree, in no set order: read a few
        thousand nodes at a time, so memory stays bounded at any size."""
        found = {(version, b""): self._root(tx, version)}
        pending: list[NodeKey] = [(version, b"")]
        while pending:
            batch, pending = pending[-_READ_CHUNK:], pending[:-_READ_CHUNK]
            found.update(self._load(tx, [key for key in batch if key not in found],
                                    cache=False))
            for key in batch:
                path = key[1]
                for index, slot in enumerate(found.pop(key)):
                    if slot is None:
                        continue
                    if is_leaf(slot):
                        yield slot  # type: ignore[misc]
                    else:
                        pending.append((slot[1], path + bytes([index])))  # type: ignore[arg-type]

    def _descend(self, tx: SqlTransaction, key: bytes, version: int,
                 want_siblings: bool = True) -> tuple[Leaf | None, list[bytes]]:
        """The leaf at the end of `key`'s path (None: an empty position), and the sibling
        hashes met on the way, top-down."""
        if not isinstance(key, bytes) or len(key) != KEY_SIZE:
            raise ValueError(f"a key must be {KEY_SIZE} bytes, got {key!r}")
        node = self._root(tx, version)
        siblings: list[bytes] = []
        if weight(node) < 2:  # an empty tree, or one leaf: the root is no internal node
            return only_leaf(node), siblings
        path = b""
        while True:
            index = nibble(key, len(path))
            hashes = levels(node) if want_siblings else []
            lo, hi, level = 0, 16, 4
            while True:
                mid = (lo + hi) >> 1
                level -= 1
                if index >= mid:
                    if want_siblings:
                        siblings.append(hashes[level][lo >> level])
                    lo = mid
                else:
                    if want_siblings:
                        siblings.append(hashes[level][mid >> level])
                    hi = mid
                held = weight(node, lo, hi)
                if held < 2:
                    return only_leaf(node, lo, hi), siblings
                if hi - lo == 1:
                    break
            child = node[index]
            assert child is not None and not is_leaf(child)
            path += bytes([index])
            child_key: NodeKey = (child[1], path)  # type: ignore[assignment]
            node = self._load(tx, [child_key])[child_key]

    def _root(self, tx: SqlTransaction, version: int) -> Node:
        if version == 0:
            return EMPTY_NODE
        node = self._root_node(tx, version)
        if node is None:
            raise VersionNotStored(version)
        return node

    def _root_node(self, tx: SqlTransaction, version: int) -> Node | None:
        key = (version, b"")
        node = self._cached(key)
        if node is None:
            row = tx.one("SELECT node FROM state_tree_nodes WHERE version = :version "
                         "AND path = :path", {"version": version, "path": b""})
            if row is None:
                return None
            node = _decoded(key, bytes(row[0]))
            self._remember(key, node)
        return node

    def _load(self, tx: SqlTransaction, keys: Sequence[NodeKey], *,
              cache: bool = True) -> dict[NodeKey, Node]:
        """The nodes at `keys`, from the cache or in batched reads; a node named by its parent
        and missing from the table is a changed table (StoreInconsistent)."""
        found: dict[NodeKey, Node] = {}
        missing: list[NodeKey] = []
        for key in keys:
            node = self._cached(key) if cache else None
            if node is None:
                missing.append(key)
            else:
                found[key] = node
        for start in range(0, len(missing), _READ_CHUNK):
            chunk = missing[start:start + _READ_CHUNK]
            for version, path, blob in _select_nodes(tx, chunk):
                key = (int(version), bytes(path))
                node = _decoded(key, bytes(blob))
                if cache:
                    self._remember(key, node)
                found[key] = node
        absent = [key for key in missing if key not in found]
        if absent:
            version, path = absent[0]
            raise StoreInconsistent(
                f"the persisted state tree names node {path.hex() or 'root'} of checkpoint "
                f"{version}, and it is not stored ({len(absent)} such): the table "
                "state_tree_nodes was changed; run `carbonledger audit`")
        return found

    # --- writing -----------------------------------------------------------------------------

    def apply(self, tx: SqlTransaction, version: int,
              changes: Mapping[bytes, bytes | None]) -> bytes:
        """Write checkpoint `version`'s tree: checkpoint version - 1's with `changes` (key ->
        value, None: delete). Reads only the nodes on the changed keys' paths; writes the new
        ones, and records the ones they replace as stale since `version`. Returns the root."""
        if version < 1:
            raise ValueError(f"checkpoints are numbered from 1, got {version}")
        ordered = []
        for key in sorted(changes):
            value = changes[key]
            if not isinstance(key, bytes) or len(key) != KEY_SIZE:
                raise ValueError(f"a key must be {KEY_SIZE} bytes, got {key!r}")
            if value is not None and not isinstance(value, bytes):
                raise TypeError(f"a value must be bytes, got {type(value).__name__}")
            ordered.append((key, None if value is None else sha256(value).digest()))
        try:
            base = self._root(tx, version - 1)
        except VersionNotStored:
            raise StoreInconsistent(
                f"checkpoint {version - 1} has no persisted state tree to build checkpoint "
                f"{version}'s on") from None
        batch = Batch(version, ordered)
        root = batch.apply(version - 1, base, lambda keys: self._load(tx, keys))
        _insert_nodes(tx, [((version, path), encode(node)) for path, node in batch.written])
        _insert_stale(tx, version, batch.stale)
        self._pending.extend(((version, path), node) for path, node in batch.written)
        return node_hash(root)

    def committed(self) -> None:
        """The transaction of the last `apply` committed: its nodes may now be cached."""
        for key, node in self._pending:
            self._remember(key, node)
        self._pending.clear()

    def rolled_back(self) -> None:
        """The transaction of the last `apply` rolled back: forget its nodes."""
        self._pending.clear()

    def build_from_leaves(self, tx: SqlTransaction, version: int) -> bytes:
        """Write the tree of the latest checkpoint, `version`, from its current leaf versions:
        what a ledger cut before its tree was persisted does once. Earlier checkpoints keep no
        tree (their proofs rebuild). Returns the root. Reads and builds one 256th of the keys
        at a time, so memory stays bounded at any size."""
        self.build_groups(tx, version, range(256))
        return self.build_top(tx, version)

    def build_groups(self, tx: SqlTransaction, version: int, first_bytes: Iterable[int]) -> None:
        """`build_from_leaves`'s first part, for the keys starting with `first_bytes`: a
        caller may commit these parts in transactions of their own, provided no checkpoint is
        cut meanwhile (a benchmark building millions of keys does), then `build_top`."""
        rows: list[tuple[NodeKey, bytes]] = []
        for byte in first_bytes:
            entries = [(key, sha256(value).digest())
                       for key, value in _current_leaves_from(tx, byte)]
            _, written = build_group(version, byte, entries)
            rows.extend(((version, path), encode(node)) for path, node in written)
            if len(rows) >= _WRITE_CHUNK:
                _insert_nodes(tx, rows)
                rows.clear()
        _insert_nodes(tx, rows)

    def build_top(self, tx: SqlTransaction, version: int) -> bytes:
        """`build_from_leaves`'s last part: the top two levels over the 256 groups' nodes (or,
        for a group of fewer than two keys, its leaf). Returns the root."""
        groups: list[Slot] = []
        for byte in range(256):
            key = (version, bytes([byte >> 4, byte & 0x0F]))
            row = tx.one("SELECT node FROM state_tree_nodes WHERE version = :version AND "
                         "path = :path", {"version": key[0], "path": key[1]})
            if row is not None:
                groups.append((node_hash(_decoded(key, bytes(row[0]))), version))
                continue
            entries = [(k, sha256(v).digest()) for k, v in _current_leaves_from(tx, byte)]
            if len(entries) > 1:
                raise StoreInconsistent(f"the keys of first byte {byte:02x} have no built node "
                                        f"at checkpoint {version}: build_groups first")
            groups.append(entries[0] if entries else None)
        root, written = build_top(version, groups)
        _insert_nodes(tx, [((version, path), encode(node)) for path, node in written])
        return node_hash(root)

    # --- pruning -----------------------------------------------------------------------------

    def prune(self, tx: SqlTransaction, latest: int, keep: int, pinned: Iterable[int] = (),
              max_nodes: int | None = None) -> Pruned:
        """Delete the nodes that only checkpoints before `latest - keep + 1` need, except those
        of `pinned` checkpoints. A checkpoint so pruned has no persisted tree any longer: its
        proofs come from the slow path (a rebuild from the leaf versions, never pruned).
        `max_nodes` bounds the work of one call (`Pruned.complete` says whether it finished)."""
        if keep < 1:
            raise ValueError(f"keep at least the latest checkpoint's tree, not {keep}")
        oldest_kept = max(1, latest - keep + 1)
        pins = sorted(set(pinned))
        deleted = 0
        after: tuple[int, int, bytes] | None = None
        while True:
            rows = _stale_page(tx, oldest_kept, after)
            if not rows:
                return Pruned(deleted, oldest_kept, True)
            doomed = [row for row in rows if not _pinned(pins, row[1], row[0])]
            if max_nodes is not None and deleted + len(doomed) > max_nodes:
                doomed = doomed[:max_nodes - deleted]
                _delete(tx, doomed)
                return Pruned(deleted + len(doomed), oldest_kept, False)
            _delete(tx, doomed)
            deleted += len(doomed)
            after = rows[-1]

    # --- the cache ---------------------------------------------------------------------------

    def _cached(self, key: NodeKey) -> Node | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return None
            self._cache.move_to_end(key)
            return entry[0]

    def _remember(self, key: NodeKey, node: Node) -> None:
        cost = _NODE_BYTES + _SLOT_BYTES * (SLOTS - node.count(None))
        if cost > self.cache_bytes:
            return
        with self._lock:
            old = self._cache.pop(key, None)
            if old is not None:
                self._cached_bytes -= old[1]
            self._cache[key] = (node, cost)
            self._cached_bytes += cost
            while self._cached_bytes > self.cache_bytes:
                _, (_, dropped) = self._cache.popitem(last=False)
                self._cached_bytes -= dropped

    @property
    def cached_nodes(self) -> int:
        return len(self._cache)

    @property
    def cached_bytes(self) -> int:
        """The memory the cached nodes take, as counted against `cache_bytes`."""
        return self._cached_bytes


def _decoded(key: NodeKey, blob: bytes) -> Node:
    try:
        return decode(blob)
    except ValueError as exc:
        raise StoreInconsistent(f"node {key[1].hex() or 'root'} of checkpoint {key[0]} of the "
                                f"persisted state tree is unreadable ({exc}): the table "
                                "state_tree_nodes was changed; run `carbonledger audit`") from exc


def _pinned(pins: list[int], version: int, stale_since: int) -> bool:
    """Is a pinned checkpoint among version..stale_since-1, the ones a node is part of?"""
    from bisect import bisect_left

    at = bisect_left(pins, version)
    return at < len(pins) and pins[at] < stale_since


# --- statements ----------------------------------------------------------------------------

def _select_nodes(tx: SqlTransaction, keys: Sequence[NodeKey]) -> list[Any]:
    if tx.dialect == "postgresql":
        return tx.all("SELECT n.version, n.path, n.node FROM state_tree_nodes n JOIN "
                      "unnest(:versions::bigint[], :paths::bytea[]) AS k(version, path) "
                      "ON n.version = k.version AND n.path = k.path",
                      {"versions": [v for v, _ in keys], "paths": [p for _, p in keys]})
    params: dict[str, Any] = {}
    rows = []
    for i, (version, path) in enumerate(keys):
        params[f"v{i}"], params[f"p{i}"] = version, path
        rows.append(f"(:v{i}, :p{i})")
    # a join with the keys, not `(version, path) IN (VALUES ...)`: SQLite scans the whole
    # table for that one, and looks each key up in the primary key for this one
    return tx.all(f"WITH k(version, path) AS (VALUES {', '.join(rows)}) SELECT n.version, "
                  "n.path, n.node FROM k JOIN state_tree_nodes n ON n.version = k.version AND "
                  "n.path = k.path", params)


def _insert_nodes(tx: SqlTransaction, rows: Sequence[tuple[NodeKey, bytes]]) -> None:
    tx.executemany("INSERT INTO state_tree_nodes (version, path, node) "
                   "VALUES (:version, :path, :node)",
                   [{"version": version, "path": path, "node": blob}
                    for (version, path), blob in rows])


def _insert_stale(tx: SqlTransaction, since: int, keys: Sequence[NodeKey]) -> None:
    tx.executemany("INSERT INTO state_tree_stale (stale_since, version, path) "
                   "VALUES (:since, :version, :path)",
                   [{"since": since, "version": version, "path": path}
                    for version, path in keys])


def _stale_page(tx: SqlTransaction, oldest_kept: int,
                after: tuple[int, int, bytes] | None) -> list[tuple[int, int, bytes]]:
    """Stale nodes no kept checkpoint (oldest_kept on) needs, in key order after `after`."""
    if after is None:
        rows = tx.all("SELECT stale_since, version, path FROM state_tree_stale "
                      "WHERE stale_since <= :oldest ORDER BY stale_since, version, path "
                      f"LIMIT {PRUNE_PAGE}", {"oldest": oldest_kept})
    else:
        rows = tx.all("SELECT stale_since, version, path FROM state_tree_stale "
                      "WHERE stale_since <= :oldest AND (stale_since, version, path) > "
                      "(:since, :version, :path) ORDER BY stale_since, version, path "
                      f"LIMIT {PRUNE_PAGE}",
                      {"oldest": oldest_kept, "since": after[0], "version": after[1],
                       "path": after[2]})
    return [(int(a), int(b), bytes(c)) for a, b, c in rows]


def _delete(tx: SqlTransaction, rows: Sequence[tuple[int, int, bytes]]) -> None:
    """Delete stale nodes and their stale records."""
    for start in range(0, len(rows), _READ_CHUNK):
        chunk = rows[start:start + _READ_CHUNK]
        if tx.dialect == "postgresql":
            arrays = {"since": [r[0] for r in chunk], "versions": [r[1] for r in chunk],
                      "paths": [r[2] for r in chunk]}
            tx.execute("DELETE FROM state_tree_nodes n USING unnest(:versions::bigint[], "
                       ":paths::bytea[]) AS k(version, path) WHERE n.version = k.version AND "
                       "n.path = k.path", arrays)
            tx.execute("DELETE FROM state_tree_stale s USING unnest(:since::bigint[], "
                       ":versions::bigint[], :paths::bytea[]) AS k(since, version, path) "
                       "WHERE s.stale_since = k.since AND s.version = k.version AND "
                       "s.path = k.path", arrays)
            continue
        keys = [{"since": since, "version": version, "path": path}
                for since, version, path in chunk]  # point deletes: each one an index seek
        tx.executemany("DELETE FROM state_tree_nodes WHERE version = :version AND "
                       "path = :path", keys)
        tx.executemany("DELETE FROM state_tree_stale WHERE stale_since = :since AND "
                       "version = :version AND path = :path", keys)


def _current_leaves_from(tx: SqlTransaction, byte: int) -> list[tuple[bytes, bytes]]:
    """The current leaf versions whose key starts with `byte`, in key order: a range of the
    primary key (key, from_checkpoint), so a build reads the table in 256 bounded slices.
    (`+to_checkpoint`: SQLite would otherwise pick the index on to_checkpoint, and read every
    current leaf for each slice.)"""
    low = bytes([byte])
    if byte == 255:
        rows = tx.all("SELECT key, value FROM state_leaves WHERE key >= :low AND "
                      "+to_checkpoint IS NULL ORDER BY key", {"low": low})
    else:
        rows = tx.all("SELECT key, value FROM state_leaves WHERE key >= :low AND key < :high "
                      "AND +to_checkpoint IS NULL ORDER BY key",
                      {"low": low, "high": bytes([byte + 1])})
    return [(bytes(key), bytes(value)) for key, value in rows]


__all__ = ["DEFAULT_CACHE_BYTES", "EMPTY_ROOT", "PRUNE_PER_CUT", "Pruned", "TreeRetention",
           "TreeStore", "VersionNotStored"]
