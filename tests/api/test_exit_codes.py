"""Every CLI failure is one line and exits with the documented code of its class: 1 refused (the
ledger refused an instruction, a verification failed), 2 usage (bad arguments or input file),
3 environment (the store, the data directory's files, a keystore or the chain node)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from anchoring.operator.errors import OperatorError, OperatorFailure
from anchoring.operator.worker import (
    AnchoredElsewhere,
    AnchorerMismatch,
    AnchorVanished,
    RegistryMissing,
    UnknownCheckpointOnChain,
    WrongChain,
)
from api.bootstrap import init_ledger, registry_wallet
from api.cli import main
from api.config import load_config
from api.exit_codes import ExitCode, exit_code_of
from tests.world import OPERATIONS

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw"
Setup = Callable[[Path, Path], list[str]]  # (data dir, scratch dir) -> the command's arguments


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", PASSWORD)
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    monkeypatch.delenv("CARBONLEDGER_ANCHORER_KEY", raising=False)
    directory = tmp_path / "ledger"
    init_ledger(directory, registry="MEE", registry_name="Ministry", password=PASSWORD,
                scrypt_n=2**4)
    return directory


def _instruction(data: Path, scratch: Path, op: str, **fields: Any) -> str:
    wallet = registry_wallet(load_config(data), data, PASSWORD)
    path = scratch / "instruction.json"
    path.write_text(json.dumps(wallet.sign(OPERATIONS.instruction(op, **fields)).as_json()))
    return str(path)


def _file(scratch: Path, name: str, text: str) -> str:
    path = scratch / name
    path.write_text(text)
    return str(path)


def _write(data: Path, name: str, text: str) -> list[str]:
    """Break a file of the data directory; no arguments of its own."""
    (data / name).write_text(text)
    return []


def _delete(path: Path) -> list[str]:
    path.unlink()
    return []


def _bundle_signed_by_another_key(data: Path, scratch: Path) -> list[str]:
    assert CliRunner().invoke(main, ["--data-dir", str(data), "checkpoint"]).exit_code == 0
    bundle = scratch / "bundle.json"
    made = CliRunner().invoke(main, ["--data-dir", str(data), "proof", "entry", "0", "-o",
                                     str(bundle)])
    assert made.exit_code == 0, made.output
    return ["verify", str(bundle), "--operator-key", "0x" + "11" * 20]


def _changed_table(data: Path, scratch: Path) -> list[str]:
    with sqlite3.connect(data / "ledger.db") as db:
        db.execute("UPDATE participants SET name = 'Someone else' WHERE id = 'MEE'")
    return ["replay", "--check"]


def _unreachable_store(data: Path, scratch: Path) -> list[str]:
    config = json.loads((data / "config.json").read_text())
    config["store_url"] = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    return [*_write(data, "config.json", json.dumps(config)), "replay", "--check"]


CASES: list[tuple[str, ExitCode, Setup, str]] = [
    # refused: the ledger or a check says no
    ("submit-refused", ExitCode.REFUSED,
     lambda d, s: ["submit", _instruction(d, s, "open_account", account="X",
                                          participant="nobody", accountType="trading")],
     '"reason": "unknown_participant"'),
    ("verify-not-verified", ExitCode.REFUSED, _bundle_signed_by_another_key, "NOT VERIFIED"),
    ("replay-difference", ExitCode.REFUSED, _changed_table,
     "replay --check FAILED: table participants"),
    ("init-over-a-ledger", ExitCode.REFUSED, lambda d, s: ["init"], "already holds a ledger"),
    # usage: the command line or the file handed in
    ("unknown-option", ExitCode.USAGE, lambda d, s: ["audit", "--no-such-option"],
     "No such option '--no-such-option'"),
    ("missing-file", ExitCode.USAGE, lambda d, s: ["submit", str(s / "absent.json")],
     "No such file or directory"),
    ("not-json", ExitCode.USAGE, lambda d, s: ["submit", _file(s, "bad.json", "{not json")],
     "not JSON"),
    ("bundle-not-json", ExitCode.USAGE,
     lambda d, s: ["verify", _file(s, "bad.json", "[" * 100 + "]" * 100)],
     "NOT VERIFIED: the bundle cannot be read"),
    ("registry-without-rpc", ExitCode.USAGE,
     lambda d, s: ["audit", "--anchor-registry", "0x" + "22" * 20], "give --rpc URL too"),
    ("bad-chain-id", ExitCode.USAGE,
     lambda d, s: ["--data-dir", str(s / "new"), "init", "--chain-id", "-1"],
     "Invalid value for '--chain-id'"),
    # environment: what the command needs is missing, broken or out of reach
    ("no-ledger", ExitCode.ENVIRONMENT,
     lambda d, s: ["--data-dir", str(s / "none"), "replay", "--check"],
     "run `carbonledger init` first"),
    ("deleted-database", ExitCode.ENVIRONMENT,
     lambda d, s: [*_delete(d / "ledger.db"), "audit"], "no_ledger"),
    ("unreachable-store", ExitCode.ENVIRONMENT, _unreachable_store, "unreachable"),
    ("broken-config", ExitCode.ENVIRONMENT,
     lambda d, s: [*_write(d, "config.json", "{bad"), "replay", "--check"],
     "config.json is not valid JSON"),
    ("broken-operator-file", ExitCode.ENVIRONMENT,
     lambda d, s: [*_write(d, "operator.json", '{"a": 1}'), "checkpoint"],
     "is not a valid operator.json"),
    ("broken-keystore", ExitCode.ENVIRONMENT,
     lambda d, s: [*_write(d, "keystores/operator.json", "{bad"), "checkpoint"],
     "cannot read keystore"),
    ("no-chain-recorded", ExitCode.ENVIRONMENT, lambda d, s: ["chain", "anchor"],
     "no registry recorded"),
    ("broken-chain-file", ExitCode.ENVIRONMENT,
     lambda d, s: [*_write(d, "chain.json", "{bad"), "chain", "anchor"],
     "chain.json is not valid JSON"),
    ("node-down", ExitCode.ENVIRONMENT,
     lambda d, s: ["audit", "--rpc", "http://127.0.0.1:1", "--anchor-registry",
                   "0x" + "22" * 20], "audit NOT STARTED"),
]


@pytest.mark.parametrize(("name", "code", "setup", "says"), CASES,
                         ids=[case[0] for case in CASES])
def test_each_failure_exits_with_its_class(data: Path, tmp_path: Path, name: str,
                                          code: ExitCode, setup: Setup, says: str) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    arguments = setup(data, scratch)
    if "--data-dir" not in arguments:
        arguments = ["--data-dir", str(data), *arguments]
    result = CliRunner().invoke(main, arguments, input="")
    assert result.exit_code == code, (result.exit_code, result.output)
    assert says in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output
    if code is not ExitCode.REFUSED or name != "submit-refused":  # that one answers in JSON
        failure = [line for line in result.output.splitlines()
                   if line.startswith(("Error:", "NOT ", "audit ", "replay --check FAILED"))]
        assert len(failure) == 1, result.output  # one line says what is wrong


def test_a_wrong_password_is_the_environment(data: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "not the password")
    result = CliRunner().invoke(main, ["--data-dir", str(data), "checkpoint"])
    assert result.exit_code == ExitCode.ENVIRONMENT, result.output
    assert "Traceback" not in result.output and len(result.output.splitlines()) == 1


def test_the_codes_are_in_the_help() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for words in ("Exit codes: 0 done", "1 refused", "2 usage", "3 environment"):
        assert words in text, text


def test_the_operators_failures_are_classed_by_code() -> None:
    """A chain that disagrees with the ledger is a refusal; a node, key or file to fix is the
    environment. Every code has a class."""
    def stopped(kind: type[OperatorError]) -> ExitCode | None:
        error = kind.__new__(kind)
        return exit_code_of(error)

    assert {kind: stopped(kind) for kind in (WrongChain, RegistryMissing, AnchorerMismatch)} \
        == dict.fromkeys((WrongChain, RegistryMissing, AnchorerMismatch), ExitCode.ENVIRONMENT)
    assert {kind: stopped(kind) for kind in (UnknownCheckpointOnChain, AnchorVanished,
                                             AnchoredElsewhere)} \
        == dict.fromkeys((UnknownCheckpointOnChain, AnchorVanished, AnchoredElsewhere),
                         ExitCode.REFUSED)
    for failure in OperatorFailure:
        error = type("Coded", (OperatorError,), {"code": failure})()
        assert exit_code_of(error) in (ExitCode.REFUSED, ExitCode.ENVIRONMENT)


@pytest.mark.parametrize(("arguments", "code", "says"), [
    (["replay", "--check"], ExitCode.OK, "replay --check passed"),
    (["submit", "{scratch}/absent.json"], ExitCode.USAGE, "No such file or directory"),
    (["--data-dir", "{scratch}/none", "audit"], ExitCode.ENVIRONMENT,
     "run `carbonledger init` first"),
    (["submit", "{refused}"], ExitCode.REFUSED, "unknown_participant"),
], ids=["ok", "usage", "environment", "refused"])
def test_a_real_process_exits_with_the_code(data: Path, tmp_path: Path, arguments: list[str],
                                            code: ExitCode, says: str) -> None:
    """The codes as a shell sees them: the installed entry point's `main()` in a process."""
    refused = _instruction(data, tmp_path, "open_account", account="X", participant="nobody",
                           accountType="trading")
    arguments = [a.format(scratch=tmp_path, refused=refused) for a in arguments]
    if "--data-dir" not in arguments:
        arguments = ["--data-dir", str(data), *arguments]
    result = subprocess.run([sys.executable, "-c", "from api.cli import main; main()",
                             *arguments], capture_output=True, text=True, cwd=REPO_ROOT,
                            timeout=120, env={"CARBONLEDGER_PASSWORD": PASSWORD,
                                              "PATH": "/usr/bin:/bin"})
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert says in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
