"""A lost PostgreSQL connection reaches the caller as a named StoreError that says whether the
transaction may have committed; the first round trip, before anything could commit, is retried
inside the store; a dead connection is never lent out again. The backends are really
terminated (pg_terminate_backend); only the moment of a reply lost after COMMIT is arranged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from ledger.store import sql
from ledger.store.database import Store
from ledger.store.errors import StoreError, StoreFailure
from tests.ledger.load_faults import terminate_backends
from tests.world import World

pytestmark = pytest.mark.postgres


@pytest.fixture
def market(pg_store: Store) -> Iterator[World]:
    from datetime import UTC, datetime

    from ledger.clock import FixedClock

    world = World.create(pg_store, FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC)))
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("baowu", "emitter", "BW", "compliance")
    world.allocate("A1", "HN", 1000)
    yield world
    world.assert_invariants()


def _transfer(world: World, quantity: int = 10) -> Any:
    return world.wallets["huaneng"].sign(world.instruction(
        "transfer", fromAccount="HN", toAccount="BW", batch="A1", quantity=quantity))


def test_a_connection_dropped_between_transactions_is_replaced_unseen(market: World) -> None:
    terminate_backends(market.store.url)
    receipt = market.submit(_transfer(market))
    assert not receipt.duplicate
    assert market.holding("BW", "A1")["tradable"] == 10


def test_a_connection_lost_before_commit_says_nothing_was_written(market: World) -> None:
    signed = _transfer(market)
    head = market.head()
    with pytest.raises(StoreError) as lost, market.store.write() as tx:
        terminate_backends(market.store.url)
        tx.journal_row(0)  # any statement: the connection is gone
    assert lost.value.code is StoreFailure.connection_lost and lost.value.outcome_known
    assert market.head() == head
    receipt = market.submit(signed)
    assert not receipt.duplicate and receipt.seq == head + 1


def test_a_reply_lost_after_commit_is_outcome_unknown_and_resubmission_is_a_duplicate(
        market: World, monkeypatch: pytest.MonkeyPatch) -> None:
    real_round_trip = sql.round_trip

    def reply_lost_after_commit(connection: psycopg.Connection[Any],
                                statements: Any) -> Any:
        results = real_round_trip(connection, statements)
        if ("COMMIT", {}) in statements:  # committed; now the connection dies unanswered
            terminate_backends(market.store.url)
            real_round_trip(connection, [("SELECT 1", {})])  # raises the driver's own error
        return results

    signed = _transfer(market)
    head = market.head()
    monkeypatch.setattr(sql, "round_trip", reply_lost_after_commit)
    with pytest.raises(StoreError) as unknown:
        market.submit(signed)
    monkeypatch.setattr(sql, "round_trip", real_round_trip)
    assert unknown.value.code is StoreFailure.outcome_unknown
    assert not unknown.value.outcome_known
    assert "SAME signed instructions" in str(unknown.value)
    again = market.submit(signed)  # the rule for clients: the same signed instruction
    assert again.duplicate and again.seq == head + 1
    assert market.head() == head + 1
    assert market.holding("BW", "A1")["tradable"] == 10  # once, not twice


def test_no_thread_fails_twice_after_every_backend_was_dropped(market: World) -> None:
    """Several threads, each with its connection, and the pool's idle ones: after a drop of
    them all, every thread's next call succeeds (pre-ping at checkout, retry of the first
    round trip)."""
    barrier = threading.Barrier(3)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            with market.store.read() as tx:
                tx.journal_row(0)
            barrier.wait()  # every thread holds a connection; the parent drops them all
            barrier.wait()
            with market.store.read() as tx:
                tx.journal_row(0)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    barrier.wait()
    assert terminate_backends(market.store.url) >= 2
    barrier.wait()
    for thread in threads:
        thread.join()
    assert failures == []
    market.submit(_transfer(market))


def test_an_unreachable_database_is_named_and_nothing_is_retried_forever() -> None:
    store = Store("postgresql+psycopg://postgres@127.0.0.1:1/test")
    with pytest.raises(StoreError) as unreachable, store.read():
        pass
    assert unreachable.value.code is StoreFailure.unreachable
    assert unreachable.value.outcome_known
    store.dispose()


def test_a_read_sends_its_begin_with_its_first_reads_and_replaces_a_lost_connection(
        market: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read's BEGIN travels with its first reads, and its head is read when asked for; a
    connection found lost in that first round trip is replaced and the round trip sent
    again, since nothing can have run in it."""
    sent: list[list[str]] = []
    real_round_trip = sql.round_trip

    def recorded(connection: psycopg.Connection[Any], statements: Any) -> Any:
        sent.append([statement for statement, _ in statements])
        return real_round_trip(connection, statements)

    monkeypatch.setattr(sql, "round_trip", recorded)
    with market.store.read():
        pass
    assert sent == []  # a snapshot nothing was read from: nothing begun, nothing to end

    head = market.head()
    terminate_backends(market.store.url)
    sent.clear()
    with market.store.read() as tx:
        row = tx.journal_row(0)
        assert tx.head == head  # read when asked for, in the same snapshot
    assert row is not None and row.seq == 0
    first, again, head_read, commit = sent  # lost, sent again on a new connection, ...
    assert first == again and first[0].startswith("BEGIN") and len(first) == 2
    assert len(head_read) == 1 and "FROM journal_head" in head_read[0]
    assert commit == ["COMMIT"]

    sent.clear()  # a lookup that says it is the last: its COMMIT goes with it
    with market.store.read() as tx:
        ((key, participant),) = tx.signers([market.wallets["huaneng"].address], last=True)
    assert participant.id == "huaneng" and not key.revoked
    (only,) = sent
    assert only[0].startswith("BEGIN") and only[-1] == "COMMIT" and len(only) == 3


def test_a_read_the_database_refuses_is_not_sent_again(market: World,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real_round_trip = sql.round_trip

    def counted(connection: psycopg.Connection[Any], statements: Any) -> Any:
        nonlocal calls
        calls += 1
        return real_round_trip(connection, statements)

    monkeypatch.setattr(sql, "round_trip", counted)
    with pytest.raises(psycopg.errors.UndefinedTable), market.store.read() as tx:
        tx.all("SELECT * FROM no_such_table")
    assert calls == 1
    monkeypatch.setattr(sql, "round_trip", real_round_trip)
    with market.store.read() as tx:  # and the thread's connection still serves
        assert tx.head == market.head()
