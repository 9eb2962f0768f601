"""`carbonledger witness` and `carbonledger cosignature add`, and `verify --witness`, as a
witness, an operator and an auditor use them."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.bootstrap import registry_wallet
from api.cli import main
from api.config import load_config
from tests.world import OPERATIONS


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "correct horse")
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    return CliRunner()


def _ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _ledger(runner: CliRunner, tmp_path: Path) -> tuple[Path, str]:
    data = tmp_path / "ledger"
    _ok(runner, "--data-dir", str(data), "init", "--registry-id", "MEE")
    wallet = registry_wallet(load_config(data), data, "correct horse")
    signed = wallet.sign(OPERATIONS.instruction("register_participant", participant="icbc",
                                                name="ICBC", role="bank"))
    (tmp_path / "i.json").write_text(json.dumps(signed.as_json()))
    _ok(runner, "--data-dir", str(data), "submit", str(tmp_path / "i.json"))
    _ok(runner, "--data-dir", str(data), "checkpoint")
    operator = _ok(runner, "--data-dir", str(data), "operator-key").strip()
    return data, operator


def test_a_witness_cosigns_the_operator_keeps_it_and_the_auditor_requires_it(
        runner: CliRunner, tmp_path: Path) -> None:
    data, operator = _ledger(runner, tmp_path)
    w = ["witness", "--witness-dir", str(tmp_path / "w1")]
    created = _ok(runner, *w, "init", "--name", "witness.example/w1", "--operator-key", operator)
    vkey = _ok(runner, *w, "key").splitlines()[0].removeprefix("vkey ")
    assert f"vkey {vkey}" in created and vkey.startswith("witness.example/w1+")

    copy = tmp_path / "copy"  # what an operator hands a witness: a copy of its data directory
    shutil.copytree(data, copy)
    ran = _ok(runner, *w, "run", "--source", str(copy))
    assert "cosigned checkpoint 1:" in ran and "cosigned up to checkpoint 1" in ran
    assert "replayed 3 entries" in ran
    again = _ok(runner, *w, "run", "--source", str(copy))  # nothing new: nothing done
    assert "replayed 0 entries" in again and "cosigned checkpoint" not in again

    bundle = tmp_path / "entry.json"
    _ok(runner, "--data-dir", str(data), "proof", "entry", "1", "-o", str(bundle))
    verify = ["--data-dir", str(data), "verify", str(bundle), "--operator-key", operator]
    missing = runner.invoke(main, [*verify, "--witness", vkey])
    assert missing.exit_code == 1 and "(too_few_cosignatures)" in missing.output

    note = tmp_path / "w1" / "cosigned" / "1.note"
    kept = _ok(runner, "--data-dir", str(data), "cosignature", "add", str(note),
               "--witness", vkey)
    assert "cosignature of checkpoint 1 by witness.example/w1 kept" in kept
    _ok(runner, "--data-dir", str(data), "proof", "entry", "1", "-o", str(bundle))
    verified = _ok(runner, *verify, "--witness", vkey)
    assert "VERIFIED" in verified and "WITNESSED: the checkpoint is cosigned by 1 of the 1 " \
        "witnesses trusted: witness.example/w1." in verified
    assert "WITNESSED" not in _ok(runner, *verify)  # no witness named: as before

    # a second witness that has not cosigned: all named are required unless a threshold says
    other = ["witness", "--witness-dir", str(tmp_path / "w2")]
    _ok(runner, *other, "init", "--name", "witness.example/w2", "--operator-key", operator)
    vkey2 = _ok(runner, *other, "key").splitlines()[0].removeprefix("vkey ")
    both = runner.invoke(main, [*verify, "--witness", vkey, "--witness", vkey2])
    assert both.exit_code == 1 and "1 of the 2 witnesses you trust, 2 required" in both.output
    _ok(runner, *verify, "--witness", vkey, "--witness", vkey2, "--witness-threshold", "1")
    # a forged cosignature: the witness's line moved onto another key name's vkey
    bad = runner.invoke(main, [*verify, "--witness", vkey[:-6] + "AAAAA="])
    assert bad.exit_code == 2 and "--witness" in bad.output  # its key ID no longer matches
    over = runner.invoke(main, [*verify, "--witness", vkey, "--witness-threshold", "2"])
    assert over.exit_code == 2

    # the operator refuses a cosignature it cannot verify, and keeps nothing
    refused = runner.invoke(main, ["--data-dir", str(data), "cosignature", "add", str(note),
                                   "--witness", vkey2])
    assert refused.exit_code == 1 and "carries no cosignature by witness.example/w2" \
        in refused.output


def test_a_witness_refuses_a_tampered_copy_in_one_line_and_for_good(
        runner: CliRunner, tmp_path: Path) -> None:
    data, operator = _ledger(runner, tmp_path)
    w = ["witness", "--witness-dir", str(tmp_path / "w1")]
    _ok(runner, *w, "init", "--name", "witness.example/w1", "--operator-key", operator)
    copy = tmp_path / "copy"
    shutil.copytree(data, copy)
    with sqlite3.connect(copy / "ledger.db") as db:
        db.execute("UPDATE journal SET entry = CAST('{}' AS BLOB) WHERE seq = 1")
    result = runner.invoke(main, [*w, "run", "--source", str(copy)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith(
        "Error: REFUSED: entry 1: its bytes in the operator's journal do not hash")
    again = runner.invoke(main, [*w, "run", "--source", str(data)])
    assert again.exit_code == 1 and "refused before, and for good" in again.output
    nowhere = runner.invoke(main, [*w, "run", "--source", str(tmp_path / "nowhere")])
    assert nowhere.exit_code == 3
    unmade = runner.invoke(main, ["witness", "--witness-dir", str(tmp_path / "none"), "run",
                                  "--source", str(data)])
    assert unmade.exit_code == 3 and "witness init" in unmade.output
