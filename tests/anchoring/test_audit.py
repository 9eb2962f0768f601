"""The audit: an honest ledger passes; a wrong key, a checkpoint computed wrongly or a marker
without its checkpoint is named; the CLI command with its progress bar."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from anchoring.audit import audit
from anchoring.auditor.state_changes import Touched, touched_by
from anchoring.operator import state_commitment
from api.bootstrap import init_ledger, load_operator
from api.cli import main
from custody.signatures import address_of
from ledger.clock import FixedClock
from ledger.store.database import Store
from tests.anchoring.ledger_history import OTHER_KEY, History, build_history
from tests.world import OPERATIONS


@pytest.fixture
def history(sqlite_store: Store, clock: FixedClock) -> History:
    return build_history(sqlite_store, clock)


def test_an_honest_ledger_passes(any_store: Store, clock: FixedClock) -> None:
    history = build_history(any_store, clock)
    seen: list[tuple[int, int]] = []
    report = audit(any_store, OPERATIONS, history.operator,
                   lambda done, total: seen.append((done, total)))
    assert report.ok, report.first_discrepancy
    assert report.checkpoints == 3 and report.entries == history.world.head() + 1
    assert seen and seen[-1] == (report.entries, report.entries)


def test_checkpoints_signed_by_another_key_are_refused(history: History) -> None:
    report = audit(history.store, OPERATIONS, address_of(OTHER_KEY))
    assert report.first_discrepancy is not None
    assert report.first_discrepancy.startswith("checkpoint 1 (marker entry 9): checkpoint 1 "
                                               "carries no signature by the trusted operator")


def test_a_checkpoint_that_missed_a_change_is_named(history: History,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit finds changes by watching the replayed rows, not by reading the journal's
    effects as the checkpointer does: a checkpointer that misses a change is caught."""
    def misses_accounts(*args: object) -> Touched:
        touched = touched_by(*args)  # type: ignore[arg-type]
        touched["account"].clear()
        return touched

    monkeypatch.setattr(state_commitment, "touched_by", misses_accounts)
    history.world.by("registry", "freeze_account", account="HN", reason="audit")
    fourth = history.cut()
    report = audit(history.store, OPERATIONS, history.operator)
    assert report.first_discrepancy is not None
    assert report.first_discrepancy.startswith(
        f"checkpoint 4 (marker entry {fourth.log_size - 1}): signed state root "
        f"{fourth.state_root.hex()}, but the state the journal gives there has root")


def test_a_marker_without_its_signed_checkpoint_is_named(history: History) -> None:
    number, size = history.world.ledger.append_checkpoint_marker()
    report = audit(history.store, OPERATIONS, history.operator)
    assert report.first_discrepancy == (f"checkpoint {number} (marker entry {size - 1}): no "
                                        "signed checkpoint is stored for this marker")


def test_the_audit_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "pw")
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    data = tmp_path / "ledger"
    init_ledger(data, registry="MEE", registry_name="Ministry", password="pw", scrypt_n=2**4)
    runner = CliRunner()
    cli = ["--data-dir", str(data)]
    assert runner.invoke(main, [*cli, "checkpoint"]).exit_code == 0
    result = runner.invoke(main, [*cli, "audit"])
    assert result.exit_code == 0, result.output
    assert "auditing" in result.output  # the progress bar's label
    assert "audit passed: 2 entries replayed" in result.output
    assert "1 signed checkpoints recomputed" in result.output
    operator = load_operator(data)
    assert operator is not None
    assert f"trusting operator key {operator.address} (the ledger's configured" in result.output

    result = runner.invoke(main, [*cli, "audit", "--operator-key", address_of(OTHER_KEY)])
    assert result.exit_code == 1 and "audit FAILED: checkpoint 1" in result.output

    with sqlite3.connect(data / "ledger.db") as db:
        db.execute("UPDATE checkpoints SET note = replace(note, 'checkpoint 1', "
                   "'checkpoint 2')")
    result = runner.invoke(main, [*cli, "audit"])
    assert result.exit_code == 1
    assert "audit FAILED: checkpoint 1 (marker entry 1): checkpoint 2 is not signed by" in \
        result.output
