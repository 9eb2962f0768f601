"""The state commitment of one process: a sparse Merkle tree kept at the latest checkpoint.

A long-running process keeps the tree in memory between cuts, so a cut costs what changed:
it reads the touched leaves' current values, keeps those that differ from the previous ones,
updates the tree (anchoring.auditor.smt rehashes only the changed paths) and records the new leaf
versions. Beside the tree it keeps a plain dict of the same leaves: "did this leaf change?"
is then a dict lookup rather than a walk down the tree (~30 ms saved per 3,000 touched leaves
at a million), for ~50 MB at a million leaves, since the dict shares the tree's bytes.

Beside both it keeps, once the transition check first asks for it, an index of the lots
among the leaves (anchoring.operator.lot_index), moved with the changed leaves.

A process that starts, or that finds another process has cut a checkpoint since, rebuilds
the tree from the stored versions and checks the rebuilt root against the signed one before
it builds on it. Snapshots of recent checkpoints answer proofs in microseconds.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from anchoring.auditor.smt import EMPTY_ROOT, MAX_BATCH_CHANGES, Snapshot, SparseMerkleTree
from anchoring.auditor.state_changes import touched_by
from anchoring.operator.errors import OperatorFailure, StoreInconsistent
from anchoring.operator.lot_index import LotIndex
from anchoring.operator.state_versions import current_leaves, leaves_at, record_versions
from ledger.store.sql import SqlTransaction
from ledger.store.state_leaves import Leaves

if TYPE_CHECKING:
    from ledger.modules import OperationSet


class StateLeavesMismatch(StoreInconsistent):
    """The stored leaf versions do not rebuild a signed state root."""

    code = OperatorFailure.state_leaves_mismatch


class StateCommitment:
    def __init__(self, keep_snapshots: int = 2) -> None:
        self._tree: SparseMerkleTree | None = None
        self._values: dict[bytes, bytes] = {}
        self._number = -1  # the checkpoint the tree reflects; -1: none loaded
        # the lots among the values, indexed as the engine asks for lots (by holding, by
        # serial, by lien), for the transition check; built on first use after a load, then
        # moved with the values
        self._lots: LotIndex | None = None
        self._snapshots: OrderedDict[int, Snapshot] = OrderedDict()
        self._keep = keep_snapshots

    @property
    def number(self) -> int:
        return self._number

    @property
    def leaves(self) -> Mapping[bytes, bytes]:
        """The leaves of the checkpoint the tree reflects: key -> value."""
        return self._values

    def previous(self, key: bytes) -> bytes | None:
        return self._values.get(key)

    def lot_index(self) -> LotIndex:
        """The live lots of the checkpoint the tree reflects (anchoring.operator.transition);
        built from the leaves the first time it is asked for after a load."""
        assert self._tree is not None, "nothing loaded"
        if self._lots is None:
            self._lots = LotIndex.of(self._values.values())
        return self._lots

    @property
    def root(self) -> bytes:
        assert self._tree is not None, "nothing loaded"
        return self._tree.root

    def sync(self, tx: SqlTransaction, number: int, state_root: bytes) -> None:
        """Make the tree reflect checkpoint `number` (0: before any), whose signed state root
        is `state_root`: keep it if it does, else rebuild it from the stored versions."""
        if self._tree is not None and self._number == number and self._tree.root == state_root:
            return
        self.load(number, dict(current_leaves(tx)) if number else {})
        if self.root != state_root:
            rebuilt = self.root
            self.discard()
            raise StateLeavesMismatch(
                f"the stored state leaves rebuild root {rebuilt.hex()}, but checkpoint "
                f"{number} signed {state_root.hex()}: the table state_leaves was changed; "
                "run `carbonledger audit`")

    def load(self, number: int, leaves: dict[bytes, bytes]) -> None:
        """Hold `leaves`, the leaf set of checkpoint `number`."""
        self.discard()
        self._tree = SparseMerkleTree.from_items(leaves)
        self._values, self._number = leaves, number
        self._lots = None

    def advance(self, tx: SqlTransaction, number: int, documents: Iterable[Mapping[str, Any]],
                operations: OperationSet,
                check: Callable[[dict[str, Leaves]], None] | None = None
                ) -> tuple[bytes, Leaves]:
        """Apply the journal entries since the tree's checkpoint, reading the touched leaves'
        values in `tx`, for every leaf kind of the ledger's modules (`operations`); record
        checkpoint `number`'s leaf versions. Returns the new state root and the leaves that
        changed. `check` sees the values read, by kind, before anything changes, and may
        raise (the transition check: anchoring.operator.transition)."""
        kinds = operations.leaf_kinds.values()
        touched = touched_by(documents, self._values.get, operations.accounts_named, kinds)
        read = {kind.name: kind.read(tx, touched[kind.name]) for kind in kinds}
        if check is not None:
            check(read)
        fresh: Leaves = {}
        for leaves in read.values():
            fresh.update(leaves)
        changes = self.apply(number, fresh)
        record_versions(tx, number, changes)
        return self.root, changes

    def apply(self, number: int, fresh: Leaves) -> Leaves:
        """Move to checkpoint `number`, given the current values of the leaves it may have
        changed (None: absent). Returns the leaves that did change."""
        tree, values = self._tree, self._values
        assert tree is not None and self._number == number - 1, "sync first"
        changes = {key: value for key, value in fresh.items() if values.get(key) != value}
        ordered = sorted(changes)
        for start in range(0, len(ordered), MAX_BATCH_CHANGES):
            tree.update({key: changes[key] for key in ordered[start:start + MAX_BATCH_CHANGES]})
        if self._lots is not None:
            for key, value in changes.items():
                self._lots.change(values.get(key), value)
        for key, value in changes.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
        self._number = number
        return changes

    def committed(self) -> None:
        """The cut's transaction committed: keep a snapshot of the new checkpoint."""
        assert self._tree is not None
        self._snapshots[self._number] = self._tree.snapshot()
        while len(self._snapshots) > self._keep:
            self._snapshots.popitem(last=False)

    def discard(self) -> None:
        """Forget the tree (a cut failed after changing it); the next cut rebuilds it."""
        self._tree, self._values, self._number = None, {}, -1
        self._lots = None

    def snapshot(self, number: int) -> Snapshot | None:
        """The tree at checkpoint `number`, if this process still holds it."""
        return self._snapshots.get(number)


def rebuild_at(tx: SqlTransaction, number: int) -> Snapshot:
    """The tree of checkpoint `number`, rebuilt from the stored versions (seconds at a million
    leaves: what a short-lived process such as the CLI pays for a proof)."""
    if number == 0:
        return SparseMerkleTree().snapshot()
    return SparseMerkleTree.from_items(leaves_at(tx, number)).snapshot()


__all__ = ["EMPTY_ROOT", "StateCommitment", "StateLeavesMismatch", "rebuild_at"]
