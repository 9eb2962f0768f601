"""replay --check rebuilds everything from the journal and names the first difference."""

from __future__ import annotations

import sqlite3

import pytest

from ledger.replay import replay_check
from tests.world import OPERATIONS, World


@pytest.fixture
def history(world: World) -> World:
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("gw", "project_owner", "GW", "trading")
    world.allocate("A1", "HN", 1000)
    world.issue_credits("C1", "GW", 500)
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1", quantity=70)
    world.by("gw", "retire", account="GW", batch="C1", quantity=5, beneficiary="b",
             reason="r", claim="c")
    world.by("registry", "freeze_account", account="GW", reason="audit")
    return world


def _db(world: World) -> sqlite3.Connection:
    return sqlite3.connect(world.store.url.removeprefix("sqlite:///"))


def test_an_honest_ledger_replays_exactly(history: World) -> None:
    report = replay_check(history.store, OPERATIONS)
    assert report.ok, report.first_difference
    assert report.entries == history.head() + 1


def test_checkpoint_markers_replay_and_commit_to_their_position(history: World) -> None:
    assert history.ledger.append_checkpoint_marker() == (1, history.head() + 1)
    history.by("registry", "unfreeze_account", account="GW", reason="audit closed")
    number, size = history.ledger.append_checkpoint_marker()
    assert number == 2
    with history.store.read() as tx:
        marker = tx.journal_row(size - 1)
    assert marker is not None and marker.entry == f'{{"checkpoint":2,"seq":{size - 1}}}'.encode()
    assert replay_check(history.store, OPERATIONS).ok


def test_a_changed_projection_row_is_named(history: World) -> None:
    with _db(history) as db:
        db.execute("UPDATE holdings SET tradable = tradable + 1 WHERE account = 'GW' "
                   "AND batch = 'C1'")
    report = replay_check(history.store, OPERATIONS)
    assert not report.ok and "table holdings" in str(report.first_difference)
    with _db(history) as db:  # restore, so that the fixture's invariant check passes
        db.execute("UPDATE holdings SET tradable = tradable - 1 WHERE account = 'GW' "
                   "AND batch = 'C1'")


def test_a_changed_journal_byte_is_named_with_its_entry(history: World) -> None:
    with _db(history) as db:
        seq = db.execute("SELECT seq FROM journal WHERE op = 'freeze_account'").fetchone()[0]
        entry = db.execute("SELECT entry FROM journal WHERE seq = ?", (seq,)).fetchone()[0]
        assert b'"audit"' in entry
        db.execute("UPDATE journal SET entry = ? WHERE seq = ?",
                   (entry.replace(b'"audit"', b'"audiT"'), seq))
    report = replay_check(history.store, OPERATIONS)
    assert report.first_difference is not None
    assert report.first_difference.startswith(f"entry {seq}: refused on replay: bad_signature")
    with _db(history) as db:
        db.execute("UPDATE journal SET entry = ? WHERE seq = ?", (entry, seq))


def test_a_deleted_entry_is_named(history: World) -> None:
    with _db(history) as db:
        row = db.execute("SELECT * FROM journal WHERE seq = 3").fetchone()
        db.execute("DELETE FROM journal WHERE seq = 3")
    report = replay_check(history.store, OPERATIONS)
    assert report.first_difference == "entry 3: missing from the journal"
    with _db(history) as db:
        db.execute(f"INSERT INTO journal VALUES ({', '.join('?' * len(row))})", row)


def test_reordered_entries_are_named(history: World) -> None:
    with _db(history) as db:
        a = db.execute("SELECT entry, leaf_hash FROM journal WHERE seq = 8").fetchone()
        b = db.execute("SELECT entry, leaf_hash FROM journal WHERE seq = 9").fetchone()
        db.execute("UPDATE journal SET instruction_id = zeroblob(32) WHERE seq = 8")
        db.execute("UPDATE journal SET entry = ?, leaf_hash = ? WHERE seq = 8", b)
        db.execute("UPDATE journal SET entry = ?, leaf_hash = ? WHERE seq = 9", a)
    report = replay_check(history.store, OPERATIONS)
    assert report.first_difference is not None
    assert report.first_difference.startswith("entry 8")
    with _db(history) as db:
        db.execute("UPDATE journal SET entry = ?, leaf_hash = ? WHERE seq = 8", a)
        db.execute("UPDATE journal SET entry = ?, leaf_hash = ? WHERE seq = 9", b)
    # the instruction id column is derived: replay --check notices it too
    report = replay_check(history.store, OPERATIONS)
    assert report.first_difference == "entry 8: journal columns differ from the entry they index"
    with _db(history) as db:
        db.execute("UPDATE journal SET instruction_id = ? WHERE seq = 8",
                   (bytes.fromhex(__import__("json").loads(a[0])["instruction"]["id"][2:]),))
