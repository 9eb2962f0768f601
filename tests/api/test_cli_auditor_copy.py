"""What a newcomer meets first: `--version`; an auditor holding only a copy of the database
(`audit --store`, `replay --check --store`, no `init`, no config.json); and `proof lot` of a
lot that was split, which names the lots that replaced it."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.bootstrap import load_operator
from api.cli import main
from examples.registry_story import DEMO_PASSWORD, create_ledger, tell_registry_story


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The registry's story, with one checkpoint cut after it."""
    data = tmp_path_factory.mktemp("story") / "ledger"
    with create_ledger(data, lambda _: None) as app:
        tell_registry_story(app, lambda _: None)
        app.service.cut_checkpoint()
    return data


@pytest.fixture
def auditor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ledger: Path) -> Iterator[Path]:
    """An auditor's own directory, with only a copy of the ledger's database in it."""
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    monkeypatch.delenv("CARBONLEDGER_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    shutil.copy(ledger / "ledger.db", tmp_path / "copy.db")
    yield tmp_path / "copy.db"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def operator_of(ledger: Path) -> str:
    operator = load_operator(ledger)
    assert operator is not None
    return operator.address


def test_the_command_says_its_version() -> None:
    code, output = run("--version")
    assert code == 0 and output == f"carbonledger {version('carbonledger')}\n"


def test_an_auditor_audits_and_replays_a_copy_of_the_database_alone(auditor: Path,
                                                                    ledger: Path) -> None:
    operator = operator_of(ledger)
    code, output = run("audit", "--store", str(auditor), "--operator-key", operator)
    assert code == 0, output
    assert f"trusting operator key {operator} (given with --operator-key)" in output
    assert "audit passed: 22 entries" in output and "1 signed checkpoints recomputed" in output
    code, output = run("replay", "--check", "--store", f"sqlite:///{auditor}",
                       "--operator-key", operator)
    assert code == 0 and "replay --check passed: 22 entries, 1 signed checkpoints" in output
    assert not (auditor.parent / ".carbonledger").exists()  # nothing was initialised

    # Checkpoints need the key they are trusted under: named, never guessed.
    for command in (["audit"], ["replay", "--check"]):
        code, output = run(*command, "--store", str(auditor))
        assert code == 2 and "pass --operator-key ADDRESS" in output
    code, output = run("audit", "--store", str(auditor), "--operator-key",
                       "0x" + "12" * 20)
    assert code == 1 and "audit FAILED" in output
    code, output = run("replay", "--check", "--store", str(auditor), "--operator-key", "me")
    assert code == 2 and "--operator-key" in output

    with sqlite3.connect(auditor) as db:  # the copy altered behind the journal's back
        db.execute("UPDATE holdings SET tradable = tradable + 1 WHERE rowid = 1")
    code, output = run("audit", "--store", str(auditor), "--operator-key", operator)
    assert code == 1 and "audit FAILED" in output
    code, output = run("replay", "--check", "--store", str(auditor), "--operator-key",
                       operator)
    assert code == 1 and "replay --check FAILED" in output


def test_a_missing_store_is_named_and_nothing_is_created(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = run("audit", "--store", str(tmp_path / "none.db"), "--operator-key",
                       "0x" + "12" * 20)
    assert code == 3 and "no database file" in output
    assert not (tmp_path / "none.db").exists()
    code, output = run("replay", "--check", "--store", str(tmp_path))
    assert code == 3 and "is a directory" in output
    code, output = run("replay", "--check", "--operator-key", "0x" + "12" * 20)
    assert code == 2 and "--operator-key goes with --store" in output


def test_a_store_without_checkpoints_needs_no_key(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", DEMO_PASSWORD)
    with create_ledger(tmp_path / "fresh", lambda _: None):
        pass
    database = tmp_path / "fresh" / "ledger.db"
    code, output = run("audit", "--store", str(database))
    assert code == 0 and "audit passed: 1 entries" in output
    code, output = run("audit", "--store", str(database), "--expect-checkpoint", "1")
    assert code == 1 and "checkpoint 1 is known to exist" in output
    code, output = run("replay", "--check", "--store", str(database))
    assert code == 0 and "replay --check passed: 1 entries" in output


def lot_created_by(ledger: Path, seq: int) -> dict[str, list[str]]:
    with sqlite3.connect(ledger / "ledger.db") as db:
        (entry,) = db.execute("SELECT entry FROM journal WHERE seq = ?", (seq,)).fetchone()
    effects = json.loads(entry)["effects"]
    return {"closed": effects["closed"], "created": [c["id"] for c in effects["created"]]}


def test_proof_of_a_split_lot_names_the_lots_that_replaced_it(
        ledger: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", DEMO_PASSWORD)
    split = lot_created_by(ledger, 16)  # a transfer of part of lot 13.0
    assert split == {"closed": ["13.0"], "created": ["16.0", "16.1"]}
    code, output = run("--data-dir", str(ledger), "proof", "lot", "13.0")
    assert code == 1
    assert "lot 13.0 (serials 1-120000 of HN01) is not live at checkpoint 1: entry 16 " \
           "(transfer) closed it and replaced it with 16.0 (serials 1-15000, BW-C, " \
           "tradable); 16.1 (serials 15001-120000, HN-C, tradable)" in output
    assert '"format"' not in output  # no bundle

    code, output = run("--data-dir", str(ledger), "proof", "lot", "13.0", "--absent")
    assert code == 0 and json.loads(output)["state"]["value"] is None
    code, output = run("--data-dir", str(ledger), "proof", "lot", "16.0")
    assert code == 0 and json.loads(json.loads(output)["state"]["value"])["first"] == 1
    # A lot that never was: its absence is proved, as before.
    code, output = run("--data-dir", str(ledger), "proof", "lot", "999.0")
    assert code == 0 and json.loads(output)["state"]["value"] is None
