"""The store's transaction protocol: reads sent with the head lock, a commit that writes all or
nothing, and SQLite's log copied back into the database file by the store's own thread."""

from __future__ import annotations

import shutil
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from ledger.client import new_instruction_id
from ledger.clock import FixedClock
from ledger.model import LotState
from ledger.state import HELD_FIRST_PAGE, ReadAhead, WorkingSet
from ledger.store.database import Store, sqlite_url
from ledger.store.wal import SAFETY_NET_PAGES, WalCopyBack
from tests.world import World


def _fragmented_world(store: Store, clock: FixedClock) -> World:
    """An emitter whose allowances lie in more lots than one read-ahead page."""
    world = World.create(store, clock)
    world.participant("acme", "emitter", "acme-c", "compliance")
    world.participant("beta", "emitter", "beta-c", "compliance")
    world.allocate("cea-25", "acme-c", 1_000)
    for serial in range(2, 2 * HELD_FIRST_PAGE + 4, 2):  # every other serial leaves acme
        world.by("acme", "transfer", fromAccount="acme-c", toAccount="beta-c", batch="cea-25",
                 quantity=1, serialFirst=serial, serialLast=serial)
    return world


def test_reads_sent_with_the_lock_are_what_the_lock_holder_would_read(
        any_store: Store, clock: FixedClock) -> None:
    world = _fragmented_world(any_store, clock)
    with any_store.read() as tx:
        genesis = tx.journal_row(0)
        assert genesis is not None
        genesis_id = genesis.instruction_id
    unknown_id = bytes(32)
    acme_key = world.wallets["acme"].address
    asked = ReadAhead(instruction_ids=[genesis_id, unknown_id],
                      signers=[acme_key, "0x" + "00" * 20], accounts=["acme-c", "nobody-c"],
                      batches=["cea-25", "no-batch"],
                      held=[("acme-c", "cea-25"), ("beta-c", "no-batch")])
    head = world.head()
    with any_store.write(asked) as tx:
        found = tx.read_ahead
        assert found is not None
        assert set(found.records) == {genesis_id}
        assert found.records[genesis_id].seq == 0
        assert [(key.address, participant.id) for key, participant in found.signers] == [
            (acme_key, "acme")]
        assert set(found.accounts) == {"acme-c"}
        assert found.accounts["acme-c"] == tx.accounts(["acme-c"])["acme-c"]
        assert set(found.batches) == {"cea-25"}
        assert found.rules == {"CN-ETS": tx.scheme_rules("CN-ETS")}
        direct = tx.held_lots([("acme-c", "cea-25")], LotState.tradable, HELD_FIRST_PAGE)
        assert found.held[("acme-c", "cea-25")] == direct[("acme-c", "cea-25")]
        assert [lot.first for lot in found.held[("acme-c", "cea-25")]] == [
            1, 3, 5, 7][:HELD_FIRST_PAGE]
        assert found.held[("beta-c", "no-batch")] == []
    assert world.head() == head, "a write transaction that changed nothing moves nothing"


def test_a_commit_whose_flush_fails_writes_nothing_and_the_store_goes_on(
        any_store: Store, clock: FixedClock) -> None:
    world = _fragmented_world(any_store, clock)
    head = world.head()
    with any_store.read() as tx:
        last = tx.journal_row(head)
    assert last is not None
    with pytest.raises(Exception) as failure, any_store.write() as tx:
        ws = WorkingSet(tx, tx.head, tx.checkpoint)
        # the next entry, reusing the last one's instruction id: the journal's unique index
        # refuses it in the middle of a flush that also moves the head
        ws.append(replace(last, seq=head + 1))
        tx.commit(ws)
    assert "instruction_id" in str(failure.value) or "UNIQUE" in str(failure.value)
    assert world.head() == head
    world.by("beta", "transfer", fromAccount="beta-c", toAccount="acme-c", batch="cea-25",
             quantity=1)
    assert world.head() == head + 1


def _file_head(path: str) -> int | None:
    """The journal head as the database file alone has it, ignoring the write-ahead log; None
    while the copy-back is writing the pages read (an immutable read takes no lock, so it can
    see a page half copied: "database disk image is malformed")."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True) as connection:
            row = connection.execute("SELECT seq FROM journal_head WHERE id = 1").fetchone()
    except sqlite3.DatabaseError:
        return None
    return None if row is None else int(row[0])


def test_sqlite_writers_leave_the_wal_copy_back_to_the_stores_thread(
        sqlite_store: Store, clock: FixedClock) -> None:
    world = _fragmented_world(sqlite_store, clock)
    path = make_url(sqlite_store.url).database
    assert path is not None
    with sqlite_store.read() as tx:
        assert tx.one("PRAGMA wal_autocheckpoint")[0] == SAFETY_NET_PAGES
    # a dozen small transactions are far below the writers' own mark: only the store's thread
    # can have copied them into the database file
    deadline = time.monotonic() + 10
    seen = _file_head(path)
    while seen != world.head() and time.monotonic() < deadline:
        time.sleep(0.02)
        seen = _file_head(path)
    assert seen == world.head()


def test_a_steady_writers_log_is_started_over_not_grown(tmp_path: Path) -> None:
    """Commits that keep coming (with a writer's work between them) never leave the log wholly
    copied by a PASSIVE copy-back alone; the copy-back thread's FULL step does, so the writer
    starts the log over instead of growing it towards the safety net."""
    path = tmp_path / "steady.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA synchronous=NORMAL")
    writer.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
    writer.execute("PRAGMA busy_timeout=120000")
    writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, pad BLOB NOT NULL)")
    copy_back = WalCopyBack(str(path), interval=0.05).start()
    try:
        pages_written, started = 0, time.monotonic()
        while pages_written < 3_000 or time.monotonic() - started < 1.0:
            writer.execute("BEGIN IMMEDIATE")
            writer.executemany("INSERT INTO t (pad) VALUES (?)", [(b"x" * 3_000,)] * 4)
            writer.execute("COMMIT")
            pages_written += 4  # at least: each row fills most of a 4 KiB page
            time.sleep(0.0005)  # the writer's own work between transactions
        # the log file never shrinks while it is open: its size is the longest the log grew
        log_pages = (path.parent / "steady.db-wal").stat().st_size // 4096
    finally:
        copy_back.stop()
        writer.close()
    assert log_pages < pages_written / 4, (log_pages, pages_written)


def test_disposing_a_store_stops_its_wal_copy_back(tmp_path: Path, clock: FixedClock,
                                                   migrated_template: Path) -> None:
    path = tmp_path / "ledger.db"
    shutil.copy(migrated_template, path)
    store = Store(sqlite_url(path))
    World.create(store, clock)
    copy_back = store._copy_back
    assert copy_back is not None and copy_back.is_alive()
    store.dispose()
    assert not copy_back.is_alive()


def test_instruction_ids_begin_with_the_time_and_never_repeat() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_instruction_id() for _ in range(1_000)]
    after = time.time_ns() // 1_000_000
    assert all(len(i) == 32 for i in ids)
    assert len(set(ids)) == len(ids)
    stamps = [int.from_bytes(i[:6], "big") for i in ids]
    assert stamps == sorted(stamps)
    assert before <= stamps[0] and stamps[-1] <= after


def test_postgresql_statistics_follow_the_tables_growth(pg_store: Store,
                                                       clock: FixedClock) -> None:
    """A table that grew past autovacuum's threshold is analyzed by the ledger itself, so a
    plan PostgreSQL made for a small table does not outlive it."""
    import psycopg

    from ledger.store.statistics import analyze_stale_tables

    world = _fragmented_world(pg_store, clock)  # fewer than CHECK_EVERY entries: one look
    _wait_for_statistics_look(pg_store, 1)
    url = pg_store.url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url, autocommit=True) as connection:
        _publish_ledger_counters(pg_store)
        analyze_stale_tables(connection)  # a clean start: nothing is stale now
        for _ in range(200):  # 200 journal entries, 200+ lots changed
            world.by("acme", "transfer", fromAccount="acme-c", toAccount="beta-c",
                     batch="cea-25", quantity=1)
        _publish_ledger_counters(pg_store)
        before = _last_analyzed(connection)
        analyzed = analyze_stale_tables(connection)
        after = _last_analyzed(connection)
    assert {"journal", "lots"} <= set(analyzed)
    assert "batches" not in analyzed, "a table that did not change is left alone"
    assert after["journal"] != before["journal"]


def test_postgresql_statistics_are_refreshed_by_the_store_itself(
        pg_store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers only mark that a look is due; the store's own thread analyzes the tables that
    grew, with no call from anyone."""
    import psycopg

    monkeypatch.setattr("ledger.store.statistics.CHECK_EVERY", 20)
    world = _fragmented_world(pg_store, clock)
    url = pg_store.url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url, autocommit=True) as connection:
        before, head = _last_analyzed(connection)["journal"], world.head()
        for _ in range(200):
            world.by("acme", "transfer", fromAccount="acme-c", toAccount="beta-c",
                     batch="cea-25", quantity=1)
        _publish_ledger_counters(pg_store)
        for _ in range(25):  # a look comes due after the counters were published
            world.by("acme", "transfer", fromAccount="acme-c", toAccount="beta-c",
                     batch="cea-25", quantity=1)
        deadline = time.monotonic() + 20
        while _last_analyzed(connection)["journal"] == before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _last_analyzed(connection)["journal"] != before, "the journal was not analyzed"
    assert world.head() == head + 225  # every write went through meanwhile


def _wait_for_statistics_look(store: Store, looks: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        keeper = store._statistics  # the store's own housekeeping thread
        if keeper is not None and keeper.looks >= looks:
            return
        time.sleep(0.05)
    raise AssertionError(f"the planner statistics were not looked at {looks} time(s)")


def _publish_ledger_counters(store: Store) -> None:
    """PostgreSQL publishes a session's table counters up to seconds late; the ledger's
    session publishes them when this transaction ends."""
    with store.read() as tx:
        tx.one("SELECT pg_stat_force_next_flush()")


def _last_analyzed(connection: object) -> dict[str, object]:
    rows = connection.execute(  # type: ignore[attr-defined]
        "SELECT relname, last_analyze FROM pg_stat_user_tables").fetchall()
    return dict(rows)


def test_a_write_that_committed_is_not_reported_failed_by_housekeeping(
        sqlite_store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    world = World.create(sqlite_store, clock)
    sqlite_store.dispose()  # no WAL copy-back runs now; the next write starts one

    def cannot_start(self: object) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr("ledger.store.wal.WalCopyBack.start", cannot_start)
    receipt = world.by("registry", "register_participant", participant="acme", name="Acme",
                       role="emitter")
    assert receipt.seq == 1 and world.head() == 1


def test_a_later_read_goes_with_the_next_round_trip_or_alone_when_asked_first(
        any_store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """`SqlTransaction.later`: a proof's leaf is read beside the tree's nodes (one round trip
    on PostgreSQL); its value is the same as read on its own, in the same snapshot."""
    from ledger.store import sql

    _fragmented_world(any_store, clock)
    trips: list[int] = []
    real_round_trip = sql.round_trip

    def counted(connection: object, statements: list[tuple[str, object]]) -> object:
        trips.append(len(statements))
        return real_round_trip(connection, statements)  # type: ignore[arg-type]

    monkeypatch.setattr(sql, "round_trip", counted)
    count = sql.Read("SELECT COUNT(*) FROM lots", {}, lambda rows: rows[0][0])
    first = sql.Read("SELECT MIN(seq) FROM journal", {}, lambda rows: rows[0][0])
    with any_store.read() as tx:
        counted_lots = tx.later(count)
        assert tx.run([first]) == [0]  # the later read went with this one
        assert counted_lots() > 10
        alone = tx.later(count)
        assert alone() == counted_lots()  # nothing went meanwhile: it is sent by itself
    if any_store.dialect == "postgresql":
        assert trips == [3, 1, 1]  # BEGIN with both reads; the lone one; COMMIT
