"""A ledger with a varied history and signed checkpoints, for the checkpoint, bundle, audit and
tamper tests; and the slow, obviously correct references they compare with."""

from __future__ import annotations

from dataclasses import dataclass, field

from anchoring.auditor.merkle import root_from_leaf_hashes
from anchoring.auditor.smt import SparseMerkleTree
from anchoring.operator.checkpoints import Checkpointer, StoredCheckpoint
from ledger.clock import FixedClock
from ledger.store.database import Store
from ledger.store.state_leaves import all_leaves
from tests.world import OPERATIONS, World

OPERATOR_KEY = (0x0DE7A70B).to_bytes(32, "big")
OTHER_KEY = (0xBADC0FFEE).to_bytes(32, "big")


@dataclass
class History:
    world: World
    checkpointer: Checkpointer
    checkpoints: list[StoredCheckpoint] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.world.store

    @property
    def operator(self) -> str:
        return self.checkpointer.operator

    def cut(self) -> StoredCheckpoint:
        checkpoint = self.checkpointer.cut()
        self.checkpoints.append(checkpoint)
        return checkpoint


def build_history(store: Store, clock: FixedClock, rules: str | None = None) -> History:
    """Three checkpoints over issuance, whole and partial transfers, retirement, cancellation,
    freezing, and a few entries after the last checkpoint (its genesis records `rules`,
    default the rules of ledger/schemes/)."""
    world = World.create(store, clock, rules)
    history = History(world, Checkpointer(world.ledger, OPERATOR_KEY))
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("gw", "project_owner", "GW", "trading")
    world.allocate("A1", "HN", 1000)
    world.issue_credits("C1", "GW", 500)
    history.cut()
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1", quantity=70)
    world.by("gw", "retire", account="GW", batch="C1", quantity=5, beneficiary="b",
             reason="r", claim="c")
    world.by("registry", "freeze_account", account="GW", reason="audit")
    clock.advance(seconds=30)
    history.cut()
    world.by("registry", "unfreeze_account", account="GW", reason="done")
    world.by("gw", "transfer", fromAccount="GW", toAccount="HN", batch="A1", quantity=70)
    world.by("registry", "cancel", account="HN", batch="A1", quantity=10, reason="error")
    history.cut()
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1", quantity=1)
    return history


def reference_log_root(store: Store, size: int) -> bytes:
    """RFC 9162 root of the first `size` entries, rehashed from their bytes."""
    from anchoring.auditor.merkle import leaf_hash

    with store.read() as tx:
        rows = tx.journal_rows(0, size)
    return root_from_leaf_hashes([leaf_hash(row.entry) for row in rows])


def reference_state_root(store: Store) -> bytes:
    """The state root of the tables as they are now, from a full read."""
    with store.read() as tx:
        return SparseMerkleTree.from_items(all_leaves(tx, OPERATIONS.leaf_kinds.values())).root
