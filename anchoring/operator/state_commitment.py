"""The state commitment of one process, at the latest checkpoint: its tree in the database.

The tree's nodes live in the ledger's database, versioned per checkpoint
(anchoring.operator.state_tree), read through a bounded cache; a cut writes only the nodes on
the paths of the leaves it changed, in the cut's own transaction, so a checkpoint and its tree
commit together. A cut reads the touched leaves' current values, keeps those that differ from
the previous ones, applies them to the persisted tree and records the new leaf versions.
Beside the tree it keeps a plain dict of the latest checkpoint's leaves: "did this leaf
change?" is then a dict lookup, not a walk down the tree.

Beside both it keeps, once the transition check first asks for it, an index of the lots
among the leaves (anchoring.operator.lot_index), moved with the changed leaves.

A process that starts loads the leaves from the stored versions and checks them against the
persisted tree, whose root it checks against the signed one; one that finds another process
has cut since moves its leaves on by the versions those checkpoints recorded. Neither
rebuilds the tree. A ledger cut before its tree was persisted builds the latest checkpoint's
tree from its leaves once, in its next cut. Proofs at any checkpoint come from the persisted
tree; a checkpoint without one (pruned, or cut before) is rebuilt from its leaf versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from hashlib import sha256
from typing import TYPE_CHECKING, Any, Final

from anchoring.auditor.smt import EMPTY_ROOT, Proof, Snapshot, SparseMerkleTree
from anchoring.auditor.state_changes import touched_by
from anchoring.operator.errors import OperatorFailure, StoreInconsistent
from anchoring.operator.lot_index import LotIndex
from anchoring.operator.state_tree import TreeStore, VersionNotStored
from anchoring.operator.state_versions import (
    closed_at,
    current_leaves,
    leaf_read,
    leaves_at,
    opened_at,
    record_versions,
)
from ledger.store.sql import SqlTransaction
from ledger.store.state_leaves import Leaves

if TYPE_CHECKING:
    from ledger.modules import OperationSet
    from ledger.store.database import Store

CATCH_UP_CHECKPOINTS: Final = 100
"""A process this many checkpoints behind or fewer moves its leaves on by the versions they
recorded; further behind, it loads them anew."""


class StateLeavesMismatch(StoreInconsistent):
    """The stored leaf versions do not rebuild a signed state root."""

    code = OperatorFailure.state_leaves_mismatch


class StateCommitment:
    """`store`: where `snapshot` reads (a checkpointer hands its ledger's); `tree`: the
    persisted tree, with its cache (one per process is enough)."""

    def __init__(self, store: Store | None = None, tree: TreeStore | None = None) -> None:
        self.tree = tree or TreeStore()
        self._store = store
        self._root: bytes | None = None  # the root of the checkpoint reflected; None: none
        self._values: dict[bytes, bytes] = {}
        self._number = -1  # the checkpoint reflected; -1: none loaded
        # the lots among the values, indexed as the engine asks for lots (by holding, by
        # serial, by lien), for the transition check; built on first use after a load, then
        # moved with the values
        self._lots: LotIndex | None = None
        self._built_uncommitted = False  # `sync` built the tree in a transaction still open
        self._reader = StateReader(self.tree)

    @property
    def number(self) -> int:
        return self._number

    @property
    def leaves(self) -> Mapping[bytes, bytes]:
        """The leaves of the checkpoint reflected: key -> value."""
        return self._values

    def previous(self, key: bytes) -> bytes | None:
        return self._values.get(key)

    def lot_index(self) -> LotIndex:
        """The live lots of the checkpoint reflected (anchoring.operator.transition); built
        from the leaves the first time it is asked for after a load."""
        assert self._root is not None, "nothing loaded"
        if self._lots is None:
            self._lots = LotIndex.of(self._values.values())
        return self._lots

    @property
    def root(self) -> bytes:
        assert self._root is not None, "nothing loaded"
        return self._root

    def sync(self, tx: SqlTransaction, number: int, state_root: bytes) -> None:
        """Reflect checkpoint `number` (0: before any), whose signed state root is
        `state_root`. Its persisted tree must have that root (a ledger cut before the tree was
        persisted builds it here, from the leaf versions, in `tx`), and the leaves must be the
        tree's: anything else is refused as a changed table."""
        if self._root is not None and self._number == number and self._root == state_root \
                and not self._built_uncommitted:  # (a tree built in a transaction since gone)
            return
        try:
            if self.tree.has_version(tx, number):
                self._built_uncommitted = False  # committed, whoever built it
                persisted = self.tree.root_at(tx, number)
                if persisted != state_root:
                    raise StateLeavesMismatch(
                        f"the persisted state tree of checkpoint {number} has root "
                        f"{persisted.hex()}, but the checkpoint signed {state_root.hex()}: the "
                        "table state_tree_nodes was changed; run `carbonledger audit`")
            else:
                built = self.tree.build_from_leaves(tx, number)
                self._built_uncommitted = True
                if built != state_root:
                    raise StateLeavesMismatch(
                        f"the stored state leaves rebuild root {built.hex()}, but checkpoint "
                        f"{number} signed {state_root.hex()}: the table state_leaves was "
                        "changed; run `carbonledger audit`")
            if self._root is not None and 0 < number - self._number <= CATCH_UP_CHECKPOINTS:
                self._catch_up(tx, number)
            else:
                self._load(tx, number, check=not self._built_uncommitted)
        except BaseException:
            self.discard()
            raise
        self._root, self._number = state_root, number

    def _load(self, tx: SqlTransaction, number: int, check: bool) -> None:
        """Load checkpoint `number`'s leaves (the latest's); `check` them against its tree:
        every key with a value hashing to the tree's leaf, and no other (a tree just built
        from them needs no check)."""
        values = dict(current_leaves(tx)) if number else {}
        self._values, self._lots = values, None
        if not check:
            return
        count = 0
        for key, value_hash in self.tree.leaves(tx, number):
            value = values.get(key)
            if value is None or sha256(value).digest() != value_hash:
                raise StateLeavesMismatch(
                    f"the stored state leaf of key {key.hex()} is not checkpoint {number}'s: "
                    "the table state_leaves was changed; run `carbonledger audit`")
            count += 1
        if count != len(values):
            raise StateLeavesMismatch(
                f"the stored state leaves hold {len(values)} keys, checkpoint {number}'s tree "
                f"{count}: the table state_leaves was changed; run `carbonledger audit`")

    def _catch_up(self, tx: SqlTransaction, number: int) -> None:
        """Move the leaves on from the checkpoint reflected to `number`, which other processes
        cut, by the versions each recorded; check the keys moved against `number`'s tree."""
        moved: dict[bytes, bytes | None] = {}
        for between in range(self._number + 1, number + 1):
            for key in closed_at(tx, between):
                moved[key] = None
            moved.update(opened_at(tx, between))
        for key, value in moved.items():
            expected = None if value is None else sha256(value).digest()
            if self.tree.value_hash(tx, key, number) != expected:
                raise StateLeavesMismatch(
                    f"the stored state leaf of key {key.hex()} is not checkpoint {number}'s: "
                    "the table state_leaves was changed; run `carbonledger audit`")
        self._move(moved)

    def advance(self, tx: SqlTransaction, number: int, documents: Iterable[Mapping[str, Any]],
                operations: OperationSet,
                check: Callable[[dict[str, Leaves]], None] | None = None
                ) -> tuple[bytes, Leaves]:
        """Apply the journal entries since the checkpoint reflected, reading the touched
        leaves' values in `tx`, for every leaf kind of the ledger's modules (`operations`);
        record checkpoint `number`'s leaf versions and tree nodes in `tx`. Returns the new
        state root and the leaves that changed. `check` sees the values read, by kind, before
        anything changes, and may raise (the transition check: anchoring.operator.transition)."""
        kinds = operations.leaf_kinds.values()
        touched = touched_by(documents, self._values.get, operations.accounts_named, kinds)
        read = {kind.name: kind.read(tx, touched[kind.name]) for kind in kinds}
        if check is not None:
            check(read)
        fresh: Leaves = {}
        for leaves in read.values():
            fresh.update(leaves)
        changes = self.apply(tx, number, fresh)
        record_versions(tx, number, changes)
        return self.root, changes

    def apply(self, tx: SqlTransaction, number: int, fresh: Leaves) -> Leaves:
        """Move to checkpoint `number`, given the current values of the leaves it may have
        changed (None: absent): write its tree's nodes in `tx`. Returns the leaves that did
        change."""
        values = self._values
        assert self._root is not None and self._number == number - 1, "sync first"
        changes = {key: value for key, value in fresh.items() if values.get(key) != value}
        root = self.tree.apply(tx, number, changes)
        self._move(changes)
        self._root, self._number = root, number
        return changes

    def _move(self, changes: Mapping[bytes, bytes | None]) -> None:
        values = self._values
        if self._lots is not None:
            for key, value in changes.items():
                self._lots.change(values.get(key), value)
        for key, value in changes.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value

    def committed(self) -> None:
        """The cut's transaction committed: its tree's nodes may be cached."""
        self.tree.committed()
        self._built_uncommitted = False

    def rolled_back(self) -> None:
        """The cut's transaction rolled back before the tree moved (a refused transition):
        the leaves still reflect the previous checkpoint, unless `sync` built its tree in
        that transaction, which is gone with it."""
        self.tree.rolled_back()
        if self._built_uncommitted:
            self.discard()

    def discard(self) -> None:
        """Forget the checkpoint reflected (a cut failed after changing it); the next cut
        loads it anew from the database."""
        self.tree.rolled_back()
        self._root, self._values, self._number = None, {}, -1
        self._lots = None
        self._built_uncommitted = False

    def snapshot(self, number: int) -> StoredSnapshot | None:
        """Checkpoint `number`'s tree as the database keeps it, read through this process's
        cache (None: no store to read)."""
        if self._store is None:
            return None
        return StoredSnapshot(self._store, self._reader, number)


class StateReader:
    """A leaf's value and proof at a checkpoint, for proof bundles: from the persisted tree;
    for a checkpoint that has none (pruned, or cut before the tree was persisted), or whose
    nodes disagree with the leaf versions, from a rebuild of its tree from the leaf versions
    (seconds at a million leaves; the last one rebuilt is kept). The leaf versions are the
    reference either way: a proof that does not lead to the signed root is refused by the
    verifier. Safe to share between threads."""

    def __init__(self, tree: TreeStore) -> None:
        self.tree = tree
        self._rebuilt: tuple[int, Snapshot] | None = None

    def value_and_proof(self, tx: SqlTransaction, key: bytes,
                        number: int) -> tuple[bytes | None, Proof]:
        value_of = tx.later(leaf_read(key, number))  # with the first of the tree's reads
        try:
            proof = self.tree.prove(tx, key, number)
        except VersionNotStored:
            return self._from_rebuilt(tx, key, number)
        value = value_of()
        if _agree(key, value, proof):
            return value, proof
        return self._from_rebuilt(tx, key, number)

    def _from_rebuilt(self, tx: SqlTransaction, key: bytes,
                      number: int) -> tuple[bytes | None, Proof]:
        # read once: a service proves in several threads, and another may replace the pair
        rebuilt = self._rebuilt
        if rebuilt is None or rebuilt[0] != number:
            rebuilt = self._rebuilt = (number, rebuild_at(tx, number))
        return rebuilt[1].get(key), rebuilt[1].prove(key)


class StoredSnapshot:
    """One checkpoint's tree, answered from the database (a read transaction per call)."""

    def __init__(self, store: Store, reader: StateReader, number: int) -> None:
        self._store, self._reader, self.number = store, reader, number

    @property
    def root(self) -> bytes:
        with self._store.read() as tx:
            try:
                return self._reader.tree.root_at(tx, self.number)
            except VersionNotStored:
                return rebuild_at(tx, self.number).root

    def get(self, key: bytes) -> bytes | None:
        with self._store.read() as tx:
            return self._reader.value_and_proof(tx, key, self.number)[0]

    def prove(self, key: bytes) -> Proof:
        with self._store.read() as tx:
            return self._reader.value_and_proof(tx, key, self.number)[1]


def _agree(key: bytes, value: bytes | None, proof: Proof) -> bool:
    """Does the leaf version say what the tree's proof does?"""
    leaf = proof.leaf
    if value is None:
        return leaf is None or leaf.key != key
    return leaf is not None and leaf.key == key and leaf.value_hash == sha256(value).digest()


def rebuild_at(tx: SqlTransaction, number: int) -> Snapshot:
    """The tree of checkpoint `number`, rebuilt from the stored versions (seconds at a million
    leaves: what a short-lived process such as the CLI pays for a proof)."""
    if number == 0:
        return SparseMerkleTree().snapshot()
    return SparseMerkleTree.from_items(leaves_at(tx, number)).snapshot()


__all__ = ["EMPTY_ROOT", "StateCommitment", "StateLeavesMismatch", "StateReader", "StoredSnapshot",
           "rebuild_at"]
