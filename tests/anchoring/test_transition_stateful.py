"""Honest histories are never refused by the transition check: the stateful test's random
sequences (tests/ledger/test_stateful.py: every core operation, the pledge and repo
lifecycles, several operations per submission, holdings fragmented beyond the first page of
lots, time passing maturities), with checkpoints cut between them — by the process that holds
the tree, and by one that loads it from the database as the CLI does. A false alarm fails the
example with the entry it named. After each cut the lot index moved from checkpoint to
checkpoint must be the one built afresh from the leaves."""

from __future__ import annotations

from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import rule

from anchoring.operator.checkpoints import Checkpointer, latest_checkpoint
from anchoring.operator.lot_index import LotIndex
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.ledger.test_stateful import LedgerMachine


class CheckpointedLedgerMachine(LedgerMachine):
    def __init__(self) -> None:
        super().__init__()
        self.checkpointer = Checkpointer(self.world.ledger, OPERATOR_KEY)

    @rule()
    def cut(self) -> None:
        checkpoint = self.checkpointer.cut()
        event(f"cut checkpoint {min(checkpoint.number, 3)}{'+' if checkpoint.number > 2 else ''}")
        state = self.checkpointer.state
        with self.store.read() as tx:
            latest = latest_checkpoint(tx)
        assert latest is not None and state.number == latest.number
        assert state.lot_index().leaves == LotIndex.of(state.leaves.values()).leaves

    @rule()
    def cut_in_a_fresh_process(self) -> None:
        Checkpointer(self.world.ledger, OPERATOR_KEY).cut()
        event("cut in a fresh process")


CheckpointedLedgerMachine.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestHonestHistoriesAreCut = CheckpointedLedgerMachine.TestCase
