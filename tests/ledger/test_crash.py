"""Writers killed with SIGKILL at random moments, on SQLite and on PostgreSQL.

Each writer logs every receipt it was given (fsynced) before it goes on. After several rounds of
start, run, kill -9, the journal must hold every acknowledged operation at the seq and with
the entry hash its writer was told, hold no part of an operation that did not commit (the
invariants, a gapless journal, the lot partition), and replay to the same state.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ledger.clock import FixedClock, utc_now
from ledger.invariants import check_invariants
from ledger.replay import replay_check
from ledger.store.database import Store
from tests.ledger.multiprocess_helpers import (
    SPAWN,
    WriterLogs,
    WriterPlan,
    assert_gapless,
    assert_in_journal,
    assert_nothing_negative,
    write_until_killed,
)
from tests.world import OPERATIONS, World

pytestmark = pytest.mark.slow

WRITERS = 3
ROUNDS = 4
RUN_S = (0.2, 1.0)  # how long a writer runs before it is killed, drawn per writer
READY_TIMEOUT_S = 60  # a writer's first commit; a stale lock would hold it far longer
# Each writer's share must outlast every round: one writer may run 0.8 s longer than the
# others in a round, sending a few thousand transfers of 1-5 t while receiving none.
SUPPLY_T = 3_000_000


@pytest.fixture
def world(any_store: Store) -> Iterator[World]:
    """A ledger on either database; every invariant is checked when the test ends."""
    world = World.create(any_store, FixedClock(utc_now()))
    yield world
    world.assert_invariants()


@dataclass
class Writer:
    plan: WriterPlan
    process: Any
    ready: Any

    @classmethod
    def start(cls, plan: WriterPlan) -> Writer:
        ready = SPAWN.Event()
        process = SPAWN.Process(target=write_until_killed, args=(plan, ready), daemon=True)
        process.start()
        return cls(plan, process, ready)

    def wait_until_committing(self) -> None:
        """Its first receipt is logged: it connected, took the head and committed."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.ready.wait(timeout=0.1):
            self.assert_alive()
            assert time.monotonic() < deadline, \
                f"{self.plan.log.name}: no commit within {READY_TIMEOUT_S} s (a stale lock?)"

    def assert_alive(self) -> None:
        if not self.process.is_alive():
            error = self.plan.error_log
            raise AssertionError(f"{self.plan.log.name} died on its own (exit code "
                                 f"{self.process.exitcode}):\n"
                                 f"{error.read_text() if error.exists() else ''}")

    def kill(self) -> None:
        self.assert_alive()
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.join()
        assert self.process.exitcode == -signal.SIGKILL


def test_killed_writers_lose_nothing_acknowledged_and_leave_nothing_partial(
        world: World, tmp_path: Path) -> None:
    accounts = [f"W{i}" for i in range(WRITERS)]
    wallets = [world.participant(f"writer{i}", "emitter", account, "trading")
               for i, account in enumerate(accounts)]
    world.allocate("A1", accounts[0], SUPPLY_T)
    for account in accounts[1:]:
        world.by("writer0", "transfer", fromAccount=accounts[0], toAccount=account, batch="A1",
                 quantity=SUPPLY_T // WRITERS)
    rng = random.Random()

    def plan(i: int, name: str) -> WriterPlan:
        return WriterPlan(world.store.url, wallets[i].private_key, "A1", accounts[i],
                          tuple(a for a in accounts if a != accounts[i]),
                          tmp_path / f"{name}-writer{i}.jsonl", rng.getrandbits(64))

    logs = []
    for round_ in range(ROUNDS):
        writers = [Writer.start(plan(i, f"round{round_}")) for i in range(WRITERS)]
        for writer in writers:
            writer.wait_until_committing()
        started = time.monotonic()
        for run_s, i in sorted((rng.uniform(*RUN_S), i) for i in range(WRITERS)):
            time.sleep(max(started + run_s - time.monotonic(), 0))
            writers[i].kill()
        logs += [writer.plan.log for writer in writers]

    # no kill left the journal head locked: a new writer commits (a stale lock would hold it
    # for good on PostgreSQL, and for SQLite's busy timeout of two minutes)
    probe = Writer.start(plan(0, "after"))
    probe.wait_until_committing()
    probe.kill()
    logs.append(probe.plan.log)

    written = WriterLogs.read(logs)
    assert len(written.acknowledged) >= len(logs)  # every writer committed before its kill
    assert_in_journal(world.store, written.acknowledged)
    assert check_invariants(world.store) == []
    head = assert_gapless(world.store)
    with world.store.read() as tx:
        journaled = {"0x" + row.instruction_id.hex(): row.seq
                     for row in tx.journal_rows(0, head + 1)}
    # a submission is one transaction: all of it, in a row, or none of it (no transfer is
    # refused: a writer dies on a refusal, and each holds a million tonnes)
    for submission in written.submissions:
        seqs = sorted(journaled[i] for i in submission if i in journaled)
        assert not seqs or seqs == list(range(seqs[0], seqs[0] + len(submission))), \
            f"a submission of {len(submission)} is in the journal in part, at {seqs}"
    assert_nothing_negative(world.store)
    assert sum(world.holding(a, "A1")["tradable"] for a in accounts) == SUPPLY_T
    report = replay_check(world.store, OPERATIONS)
    assert report.ok, report.first_difference
    assert report.entries == head + 1
