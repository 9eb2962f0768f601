"""Nothing is acknowledged before it is on disk (PostgreSQL).

A PostgreSQL writer commits asynchronously, so that the journal head is free before the disk
flush, and then waits for the flush with a durability barrier (ledger/store/sql.py). What an
operator relies on: when a write's commit returns — or, for a writer that defers the wait,
when `Store.wait_durable` returns — the server's WAL has been flushed past that commit. The
check reads the server's own flush position against the position right after the commit
(`tx.commit_lsn`); other databases' writers on the same server can only move the flush further.
"""

from __future__ import annotations

import pytest

from api.group_commit import GroupCommitter
from api.service import LedgerService, Parts
from ledger.clock import FixedClock
from ledger.journal import Receipt
from ledger.store.database import Store
from tests.world import World

WRITES = 25


def _flushed_past(store: Store, lsn: str | None) -> bool:
    assert lsn is not None, "a committed write on PostgreSQL knows where its commit ended"
    with store.read() as tx:
        (reached,) = tx.one("SELECT pg_current_wal_flush_lsn() >= CAST(:lsn AS pg_lsn)",
                            {"lsn": lsn})
    return bool(reached)


def _write(store: Store, *, durable: bool) -> str | None:
    """A write that puts a record in the WAL: the journal head's row, rewritten as it is."""
    with store.write() as tx:
        tx.execute("UPDATE journal_head SET seq = seq WHERE id = 1")
        tx.commit(durable=durable)
        return tx.commit_lsn


def test_a_write_is_on_disk_when_its_commit_returns(pg_store: Store,
                                                    clock: FixedClock) -> None:
    World.create(pg_store, clock)
    not_yet = [lsn for lsn in (_write(pg_store, durable=True) for _ in range(WRITES))
               if not _flushed_past(pg_store, lsn)]
    assert not_yet == []


def test_a_deferred_wait_covers_every_commit_before_it(pg_store: Store,
                                                       clock: FixedClock) -> None:
    World.create(pg_store, clock)
    for _ in range(WRITES):
        positions = [_write(pg_store, durable=False) for _ in range(3)]
        pg_store.wait_durable()
        assert all(_flushed_past(pg_store, lsn) for lsn in positions)


def test_the_group_committer_answers_only_what_is_on_disk(pg_store: Store,
                                                         clock: FixedClock) -> None:
    """One submission at a time, so that the committer's latest commit is the one just
    answered: at each answer the server has flushed past it."""
    world = World.create(pg_store, clock)
    wallet = world.participant("hn", "emitter", "HN", "compliance")
    world.participant("dt", "emitter", "DT", "compliance")
    world.allocate("A1", "HN", 1_000)
    service = LedgerService(Parts(ledger=world.ledger))
    assert service.durability_is_awaited_apart
    documents = [wallet.sign(world.instruction(
        "transfer", fromAccount="HN", toAccount="DT", batch="A1", quantity=1)).as_json()
        for _ in range(WRITES)]
    not_yet = []
    with GroupCommitter(service) as committer:
        for document in documents:
            receipt = committer.submit(document)
            assert isinstance(receipt, Receipt)
            if not _flushed_past(pg_store, pg_store.last_commit_lsn):
                not_yet.append(receipt.seq)
    assert not_yet == []
    assert world.holding("DT", "A1")["tradable"] == WRITES
    world.assert_invariants()


@pytest.mark.parametrize("durable", [True, False])
def test_sqlite_commits_need_no_wait(sqlite_store: Store, clock: FixedClock,
                                     durable: bool) -> None:
    """SQLite's commit is in the write-ahead log when it returns: no position, no wait."""
    World.create(sqlite_store, clock)
    assert _write(sqlite_store, durable=durable) is None
    sqlite_store.wait_durable()  # returns at once

