"""`carbonledger checkpoint`, a process that loads the state tree from the database for each
cut, re-executes the entries since the previous checkpoint like the long-running checkpointer:
an honest ledger is cut; after an insider's edit it exits non-zero with one line naming the
entry, and nothing is signed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from examples.registry_story import DEMO_PASSWORD, create_ledger, tell_registry_story


def _checkpoints(data: Path) -> int:
    with sqlite3.connect(data / "ledger.db") as db:
        (count,) = db.execute("SELECT COUNT(*) FROM checkpoints").fetchone()
    return int(count)


def test_the_cli_cut_refuses_a_changed_store_and_names_the_entry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", DEMO_PASSWORD)
    data = tmp_path / "ledger"
    app = create_ledger(data, lambda *_: None)
    wallets = tell_registry_story(app, lambda *_: None)
    service = app.service

    def cut() -> tuple[int, str]:
        result = CliRunner().invoke(main, ["--data-dir", str(data), "checkpoint"])
        return result.exit_code, result.output

    code, output = cut()
    assert code == 0, output
    receipt = service.submit(wallets["huaneng"].sign(service.operations.instruction(
        "transfer", fromAccount="HN-C", toAccount="BW-C", batch="HN01", quantity=500)).as_json())
    with sqlite3.connect(data / "ledger.db") as db:  # the insider: 500 t more for Baowu
        db.execute("UPDATE holdings SET tradable = tradable + 500 WHERE account = 'BW-C' AND "
                   "batch = 'HN01'")

    code, output = cut()
    assert code != 0
    assert f"entry {receipt.seq}: re-executed it gives" in output, output
    assert "Traceback" not in output
    assert _checkpoints(data) == 1

    with sqlite3.connect(data / "ledger.db") as db:  # put back: the same entries are cut
        db.execute("UPDATE holdings SET tradable = tradable - 500 WHERE account = 'BW-C' AND "
                   "batch = 'HN01'")
    code, output = cut()
    assert code == 0, output
    assert _checkpoints(data) == 2
