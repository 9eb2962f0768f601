"""Lost or altered history never reads as a pass: `replay --check` and the audit hold the journal
to the signed checkpoints (marker position, log root from the entries' bytes, signature, times)
and fail on a journal that is empty, shorter than its checkpoints say, or shorter than the
auditor knows it must be; an entry time that steps back is refused in journal format 2 and
reported in format 1.

The history (tests/anchoring/ledger_history.py): checkpoint 1 = entries 0..9, checkpoint 2 =
10..13, checkpoint 3 = 14..17, entry 18 pending; entries 0..12 are accepted at 09:00:00 and
entries 13.. at 09:00:30.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from anchoring.audit import audit, replay_against_checkpoints
from anchoring.auditor.merkle import leaf_hash
from api.bootstrap import build, init_ledger, open_ledger, registry_wallet
from api.cli import main
from api.config import load_config
from api.service import ServiceUnavailable
from ledger.clock import FixedClock, utc_now
from ledger.formats import writing_form
from ledger.replay import replay_check
from ledger.store.database import Store, sqlite_url
from tests.anchoring.ledger_history import History, build_history
from tests.world import OPERATIONS

T0, T30 = "2026-06-01T09:00:00.000Z", "2026-06-01T09:00:30.000Z"


@pytest.fixture
def history(sqlite_store: Store, clock: FixedClock) -> History:
    history = build_history(sqlite_store, clock)
    assert [c.log_size for c in history.checkpoints] == [10, 14, 18]
    return history


def _db(store: Store) -> closing[sqlite3.Connection]:
    return closing(sqlite3.connect(store.url.removeprefix("sqlite:///")))


def _retime(store: Store, seq: int, old: str, new: str) -> None:
    """Change an entry's time in its bytes and its column, and recompute its leaf hash: the
    entry then replays as it is stored (finding 4 of issue 13)."""
    with _db(store) as db, db:
        (entry,) = db.execute("SELECT entry FROM journal WHERE seq = ?", (seq,)).fetchone()
        assert old.encode() in entry
        changed = bytes(entry).replace(old.encode(), new.encode(), 1)
        db.execute("UPDATE journal SET entry = ?, leaf_hash = ?, accepted_at = ? WHERE seq = ?",
                   (changed, leaf_hash(changed), new, seq))


def _both(history: History) -> Iterator[str | None]:
    """What `replay --check` and the audit say, in that order."""
    yield replay_against_checkpoints(history.store, OPERATIONS, history.operator) \
        .first_difference
    yield audit(history.store, OPERATIONS, history.operator).first_discrepancy


def test_an_honest_ledger_passes_both(history: History) -> None:
    report = replay_against_checkpoints(history.store, OPERATIONS, history.operator)
    assert report.ok, report.first_difference
    assert (report.entries, report.checkpoints) == (19, 3)
    assert audit(history.store, OPERATIONS, history.operator).ok


def test_a_retimed_entry_with_its_hash_recomputed_fails_against_its_checkpoint(
        history: History) -> None:
    _retime(history.store, 12, T0, "2026-06-01T09:00:10.000Z")  # still between its neighbours
    assert replay_check(history.store, OPERATIONS).ok  # the journal agrees with itself...
    for said in _both(history):  # ...but not with what was signed
        assert said is not None
        assert said.startswith("checkpoint 2 (marker entry 13): signed log root "), said
        assert "but entries 0..13 hash to" in said


def test_a_format_2_entry_moved_back_in_time_is_refused(history: History) -> None:
    """From journal format 2 on, the engine never accepts an entry before the one ahead of
    it, so entry 18 (after the last checkpoint, which no signature covers yet) moved back is a
    difference of its own: the replay rebuilds it at its neighbour's time."""
    _retime(history.store, 18, T30, "2026-06-01T09:00:29.750Z")
    for said in _both(history):
        assert said is not None and said.startswith("entry 18: "), said
        assert "accepted_at" in said, said


def test_a_format_1_entry_time_that_steps_back_is_reported_not_refused(
        sqlite_store: Store, clock: FixedClock) -> None:
    """Format 1 took each writer's clock as it was, so honest writers whose clocks differed
    journaled times a little out of order: whatever the engine journaled, replay accepts. The
    largest step back is reported, since entry 18, after the last checkpoint, could have been
    back-dated by whoever holds the database."""
    with writing_form(1):
        history = build_history(sqlite_store, clock)
    replayed = replay_against_checkpoints(history.store, OPERATIONS, history.operator)
    assert replayed.ok and replayed.largest_step_back is None
    _retime(history.store, 18, T30, "2026-06-01T09:00:29.750Z")
    replayed = replay_against_checkpoints(history.store, OPERATIONS, history.operator)
    audited = audit(history.store, OPERATIONS, history.operator)
    assert replayed.ok and audited.ok, (replayed.first_difference, audited.first_discrepancy)
    assert replayed.largest_step_back == audited.largest_step_back == (18, 0.25)


def test_a_marker_whose_time_is_not_its_checkpoints_is_named(history: History) -> None:
    """A marker's bytes hold no time: the signed note's time is what its column must equal."""
    with _db(history.store) as db, db:
        db.execute("UPDATE journal SET accepted_at = '2026-06-01T09:00:20.000Z' WHERE seq = 13")
    assert replay_check(history.store, OPERATIONS).ok
    expected = (f"checkpoint 2 (marker entry 13): signed at {T30}, but its marker entry was "
                "accepted at 2026-06-01T09:00:20.000Z: a checkpoint's time is its marker's")
    assert list(_both(history)) == [expected, expected]


def _cut_journal(store: Store, keep: int, markers: int) -> None:
    """Delete every entry from `keep` on, and the head row with them: a journal cut short
    (or emptied) consistently, its signed checkpoints left behind."""
    with _db(store) as db, db:
        db.execute("DELETE FROM journal WHERE seq >= ?", (keep,))
        db.execute("UPDATE journal_head SET seq = ?, checkpoint = ?", (keep - 1, markers))


def test_a_journal_shorter_than_its_checkpoints_names_what_is_missing(
        history: History) -> None:
    _cut_journal(history.store, 10, 1)
    assert replay_check(history.store, OPERATIONS).first_difference is not None  # the tables
    expected = ("checkpoint 3 is signed for a log of 18 entries, but the journal holds 10: "
                "entries 10..17 and the markers of checkpoints 2..3 are missing (a store "
                "restored from an older backup, cut short or emptied)")
    assert list(_both(history)) == [expected, expected]


def test_an_emptied_journal_names_every_entry_its_checkpoints_sign(history: History) -> None:
    _cut_journal(history.store, 0, 0)
    assert replay_check(history.store, OPERATIONS).first_difference == (
        "the journal is empty: every ledger begins with its genesis entry, so this store lost "
        "its journal or was never a ledger")
    expected = ("checkpoint 3 is signed for a log of 18 entries, but the journal holds 0: "
                "entries 0..17 and the markers of checkpoints 1..3 are missing (a store "
                "restored from an older backup, cut short or emptied)")
    assert list(_both(history)) == [expected, expected]


def test_an_empty_store_never_passes(sqlite_store: Store) -> None:
    """Nothing at all: no journal, no checkpoints. Not a pass over 0 entries."""
    empty = "the journal is empty: every ledger begins with its genesis entry"
    for said in (replay_check(sqlite_store, OPERATIONS).first_difference,
                 replay_against_checkpoints(sqlite_store, OPERATIONS, None).first_difference,
                 audit(sqlite_store, OPERATIONS, "0x" + "11" * 20).first_discrepancy):
        assert said is not None and said.startswith(empty), said
    expected = audit(sqlite_store, OPERATIONS, "0x" + "11" * 20, expect_checkpoint=2)
    assert expected.first_discrepancy is not None
    assert expected.first_discrepancy.startswith(
        "checkpoint 2: expected by the auditor, but the journal's markers stop at checkpoint "
        "0: checkpoints 1..2 and the entries they cover are missing")


def test_a_store_cut_short_with_its_checkpoints_fails_when_the_auditor_expects_more(
        history: History) -> None:
    """A store restored from an older backup is consistent with itself: only what the auditor
    knows (or the chain: tests/anchoring/test_end_to_end.py) tells it is not the latest."""
    assert audit(history.store, OPERATIONS, history.operator, expect_checkpoint=3).ok
    report = audit(history.store, OPERATIONS, history.operator, expect_checkpoint=4)
    assert report.first_discrepancy == (
        "checkpoint 4: expected by the auditor, but the journal's markers stop at checkpoint "
        "3: checkpoint 4 and the entries it covers are missing from this database (restored "
        "from an older backup, cut short or emptied), or it is another ledger")


# --- the commands ---------------------------------------------------------------------------


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "pw")
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    directory = tmp_path / "ledger"
    init_ledger(directory, registry="MEE", registry_name="Ministry", password="pw",
                scrypt_n=2**4)
    assert CliRunner().invoke(main, ["--data-dir", str(directory), "checkpoint"]).exit_code == 0
    return directory


def _run(data: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--data-dir", str(data), *args])
    return result.exit_code, result.output


def test_replay_check_compares_the_signed_checkpoints(data: Path) -> None:
    code, output = _run(data, "replay", "--check")
    assert code == 0, output
    assert "replay --check passed: 2 entries, 1 signed checkpoints agree with them" in output
    assert "note:" not in output  # no time steps back
    with sqlite3.connect(data / "ledger.db") as db:  # the marker moved a second later
        (moment,) = db.execute("SELECT accepted_at FROM journal WHERE seq = 1").fetchone()
        # one second later, carried into the minute (and hour) when the second is 59
        later = (datetime.strptime(moment, "%Y-%m-%dT%H:%M:%S.%fZ") + timedelta(seconds=1)
                 ).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"
        db.execute("UPDATE journal SET accepted_at = ? WHERE seq = 1", (later,))
    code, output = _run(data, "replay", "--check")
    assert code == 1
    assert (f"replay --check FAILED: checkpoint 1 (marker entry 1): signed at {moment}, but its "
            f"marker entry was accepted at {later}") in output


def test_audit_expect_checkpoint(data: Path) -> None:
    code, output = _run(data, "audit", "--expect-checkpoint", "1")
    assert code == 0 and "audit passed: 2 entries" in output, output
    code, output = _run(data, "audit", "--expect-checkpoint", "2")
    assert code == 1
    assert "audit FAILED: checkpoint 2: expected by the auditor, but the journal's markers " \
           "stop at checkpoint 1" in output
    code, output = _run(data, "audit", "--expect-checkpoint", "0")
    assert code == 2 and "Invalid value for '--expect-checkpoint'" in output


def test_replay_without_the_operator_key_does_not_pass_over_signed_checkpoints(
        data: Path) -> None:
    (data / "operator.json").unlink()
    with build(load_config(data), data) as app, pytest.raises(ServiceUnavailable,
                                                              match=r"restore operator\.json"):
        app.service.replay_check()
    code, output = _run(data, "replay", "--check")
    assert code == 3 and "no operator key is configured" in output, output


@pytest.mark.parametrize("form", [1, 2])
def test_replay_and_audit_on_a_time_that_steps_back(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    form: int) -> None:
    """In format 1 a step back is a note (exit 0); in format 2, where the engine never
    journals one, it is a difference (exit 1)."""
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "pw")
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    data = tmp_path / "ledger"
    with writing_form(form):
        init_ledger(data, registry="MEE", registry_name="Ministry", password="pw",
                    scrypt_n=2**4)
        config = load_config(data)
        ledger = open_ledger(config, utc_now)
        ledger.submit(registry_wallet(config, data, "pw").sign(OPERATIONS.instruction(
            "register_participant", participant="icbc", name="ICBC", role="bank")))
        ledger.store.dispose()
    store = Store(sqlite_url(data / "ledger.db"))
    try:
        with store.read() as tx:
            genesis, second = tx.journal_row(0), tx.journal_row(1)
        assert genesis is not None and second is not None
        _retime(store, 1, second.accepted_at, "2000-01-01T00:00:00.000Z")
    finally:
        store.dispose()
    for command in (["replay", "--check"], ["audit"]):
        code, output = _run(data, *command)
        if form == 1:
            assert code == 0, output
            assert "note: entry 1 was accepted" in output and "the largest step back" in output
        else:
            assert code == 1 and "entry 1: " in output and "accepted_at" in output, output
