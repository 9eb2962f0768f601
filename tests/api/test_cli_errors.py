"""A broken data directory is answered in one line that says what is wrong and what to do,
never with a traceback; `init` checks its arguments before it writes anything."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main

Breakage = Callable[[Path], None]


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "pw")
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    directory = tmp_path / "ledger"
    result = CliRunner().invoke(main, ["--data-dir", str(directory), "init",
                                       "--registry-id", "MEE"])
    assert result.exit_code == 0, result.output
    return directory


def _write(name: str, text: str) -> Breakage:
    def breakage(data: Path) -> None:
        (data / name).write_text(text)

    return breakage


@pytest.mark.parametrize(("breakage", "command", "says"), [
    (_write("config.json", "{bad"), ["replay", "--check"], "config.json is not valid JSON"),
    (_write("config.json", "[]"), ["replay", "--check"], "is not a valid config.json"),
    (_write("config.json", '{"store_url": "x"}'), ["audit"], "is not a valid config.json"),
    (_write("operator.json", "{bad"), ["checkpoint"], "operator.json cannot be read as JSON"),
    (_write("operator.json", '{"a": 1}'), ["audit"], "is not a valid operator.json"),
    (_write("chain.json", "{bad"), ["chain", "status"], "chain.json is not valid JSON"),
    (_write("chain.json", "{bad"), ["chain", "anchor"], "chain.json is not valid JSON"),
    (_write("keystores/operator.json", "{}"), ["checkpoint"], "is not a keystore"),
    (_write("keystores/operator.json", '{"crypto": {}}'), ["checkpoint"],
     "is not a valid keystore"),
    (_write("keystores/operator.json", "[" * 50_000), ["checkpoint"], "cannot read keystore"),
], ids=["config-not-json", "config-not-object", "config-keys", "operator-not-json",
        "operator-keys", "chain-status", "chain-anchor", "keystore-empty-object",
        "keystore-fields-missing", "keystore-nested"])
def test_a_broken_file_is_named_in_one_line(data: Path, breakage: Breakage,
                                            command: list[str], says: str) -> None:
    breakage(data)
    result = CliRunner().invoke(main, ["--data-dir", str(data), *command])
    assert result.exit_code != 0
    assert says in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output


def test_a_data_dir_that_is_a_file(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    for command in (["replay", "--check"], ["init"]):
        result = CliRunner().invoke(main, ["--data-dir", str(afile), *command])
        assert result.exit_code != 0 and "is a file" in result.output, result.output
        assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(("option", "value"), [("--chain-id", "-1"), ("--chain-id", "0"),
                                               ("--registry-id", "../../x"),
                                               ("--registry-id", "a/b"),
                                               ("--registry-id", "MEE\n"),
                                               ("--registry-name", "MEE\u202e")])
def test_init_refuses_a_bad_argument_before_writing_anything(tmp_path: Path, option: str,
                                                              value: str) -> None:
    data = tmp_path / "deep" / "ledger"
    result = CliRunner(env={"CARBONLEDGER_PASSWORD": "pw"}).invoke(
        main, ["--data-dir", str(data), "init", option, value])
    assert result.exit_code == 2, result.output  # a usage error
    assert not (tmp_path / "deep").exists()
    assert not list(tmp_path.rglob("*.json"))
