"""The scrypt cost of new keystores: eth-account's default unless CARBONLEDGER_KEYSTORE_SCRYPT_N
lowers it for tests and demos, which `key new` says; a value that is not a power of two from
2**10 is refused and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from api.config import KEYSTORE_COST_VARIABLE


def _key_new(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cost: str | None) -> tuple[int, str]:
    if cost is None:
        monkeypatch.delenv(KEYSTORE_COST_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(KEYSTORE_COST_VARIABLE, cost)
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "pw")
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "key", "new", "--name", "k"])
    return result.exit_code, result.output


def _scrypt_n(tmp_path: Path) -> int:
    document = json.loads((tmp_path / "keystores" / "k.json").read_text())
    n: int = document["crypto"]["kdfparams"]["n"]
    return n


def test_a_lowered_cost_is_written_and_said(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = _key_new(tmp_path, monkeypatch, "4096")
    assert code == 0, output
    assert _scrypt_n(tmp_path) == 4096
    assert f"its scrypt cost is 4096 ({KEYSTORE_COST_VARIABLE})" in output


def test_without_the_setting_a_keystore_takes_the_default_cost(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = _key_new(tmp_path, monkeypatch, None)
    assert code == 0, output
    assert _scrypt_n(tmp_path) == 2**18
    assert "scrypt cost" not in output


@pytest.mark.parametrize("cost", ["1000", "512", "abc", "-4096"])
def test_a_cost_that_is_not_a_power_of_two_from_1024_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cost: str) -> None:
    code, output = _key_new(tmp_path, monkeypatch, cost)
    assert code == 3
    assert f"{KEYSTORE_COST_VARIABLE}={cost!r} is not a power of two from 1024" in output
    assert "Traceback" not in output
    assert not (tmp_path / "keystores" / "k.json").exists()
