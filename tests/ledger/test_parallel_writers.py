"""Several writers on one SQLite file at once, each taking SQLite's writer lock in turn.

What must hold whatever the interleaving: every entry journaled once, at the seq its submitter
was told, with no gap; no account spends more than it holds; every invariant; and a writer
never enters while another writes, whether it is in another process, another thread, or on
another `Store` of the same file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.clock import FixedClock, utc_now
from ledger.errors import Reason
from ledger.invariants import check_invariants
from ledger.store.database import Store, sqlite_url
from tests.ledger.multiprocess_helpers import (
    TransferPlan,
    Workers,
    assert_gapless,
    assert_in_journal,
    assert_nothing_negative,
    submit_transfers,
)
from tests.world import World

pytestmark = pytest.mark.slow

PROCESSES = 3
BALANCE_T = 100
AMOUNT_T = 7  # 100 // 7 = 14 transfers of each process's 20 succeed
ATTEMPTS = 20


@pytest.fixture(scope="module")
def workers() -> Iterator[Workers]:
    workers = Workers(PROCESSES)
    yield workers
    workers.close()


@pytest.fixture
def world(migrated_template: Path, tmp_path: Path) -> Iterator[World]:
    import shutil

    path = tmp_path / "shared.db"
    shutil.copy(migrated_template, path)
    world = World.create(Store(sqlite_url(path)), FixedClock(utc_now()))
    yield world
    world.assert_invariants()


def test_processes_writing_one_sqlite_file_journal_each_entry_once(world: World,
                                                                    workers: Workers) -> None:
    """Three processes at once: two one instruction per transaction, one five at a time;
    each overspends its account on purpose, so refusals interleave with receipts."""
    world.participant("sink", "emitter", "SINK", "trading")
    plans = []
    for p in range(PROCESSES):
        wallet = world.participant(f"holder{p}", "emitter", f"H{p}", "compliance")
        world.allocate(f"B{p}", f"H{p}", BALANCE_T)
        plans.append(TransferPlan(world.store.url, wallet.private_key, f"B{p}",
                                  ((f"H{p}", "SINK", AMOUNT_T),) * ATTEMPTS,
                                  submission_size=5 if p == 2 else 1))
    head = world.head()
    runs = workers.run(submit_transfers, [(plan,) for plan in plans])
    outcomes = [o for run in runs for transaction in run for o in transaction]
    assert len(outcomes) == PROCESSES * ATTEMPTS
    accepted = [o for o in outcomes if o.accepted]
    assert len(accepted) == PROCESSES * (BALANCE_T // AMOUNT_T)
    assert {o.refused for o in outcomes if not o.accepted} == {
        Reason.insufficient_tradable.name}
    assert not any(o.duplicate for o in accepted)
    assert sorted(o.seq for o in accepted) == list(range(head + 1, head + 1 + len(accepted)))
    assert assert_gapless(world.store) == head + len(accepted)
    assert_in_journal(world.store, outcomes)
    assert_nothing_negative(world.store)
    assert check_invariants(world.store) == []
    for p in range(PROCESSES):
        assert world.holding(f"H{p}", f"B{p}")["tradable"] == BALANCE_T % AMOUNT_T
    assert world.holding("SINK", "B0")["tradable"] == BALANCE_T - BALANCE_T % AMOUNT_T


@pytest.mark.parametrize("second", ["another store", "another thread"])
def test_a_writer_waits_for_the_one_writing_and_goes_on_when_it_ends(world: World,
                                                                     second: str) -> None:
    other = Store(world.store.url) if second == "another store" else world.store
    entered = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with other.write() as tx:
                assert tx.head == head + 1  # what the first writer committed
                entered.set()
        except BaseException as exc:
            failures.append(exc)

    head = world.head()
    writer = threading.Thread(target=write)
    with world.store.write() as tx:
        writer.start()
        assert not entered.wait(0.3), "a second writer entered while the first wrote"
        world.ledger.append_checkpoint_marker(tx)  # committed as the block ends
    writer.join(60)
    assert not failures, failures
    assert entered.is_set()
    if other is not world.store:
        other.dispose()
