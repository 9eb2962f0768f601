"""The full, independent audit: replay the journal, recompute every signed checkpoint.

`carbonledger audit` trusts nothing the database derived, only the journal's signed
instructions and the operator key the auditor names:

1. the journal is replayed from scratch in a scratch database (ledger.replay): every signature
   re-verified, every entry rebuilt byte for byte, every projection compared at the end;
2. at each checkpoint marker, with the scratch database at exactly that point, the checkpoint
   is recomputed and compared with the stored, signed one: its note's signature by the trusted
   key, its columns against its note, its log size, its log root (from the entries' bytes, not
   their stored hashes), its state root and the leaf versions stored for it. The state is
   tracked independently of the checkpointer: triggers on the scratch database record every
   row the replay touches in the tables each leaf kind of the ledger's modules watches
   (ledger.modules.LeafKind), rather than asking the kinds what the journal's entries touched
   as the checkpointer does;
3. at the end: no checkpoint beyond the last marker, the stored log nodes equal the recomputed
   ones, no stray leaf version, and the ledger's invariants hold.

Given the registry the checkpoints are anchored on (`audit(..., chain=read_registry(...))`),
each recomputed checkpoint — its number, log size and the two roots recomputed from the
journal, not the stored or signed ones — is also compared with the commitment the registry
holds for that number, and the registry must not hold more checkpoints than the journal has
markers. The signed notes are the database's own evidence, and whoever holds the operator key
can sign a rewritten history; the chain's commitments cannot be rewritten, so this catches a
database whose history is not the one anchored, however consistent it is with itself.

The first discrepancy is reported with the entry, checkpoint, table or node where it lies.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from anchoring.auditor.merkle import leaf_hash
from anchoring.auditor.merkle_log import MemoryNodeStore, MerkleLog
from anchoring.auditor.note import NoteError, open_note
from anchoring.auditor.smt import MAX_BATCH_CHANGES, SparseMerkleTree
from anchoring.operator.checkpoints import (
    checkpoint_at,
    first_anchored_after,
    ledger_origin,
    stored_checkpoints,
)
from anchoring.operator.contract import AnchoredCheckpoint, checkpoint_commitment
from anchoring.operator.log_store import stored_nodes
from anchoring.operator.state_versions import closed_at, opened_at, version_count
from ledger.modules import LeafKind, OperationSet
from ledger.replay import Progress, replay_check
from ledger.store.database import Store
from ledger.store.state_leaves import Leaves
from ledger.store.touched import take_touched, track_touched


class AnchoredRoots(Protocol):
    """A registry as the audit reads it (anchoring.operator.chain.RegistryReader); a node that fails
    raises anchoring.operator.chain.ChainUnavailable, which ends the audit without a verdict."""

    @property
    def description(self) -> str: ...

    @property
    def address(self) -> str: ...

    @property
    def chain_id(self) -> int: ...

    def latest_number(self) -> int: ...

    def commitment_of(self, number: int) -> bytes: ...


@dataclass(frozen=True)
class AuditReport:
    entries: int
    checkpoints: int
    elapsed_s: float
    first_discrepancy: str | None
    anchored: int | None = None
    """Checkpoints the registry holds exactly as recomputed; None if no registry was read."""
    chain_latest: int | None = None
    """The registry's latest checkpoint number when the audit started."""

    @property
    def ok(self) -> bool:
        return self.first_discrepancy is None


def audit(live: Store, operations: OperationSet, trusted_operator: str,
          progress: Progress | None = None, *, chain: AnchoredRoots | None = None) -> AuditReport:
    """Audit the ledger in `live` against the operator key the auditor trusts (an address)
    and, if given, the registry its checkpoints are anchored on."""
    started = time.perf_counter()
    auditor = _CheckpointAuditor(live, trusted_operator, tuple(operations.leaf_kinds.values()),
                                 chain)
    report = replay_check(live, operations, progress=progress, observer=auditor)
    problem = report.first_difference or auditor.finish()
    if problem is None:
        problems = operations.check_invariants(live)  # the core's and every module's
        problem = f"invariant broken: {problems[0]}" if problems else None
    return AuditReport(report.entries, auditor.checked, time.perf_counter() - started, problem,
                       auditor.anchored if chain else None,
                       auditor.chain_latest if chain else None)


@dataclass
class _CheckpointAuditor:
    """A `ledger.replay.ReplayObserver` that recomputes each checkpoint."""

    live: Store
    trusted: str
    kinds: Sequence[LeafKind]  # the state commitment's, from the modules audited with
    chain: AnchoredRoots | None = None
    checked: int = 0
    anchored: int = 0
    chain_latest: int = 0
    sizes: list[int] = field(default_factory=list)
    _nodes: MemoryNodeStore = field(default_factory=MemoryNodeStore)
    _tree: SparseMerkleTree = field(default_factory=SparseMerkleTree)
    _versions: int = 0
    _origin: str | None = None

    def __post_init__(self) -> None:
        self._log = MerkleLog(self._nodes)

    def started(self, scratch: Store) -> None:
        if self.chain is not None:
            # Read once: checkpoints anchored while the audit runs count as not anchored yet.
            self.chain_latest = self.chain.latest_number()
        # Each watched table's rows, labelled with the kind whose leaves they are.
        watched = {table: (kind.name, columns[0], columns[1] if len(columns) > 1 else None)
                   for kind in self.kinds for table, columns in kind.watches.items()}
        with scratch.write() as tx:
            track_touched(tx, watched)

    def checkpoint(self, scratch: Store, number: int, size: int) -> str | None:
        where = f"checkpoint {number} (marker entry {size - 1})"
        with self.live.read() as tx:
            stored = checkpoint_at(tx, number)
            if self._origin is None:
                self._origin = ledger_origin(tx)
        if stored is None:
            return f"{where}: no signed checkpoint is stored for this marker"
        try:
            body = open_note(stored.note, self.trusted)
        except NoteError as exc:
            return f"{where}: {exc}"
        if body != stored.body:
            columns = [name for name in ("number", "size", "log_root", "state_root", "time",
                                         "origin")
                       if getattr(body, name) != getattr(stored.body, name)]
            return f"{where}: stored columns ({', '.join(columns)}) differ from its signed note"
        if body.origin != self._origin:
            return f"{where}: signed for log {body.origin}, this ledger is {self._origin}"
        if body.size != size:
            return f"{where}: signed log size {body.size}, but its marker makes it {size}"
        with scratch.read() as tx:
            rows = tx.journal_rows(self._log.size, size)
        self._log.extend(leaf_hash(row.entry) for row in rows)
        changes = self._state_changes(scratch)
        previous = {key for key in changes if self._tree.get(key) is not None}
        ordered = sorted(changes)
        for start in range(0, len(ordered), MAX_BATCH_CHANGES):
            self._tree.update({k: changes[k] for k in ordered[start:start + MAX_BATCH_CHANGES]})
        # The chain first: it is the one record of the checkpoint that nobody can re-sign.
        problem = self._check_chain(number, size, self._log.root(), self._tree.root)
        if problem:
            return f"{where}: {problem}"
        if self._log.root() != body.log_root:
            return (f"{where}: signed log root {body.log_root.hex()}, but entries 0..{size - 1} "
                    f"hash to {self._log.root().hex()}")
        if self._tree.root != body.state_root:
            return (f"{where}: signed state root {body.state_root.hex()}, but the state the "
                    f"journal gives there has root {self._tree.root.hex()}")
        problem = self._check_versions(number, changes, previous)
        if problem:
            return f"{where}: {problem}"
        self.checked += 1
        self.sizes.append(size)
        return None

    def _check_chain(self, number: int, size: int, log_root: bytes,
                     state_root: bytes) -> str | None:
        """The recomputed checkpoint against the registry's commitment for its number."""
        if self.chain is None or number > self.chain_latest:
            return None  # not anchored (yet): the ledger never waits for the chain
        held = self.chain.commitment_of(number)
        recomputed = AnchoredCheckpoint(number, size, log_root, state_root)
        if held != checkpoint_commitment(recomputed):
            return (f"the {self.chain.description} anchored another checkpoint {number}: "
                    f"the journal gives log size {size}, log root {log_root.hex()} and state "
                    f"root {state_root.hex()}, which the chain does not hold (its commitment "
                    f"0x{held.hex()}). The history in this database is not the one anchored")
        self.anchored += 1
        return None

    def _check_chain_end(self) -> str | None:
        """Checkpoints the chain has and the journal lacks; anchors recorded and not held."""
        if self.chain is None:
            return None
        markers = len(self.sizes)
        if self.chain_latest > markers:
            missing = (f"checkpoint {markers + 1} is" if self.chain_latest == markers + 1 else
                       f"checkpoints {markers + 1}..{self.chain_latest} are")
            return (f"the {self.chain.description} holds checkpoints up to "
                    f"{self.chain_latest}, but the journal's markers stop at checkpoint "
                    f"{markers}: {missing} missing from this database (restored from an older "
                    "backup, or cut short), or the registry anchors another ledger")
        with self.live.read() as tx:
            recorded = first_anchored_after(tx, self.chain.chain_id, self.chain.address,
                                            self.chain_latest)
        if recorded is not None:
            return (f"checkpoint {recorded[0]}: recorded as anchored on the "
                    f"{self.chain.description} in block {recorded[1]}, but the registry holds "
                    f"checkpoints up to {self.chain_latest} only: the chain lost it (a node "
                    "reset or reorganised) or the record is false")
        return None

    def finish(self) -> str | None:
        """The checks that need the whole journal replayed."""
        problem = self._check_chain_end()
        if problem:
            return problem
        with self.live.read() as tx:
            extra = [c for c in stored_checkpoints(tx) if c.number > len(self.sizes)]
            if extra:
                return (f"checkpoint {extra[0].number}: stored, but the journal holds no "
                        "marker for it")
            problem = self._check_log_nodes(stored_nodes(tx))
            versions = version_count(tx)
        if problem:
            return problem
        if versions != self._versions:
            return (f"table state_leaves: {versions} rows, but the checkpoints opened "
                    f"{self._versions} leaf versions")
        return None

    def _state_changes(self, scratch: Store) -> Leaves:
        """The leaves the replay changed since the last checkpoint, with their new values."""
        ids: dict[str, list[Any]] = {kind.name: [] for kind in self.kinds}
        pairs = {kind.name for kind in self.kinds if kind.id_columns == 2}
        fresh: Leaves = {}
        with scratch.write() as tx:
            for label, a, b in take_touched(tx):
                ids[label].append((a, b) if label in pairs else a)
            for kind in self.kinds:
                fresh.update(kind.read(tx, ids[kind.name]))
        return {key: value for key, value in fresh.items() if self._tree.get(key) != value}

    def _check_versions(self, number: int, changes: Mapping[bytes, bytes | None],
                        previous: set[bytes]) -> str | None:
        with self.live.read() as tx:
            opened, closed = opened_at(tx, number), closed_at(tx, number)
        expected = {key: value for key, value in changes.items() if value is not None}
        for key in sorted(set(opened) | set(expected)):
            if opened.get(key) != expected.get(key):
                return (f"the state leaf version of key {key.hex()} it stores "
                        f"({_short(opened.get(key))}) differs from the state "
                        f"({_short(expected.get(key))})")
        if closed != previous:
            key = min(closed ^ previous)
            return f"the state leaf version of key {key.hex()} is wrongly closed or left open"
        self._versions += len(opened)
        return None

    def _check_log_nodes(self, stored: list[tuple[int, int, bytes]]) -> str | None:
        size = self._log.size
        keys = [(level, index) for level in range(1, size.bit_length())
                for index in range(size >> level)]
        expected = dict(zip(keys, self._nodes.get_many(keys), strict=True))
        for level, index, node in stored:
            want = expected.pop((int(level), int(index)), None)
            if want != bytes(node):
                first, last = int(index) << int(level), ((int(index) + 1) << int(level)) - 1
                used_by = next((n + 1 for n, s in enumerate(self.sizes) if s > last), None)
                what = "differs from the recomputed one" if want else "is not a node of the log"
                return (f"log_nodes ({level}, {index}) over entries {first}..{last}: stored "
                        f"hash {what}"
                        + (f" (proofs from checkpoint {used_by} on use it)" if used_by else ""))
        if expected:
            level, index = min(expected)
            return f"log_nodes ({level}, {index}): missing from the database"
        return None


def _short(value: bytes | None) -> str:
    return "absent" if value is None else value.decode("utf-8", "replace")[:120]
