"""A module's own leaf kind (ledger.modules.LeafKind): its leaves go into the state root that
checkpoints sign, and the audit recomputes them from its replay and names a checkpoint that
signed a value the journal does not give. The module is tests/tally/: one table, one operation
(tally_add) and the leaf kind `tally`."""

from __future__ import annotations

from typing import Any

import pytest

from anchoring.audit import audit
from anchoring.auditor.smt import SparseMerkleTree
from anchoring.operator.checkpoints import Checkpointer
from anchoring.operator.errors import TransitionDiffers
from anchoring.operator.state_versions import leaves_at
from api.bootstrap import MODULES
from ledger.clock import FixedClock
from ledger.engine import Ledger
from ledger.modules import Module, OperationSet
from ledger.schemes import load_rules_dir, rules_document
from ledger.store.database import Store
from ledger.store.state_leaves import all_leaves
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.tally.module import TALLY, TALLY_LEAVES
from tests.tally.store import tally_key, tally_value
from tests.world import CHAIN_ID, OPERATIONS, fresh_wallet

WITH_TALLY = OperationSet((*MODULES, TALLY))


class TallyLedger:
    def __init__(self, store: Store, clock: FixedClock) -> None:
        store.upgrade(WITH_TALLY)
        self.store = store
        self.clock = clock
        self.ledger = Ledger(store, WITH_TALLY, clock)
        self.registry = fresh_wallet()
        self.checkpointer = Checkpointer(self.ledger, OPERATOR_KEY)
        self.submit("genesis", registry="registry", registryName="Test registry",
                    registryKey=self.registry.address, chainId=CHAIN_ID,
                    rules=rules_document(load_rules_dir()))

    def submit(self, op: str, **fields: Any) -> None:
        fields.setdefault("deadline", int(self.clock().timestamp()) + 3600)
        self.ledger.submit(self.registry.sign(WITH_TALLY.instruction(op, **fields)))

    def add(self, name: str, amount: int) -> None:
        self.submit("tally_add", name=name, amount=amount)

    def signed_leaf(self, number: int, name: str) -> bytes | None:
        with self.store.read() as tx:
            return dict(leaves_at(tx, number)).get(tally_key(name))

    def root_of(self, operations: OperationSet) -> bytes:
        """The state root of the tables as they are, from a full read of `operations`' kinds."""
        with self.store.read() as tx:
            return SparseMerkleTree.from_items(
                all_leaves(tx, operations.leaf_kinds.values())).root


def test_a_modules_leaf_kind_is_in_the_state_root_and_audited(sqlite_store: Store,
                                                              clock: FixedClock) -> None:
    tally = TallyLedger(sqlite_store, clock)
    tally.add("trees", 3)
    tally.add("wells", 5)
    tally.submit("register_participant", participant="huaneng", name="Huaneng", role="emitter")
    tally.submit("open_account", account="HN", participant="huaneng", accountType="compliance")
    first = tally.checkpointer.cut()
    assert tally.signed_leaf(1, "trees") == tally_value("trees", 3)
    assert tally.signed_leaf(1, "wells") == tally_value("wells", 5)
    assert first.state_root == tally.root_of(WITH_TALLY)
    assert first.state_root != tally.root_of(OPERATIONS)  # the counts are leaves of it

    tally.add("trees", 4)  # a cut rereads only what changed: this count, not the other
    second = tally.checkpointer.cut()
    assert tally.signed_leaf(2, "trees") == tally_value("trees", 7)
    assert tally.signed_leaf(2, "wells") == tally_value("wells", 5)
    assert second.state_root == tally.root_of(WITH_TALLY)

    report = audit(sqlite_store, WITH_TALLY, tally.checkpointer.operator)
    assert report.ok, report.first_discrepancy
    assert report.checkpoints == 2

    # An insider edits a count the journal did not change, before the next cut reads it: the
    # checkpointer's re-execution of the entries since checkpoint 2 refuses to sign it...
    tally.add("wells", 1)
    with sqlite_store.write() as tx:
        tx.execute("UPDATE tally_counts SET count = 600 WHERE name = 'wells'")
    with pytest.raises(TransitionDiffers, match=r"its row \['wells'\] of table tally_counts "
                                                r"re-executes as .*'count': 6,"):
        tally.checkpointer.cut()
    # ...and an operator who goes around that check signs it, but the audit names it.
    tally.checkpointer.check_transitions = False
    third = tally.checkpointer.cut()
    assert tally.signed_leaf(3, "wells") == tally_value("wells", 600)
    report = audit(sqlite_store, WITH_TALLY, tally.checkpointer.operator)
    assert report.first_discrepancy is not None
    assert report.first_discrepancy.startswith(
        f"checkpoint 3 (marker entry {third.log_size - 1}): signed state root "
        f"{third.state_root.hex()}, but the state the journal gives there has root")


def test_a_leaf_kind_is_defined_once() -> None:
    with pytest.raises(ValueError, match="two modules define the leaf kind 'tally'"):
        OperationSet((*MODULES, TALLY, Module("again", leaf_kinds=(TALLY_LEAVES,))))
    with pytest.raises(ValueError, match="not a plain lower-case name"):
        TALLY_LEAVES.__class__("tally'; --", TALLY_LEAVES.key, TALLY_LEAVES.touched,
                               TALLY_LEAVES.read, TALLY_LEAVES.read_all,
                               {"tally_counts": ("name",)})
