"""Under load on PostgreSQL, with writers SIGKILLed and every backend terminated: nothing
acknowledged is lost, no raw exception reaches a writer, and replay and the audit pass
(tests/ledger/load_faults.py; bench/load_faults.py runs the same for longer and prints figures)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from anchoring.audit import audit
from anchoring.operator.checkpoints import Checkpointer
from ledger.clock import FixedClock, utc_now
from ledger.invariants import check_invariants
from ledger.replay import replay_check
from ledger.store.database import Store
from tests.anchoring.ledger_history import OPERATOR_KEY
from tests.ledger.load_faults import SUPPLY_T, LoadReport, run_load, set_up
from tests.ledger.multiprocess_helpers import (
    assert_gapless,
    assert_in_journal,
    assert_nothing_negative,
)
from tests.world import OPERATIONS, World

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

WRITERS = 3
SECONDS = 12
KILL_EVERY_S = 2.5
DROP_EVERY_S = 4


@pytest.fixture
def world(pg_store: Store) -> Iterator[World]:
    world = World.create(pg_store, FixedClock(utc_now()))
    yield world
    world.assert_invariants()


def test_load_with_kills_and_dropped_connections_loses_nothing(world: World,
                                                               tmp_path: Path) -> None:
    seed = random.getrandbits(32)
    setup = set_up(world, tmp_path, WRITERS, seed)
    checkpointer = Checkpointer(world.ledger, OPERATOR_KEY)
    checkpointer.cut()
    report = run_load(setup, SECONDS, KILL_EVERY_S, DROP_EVERY_S, seed)
    print(f"seed {seed}: {report.summary()}")
    assert_ledger_kept_its_word(world, report)
    checkpointer.cut()
    audited = audit(world.store, OPERATIONS, checkpointer.operator)
    assert audited.ok, audited.first_discrepancy


def assert_ledger_kept_its_word(world: World, report: LoadReport) -> None:
    assert not report.errors, "a raw exception reached a writer:\n" + report.errors[0]
    assert report.kills >= 1 and report.drops >= 1
    assert report.accepted > 0
    assert_in_journal(world.store, report.acknowledged)
    head = assert_gapless(world.store)
    with world.store.read() as tx:
        journaled = {"0x" + row.instruction_id.hex(): row.seq
                     for row in tx.journal_rows(0, head + 1)}
    assert len(journaled) == head + 1, "an instruction id is journaled twice"
    for submission in report.submissions:  # one transaction: what it journaled is in a row
        seqs = sorted(journaled[i] for i in submission if i in journaled)
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True, \
            f"a submission of {len(submission)} is in the journal apart, at {seqs}"
    assert check_invariants(world.store) == []
    assert_nothing_negative(world.store)
    with world.store.read() as tx:
        (supply,) = tx.one("SELECT SUM(tradable) FROM holdings WHERE batch = 'A1'")
    assert supply == SUPPLY_T
    replayed = replay_check(world.store, OPERATIONS)
    assert replayed.ok, replayed.first_difference
    assert replayed.entries == head + 1

