"""The witness's own replay of the operator's journal, kept between runs.

A replica is a SQLite store of the witness's (DIR/replica.db) into which the operator's
entries are replayed by ledger.replay, exactly as `carbonledger audit` replays them: every
signature verified again, every entry rebuilt to its stored bytes. Like the audit's scratch
store it records, with triggers, every row the replay touches in the tables the state's leaf
kinds watch (ledger.store.touched), so that at each checkpoint marker the replica knows on its
own which leaves changed, rereads them and updates its state tree; its log is the RFC 9162
log of the entries it rebuilt, never of hashes the operator stored.

The store outlives the process; the log and the tree do not: opening a replica rebuilds them
from the store, the log from its journal's bytes and the tree from a full read of its leaves
(the cost of a restart: seconds per million leaves), while the replay itself is never
repeated. A run then replays only what is new.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from anchoring.auditor.merkle import leaf_hash
from anchoring.auditor.merkle_log import MemoryNodeStore, MerkleLog
from anchoring.auditor.smt import MAX_BATCH_CHANGES, SparseMerkleTree
from anchoring.operator.checkpoints import ledger_origin
from ledger.modules import LeafKind, OperationSet
from ledger.store.database import Store, sqlite_url
from ledger.store.state_leaves import Leaves, all_leaves, touched_leaves
from ledger.store.touched import take_touched, track_touched

_READ_CHUNK = 5_000  # journal rows read at once when rebuilding the log


@dataclass(frozen=True)
class Recomputed:
    """A checkpoint as the witness's own replay gives it."""

    origin: str
    size: int
    log_root: bytes
    state_root: bytes
    time: str  # the marker's acceptance time


class Replica:
    """The replayed journal, its log and its state tree. Open with `Replica.open`."""

    def __init__(self, store: Store, operations: OperationSet) -> None:
        self.store = store
        self.operations = operations
        self.kinds: Sequence[LeafKind] = tuple(operations.leaf_kinds.values())
        self.log = MerkleLog(MemoryNodeStore())
        self.tree = SparseMerkleTree()
        self._origin: str | None = None

    @classmethod
    def open(cls, path: Path, operations: OperationSet) -> Replica:
        """The replica at `path`, made (migrated, its triggers set) if it does not exist."""
        if not path.exists():
            cls._create(path, operations)
        store = Store(sqlite_url(path))
        replica = cls(store, operations)
        try:
            replica._rebuild()
        except BaseException:
            store.dispose()
            raise
        return replica

    @classmethod
    def _create(cls, path: Path, operations: OperationSet) -> None:
        """Made beside `path` and moved there once complete: a replica without its triggers
        would miss what the replay touches, so a half-made one must never be opened."""
        partial = path.with_name(path.name + ".partial")
        for leftover in path.parent.glob(partial.name + "*"):
            leftover.unlink()
        store = Store(sqlite_url(partial))
        try:
            store.upgrade(operations)
            kinds = operations.leaf_kinds.values()
            watched = {table: (kind.name, columns[0], columns[1] if len(columns) > 1 else None)
                       for kind in kinds for table, columns in kind.watches.items()}
            with store.write() as tx:
                track_touched(tx, watched)
        finally:
            store.dispose()
        # Closing the last connection copies SQLite's write-ahead log back and removes it; a
        # log left beside the file still belongs to it, and moves with it.
        log = partial.with_name(partial.name + "-wal")
        if log.exists():
            os.replace(log, path.with_name(path.name + "-wal"))
        partial.with_name(partial.name + "-shm").unlink(missing_ok=True)
        os.replace(partial, path)

    def close(self) -> None:
        self.store.dispose()

    @property
    def head(self) -> int:
        """The last entry replayed (-1: none)."""
        with self.store.read() as tx:
            return tx.head

    @property
    def markers(self) -> int:
        """How many checkpoint markers have been replayed."""
        with self.store.read() as tx:
            return tx.checkpoint

    def leaf_hashes(self, start: int, stop: int) -> list[bytes]:
        """The hashes of the entries the replica rebuilt, start <= seq < stop."""
        with self.store.read() as tx:
            return [leaf_hash(row.entry) for row in tx.journal_rows(start, stop)]

    def recompute(self, size: int) -> Recomputed:
        """The checkpoint whose marker is entry size - 1, just replayed: extend the log with the
        entries since the last one and apply the leaves the replay touched to the tree (after a
        restart both may already stand there: nothing is then added)."""
        with self.store.read() as tx:
            rows = tx.journal_rows(self.log.size, size)
            marker = tx.journal_row(size - 1)
            if self._origin is None:
                self._origin = ledger_origin(tx)
        self.log.extend(leaf_hash(row.entry) for row in rows)
        changes = self._changes()
        ordered = sorted(changes)
        for start in range(0, len(ordered), MAX_BATCH_CHANGES):
            self.tree.update({k: changes[k] for k in ordered[start:start + MAX_BATCH_CHANGES]})
        return Recomputed(self._origin, self.log.size, self.log.root(), self.tree.root,
                          marker.accepted_at if marker else "")

    def _changes(self) -> Leaves:
        """The leaves the replay changed since the last call, with their new values."""
        with self.store.write() as tx:
            fresh = touched_leaves(tx, self.kinds)
        return {key: value for key, value in fresh.items() if self.tree.get(key) != value}

    def _rebuild(self) -> None:
        """The log and the tree of the replayed journal, from the store (at a start)."""
        head = self.head
        for start in range(0, head + 1, _READ_CHUNK):
            self.log.extend(self.leaf_hashes(start, min(start + _READ_CHUNK, head + 1)))
        with self.store.write() as tx:
            take_touched(tx)  # the full read below covers them
            self.tree = SparseMerkleTree.from_items(list(all_leaves(tx, self.kinds)))
            if head >= 0:
                self._origin = ledger_origin(tx)


__all__ = ["Recomputed", "Replica"]
