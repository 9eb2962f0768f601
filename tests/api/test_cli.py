"""The command line, as an operator uses it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.bootstrap import registry_wallet
from api.cli import main
from api.config import load_config
from examples.registry_story import create_ledger, tell_registry_story
from tests.world import OPERATIONS


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "correct horse")
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    return CliRunner()


def test_init_submit_replay(runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "ledger"
    result = runner.invoke(main, ["--data-dir", str(data), "init", "--registry-id", "MEE"])
    assert result.exit_code == 0, result.output
    assert "genesis entry 0" in result.output
    keystore = json.loads((data / "keystores" / "MEE.json").read_text())
    assert "crypto" in keystore and "ciphertext" in keystore["crypto"]  # encrypted at rest
    assert runner.invoke(main, ["--data-dir", str(data), "init"]).exit_code != 0

    config = load_config(data)
    wallet = registry_wallet(config, data, "correct horse")
    signed = wallet.sign(OPERATIONS.instruction("register_participant", participant="icbc",
                                         name="ICBC", role="bank"))
    path = tmp_path / "instruction.json"
    path.write_text(json.dumps(signed.as_json()))
    result = runner.invoke(main, ["--data-dir", str(data), "submit", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["seq"] == 1

    result = runner.invoke(main, ["--data-dir", str(data), "replay", "--check"])
    assert result.exit_code == 0, result.output
    assert "passed: 2 entries" in result.output

    with sqlite3.connect(data / "ledger.db") as db:
        db.execute("UPDATE participants SET role = 'registry' WHERE id = 'icbc'")
    result = runner.invoke(main, ["--data-dir", str(data), "replay", "--check"])
    assert result.exit_code == 1
    assert "table participants" in result.output


def test_refused_submission_exits_non_zero_with_reason(runner: CliRunner,
                                                       tmp_path: Path) -> None:
    data = tmp_path / "ledger"
    assert runner.invoke(main, ["--data-dir", str(data), "init"]).exit_code == 0
    wallet = registry_wallet(load_config(data), data, "correct horse")
    signed = wallet.sign(OPERATIONS.instruction("open_account", account="X", participant="nobody",
                                         accountType="trading"))
    path = tmp_path / "instruction.json"
    path.write_text(json.dumps(signed.as_json()))
    result = runner.invoke(main, ["--data-dir", str(data), "submit", str(path)])
    assert result.exit_code == 1
    assert '"reason": "unknown_participant"' in result.output


def test_commands_without_a_ledger_say_so(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["--data-dir", str(tmp_path / "none"), "replay", "--check"])
    assert result.exit_code != 0
    assert "run `carbonledger init` first" in result.output


def test_the_registry_story_is_told(tmp_path: Path) -> None:
    told: list[str] = []
    with create_ledger(tmp_path / "demo", told.append) as app:
        tell_registry_story(app, told.append)
    output = "\n".join(told)
    assert "individual_cannot_hold_allowances" in output
    assert "replay --check:" in output


def test_an_array_is_submitted_in_one_transaction_and_a_bad_one_refuses_itself_alone(
        runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "ledger"
    assert runner.invoke(main, ["--data-dir", str(data), "init"]).exit_code == 0
    wallet = registry_wallet(load_config(data), data, "correct horse")
    documents = [wallet.sign(OPERATIONS.instruction(
        "register_participant", participant=name, name=name.upper(), role="bank")).as_json()
        for name in ("icbc", "boc", "ccb")]
    text = json.dumps(documents).replace('"BOC"', '"B\\ud800C"')  # a lone surrogate, escaped
    path = tmp_path / "batch.json"
    path.write_text(text)
    result = runner.invoke(main, ["--data-dir", str(data), "submit", str(path)])
    assert result.exit_code == 1, result.output
    first, second, third = json.loads(result.output)
    assert (first["seq"], third["seq"]) == (1, 2)
    assert second["reason"] == "invalid_text" and "surrogate" in second["detail"]
