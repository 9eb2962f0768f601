"""The command line against a real server: `carbonledger serve` in a process of its own on a
free port, over a fresh ledger, and the commands of the people who use it run elsewhere, from
a directory that holds their keystores and nothing of the ledger. The registry onboards an
emitter and a bank and issues, the emitter transfers and pledges (the bank co-signs through a
file), the tables and their --json show the result, a proof is fetched from the server and
checked against the operator key the user trusts, then verified offline; a refusal says why
and exits 1; a stopped server is an environment failure (exit 3)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from api.cli import main
from tests.api.test_roles_cli import PLEDGE_ARGS, rows

PASSWORD = "correct horse"
REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0


class Desk:
    """`carbonledger` as someone at a desk runs it: from DIR (their keystores), against the
    server."""

    def __init__(self, runner: CliRunner, desk: Path, server: str) -> None:
        self.runner, self.desk, self.server = runner, desk, server

    def run(self, *args: str, server: bool = True, input: str | None = None) -> Result:
        where = ["--server", self.server] if server else []
        return self.runner.invoke(main, ["--data-dir", str(self.desk), *where, *args],
                                  input=input)

    def ok(self, *args: str, server: bool = True, input: str | None = None) -> str:
        result = self.run(*args, server=server, input=input)
        assert result.exit_code == 0, f"{args}: exit {result.exit_code}: {result.output}"
        return result.output

    def fails(self, code: int, *args: str, server: bool = True) -> str:
        result = self.run(*args, server=server)
        assert result.exit_code == code, f"{args}: exit {result.exit_code}: {result.output}"
        assert "Traceback" not in result.output
        return result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", PASSWORD)
    for name in ("CARBONLEDGER_STORE_URL", "CARBONLEDGER_SERVER", "CARBONLEDGER_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.fixture
def ledger(runner: CliRunner, tmp_path: Path) -> tuple[Path, str]:
    """A fresh ledger (registry MEE) with an operator key; its address."""
    data = tmp_path / "ledger"
    for args in (["init", "--registry-id", "MEE"], ["operator-key", "--create"]):
        result = runner.invoke(main, ["--data-dir", str(data), *args])
        assert result.exit_code == 0, result.output
    return data, result.output.strip().split()[-1]


@pytest.fixture
def server(ledger: tuple[Path, str]) -> Iterator[str]:
    """`carbonledger serve` over the ledger, in its own process; stopped by SIGTERM."""
    data, _ = ledger
    port = _free_port()
    env = {**os.environ, "CARBONLEDGER_PASSWORD": PASSWORD}
    for name in ("CARBONLEDGER_STORE_URL", "CARBONLEDGER_SERVER", "CARBONLEDGER_DATA_DIR"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "--data-dir", str(data),
         "serve", "--port", str(port), "--log-level", "warning"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, f"serve exited: {process.communicate()[0]}"
            assert time.monotonic() < deadline, "the server did not answer in time"
            try:
                if httpx.get(f"{url}/v1/head", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            said, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            said, _ = process.communicate()
    assert process.returncode == 0, said
    assert "Traceback" not in said, said


def test_every_role_through_a_served_ledger(runner: CliRunner, ledger: tuple[Path, str],
                                            server: str, tmp_path: Path) -> None:
    data, operator = ledger
    desk = Desk(runner, tmp_path / "desk", server)
    registry = ("--as", str(data / "keystores" / "MEE.json"))  # the registry's own keystore
    for name in ("huaneng", "icbc"):
        desk.ok("key", "new", "--name", name, server=False)

    # the registry onboards both and issues, each command signed at the desk, applied there
    for name, title, role, account, kind in (("huaneng", "Huaneng Power", "emitter", "HN-C",
                                              "compliance"),
                                             ("icbc", "ICBC", "bank", "ICBC-T", "trading")):
        desk.ok("participant", "register", name, "--name", title, "--role", role, *registry)
        desk.ok("participant", "add-key", name, name, *registry)
        desk.ok("account", "open", account, "--participant", name, "--type", kind, *registry)
    issued = desk.ok("issue", "HN01", "--scheme", "CN-ETS", "--kind", "allowance",
                     "--vintage", "2025", "--issuance", "free_allocation", "--quantity",
                     "100000", "--account", "HN-C", *registry)
    assert "issue_batch accepted: journal entry 7" in issued
    assert "transfer accepted: journal entry 8" in desk.ok(
        "transfer", "--from", "HN-C", "--to", "ICBC-T", "--batch", "HN01", "--quantity",
        "1000", "--as", "huaneng")
    half = tmp_path / "p1.json"
    desk.ok(*PLEDGE_ARGS, "--as", "huaneng", "--out", str(half))
    cosigned = desk.ok("cosign", str(half), "--as", "icbc", "--yes", "--submit")
    assert "pledge P1: account HN-C puts 400 t of batch HN01" in cosigned
    assert "pledge_register accepted: journal entry 9" in cosigned

    # a refusal: the ledger's reason in one line, exit 1, nothing applied
    refused = desk.fails(1, "retire", "--account", "ICBC-T", "--batch", "HN01",
                         "--quantity", "1001", "--as", "icbc")
    assert "insufficient_tradable" in refused

    # the tables, and the same as JSON for machines; each reads what its login may
    assert rows(desk.ok("show", "holdings", *registry)) == [
        ["HN-C", "HN01", "98,600", "400", "0", "0", "0", "99,000"],
        ["ICBC-T", "HN01", "1,000", "0", "0", "0", "0", "1,000"]]
    assert [row[0] for row in rows(desk.ok("show", "holdings", "--as", "huaneng"))] == ["HN-C"]
    assert [row[0] for row in rows(desk.ok("show", "holdings", "--as", "icbc"))] == \
        ["HN-C", "ICBC-T"]  # the bank reads the account pledged to it
    assert "log in with --as KEYSTORE" in desk.fails(1, "show", "holdings")
    assert json.loads(desk.ok("show", "holdings", "--account", "ICBC-T", "--json",
                              "--as", "icbc")) == {
        "items": [{"account": "ICBC-T", "batch": "HN01", "tradable": 1000, "pledged": 0,
                   "retired": 0, "surrendered": 0, "cancelled": 0}]}
    pledged = [lot for lot in rows(desk.ok("show", "lots", "--account", "HN-C", *registry))
               if "pledged" in lot]
    assert [lot[2:] for lot in pledged] == [["1001..1400", "400", "HN-C", "pledged", "P1"]]
    assert [b["id"] for b in json.loads(desk.ok("show", "batches", "--json"))["items"]] == \
        ["HN01"]
    assert "ICBC-SZ-42: 12,000,000.00 CNY" in desk.ok("show", "pledges", "--as", "icbc")
    history = desk.ok("show", "pledge", "P1", "--as", "huaneng")
    assert "loan_reference    ICBC-SZ-42" in history and "pledge_register" in history
    assert json.loads(desk.ok("show", "pledge", "P1", "--json", *registry))["pledge"][
        "quantity"] == 400
    assert "no pledge P9" in desk.fails(1, "show", "pledge", "P9", *registry)
    assert desk.ok("show", "repos", *registry).strip() == "(none)"
    journal = rows(desk.ok("show", "journal", "--start", "7", "--stop", "10", *registry))
    assert [(entry[0], entry[2]) for entry in journal] == \
        [("7", "issue_batch"), ("8", "transfer"), ("9", "pledge_register")]
    entries = json.loads(desk.ok("show", "journal", "--start", "0", "--stop", "2", "--json",
                                 *registry))
    assert [e["op"] for e in entries["items"]] == ["genesis", "register_participant"]
    assert [p["id"] for p in json.loads(desk.ok("show", "participants", "--json"))[
        "items"]] == ["MEE", "huaneng", "icbc"]
    huaneng = desk.ok("key", "export-address", "huaneng", server=False).strip()
    assert json.loads(desk.ok("show", "nonce", "huaneng", "--json")) == {
        "address": huaneng, "last_nonce": 2, "next_nonce": 3}
    assert f"{huaneng}: last nonce 2, next nonce 3" in desk.ok("show", "nonce", huaneng)
    assert "journal head: entry 9 (10 entries)" in desk.ok("show", "head")

    # a checkpoint, cut by the operator beside the server; then the proofs come from it
    assert desk.ok("show", "checkpoints").strip() == "(none)"
    cut = runner.invoke(main, ["--data-dir", str(data), "checkpoint"])
    assert cut.exit_code == 0 and "checkpoint 1: log size 11" in cut.output, cut.output
    (checkpoint,) = rows(desk.ok("show", "checkpoints"))
    assert checkpoint[:2] == ["1", "11"] and checkpoint[-1] == "not yet"
    assert json.loads(desk.ok("show", "head", "--json")) == {
        "head": 10, "checkpoint": 1, "checkpointed_entries": 11}

    # the desk knows no operator: a proof from a server must be checked against a key
    no_key = desk.fails(2, "proof", "pledge", "P1")
    assert "--operator-key ADDRESS" in no_key
    pack = tmp_path / "p1-pack.json"
    fetched = desk.ok("proof", "pledge", "P1", "--operator-key", operator, "-o", str(pack),
                      "--as", "icbc")
    assert f"checked against operator key {operator}" in fetched
    assert json.loads(pack.read_text())["operator"] == operator
    verified = desk.ok("verify", str(pack), "--operator-key", operator, server=False)
    assert "VERIFIED:" in verified and "P1" in verified

    # a key the user trusts that did not sign: refused, and nothing written
    stranger = "0x" + "11" * 20
    wrong = tmp_path / "wrong.json"
    refused_proof = desk.fails(1, "proof", "lot", pledged[0][0], "--operator-key", stranger,
                               "-o", str(wrong), "--as", "huaneng")
    assert f"does not verify against the operator key {stranger}" in refused_proof
    assert "Nothing was written" in refused_proof and not wrong.exists()

    # --server given to the proof command itself, after its arguments
    holding = tmp_path / "holding.json"
    result = runner.invoke(main, ["--data-dir", str(desk.desk), "proof", "holding", "HN-C",
                                  "HN01", "--server", server, "--operator-key", operator,
                                  "-o", str(holding), "--as", "huaneng"])
    assert result.exit_code == 0, result.output
    assert json.loads(holding.read_text())["kind"] == "holding"
    assert "VERIFIED:" in desk.ok("verify", str(holding), "--operator-key", operator,
                                  server=False)
    assert "not_checkpointed" in desk.fails(1, "proof", "entry", "11", "--operator-key",
                                            operator, *registry)
    assert "log in with --as KEYSTORE" in desk.fails(1, "proof", "entry", "3",
                                                     "--operator-key", operator)


def test_a_refused_command_in_a_process_of_its_own(ledger: tuple[Path, str], server: str,
                                                   tmp_path: Path) -> None:
    """What a shell sees: the refusal's one line on standard error, exit 1, no traceback."""
    data, _ = ledger
    env = {"CARBONLEDGER_PASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "--data-dir",
         str(tmp_path / "desk"), "--server", server, "account", "open", "X-1",
         "--participant", "nobody", "--type", "trading",
         "--as", str(data / "keystores" / "MEE.json")],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, env=env)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "unknown_participant" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_stopped_server_is_an_environment_failure(runner: CliRunner,
                                                    tmp_path: Path) -> None:
    desk = Desk(runner, tmp_path / "desk", f"http://127.0.0.1:{_free_port()}")
    said = desk.fails(3, "proof", "entry", "1", "--operator-key", "0x" + "11" * 20)
    assert "no answer from" in said
    assert "no answer from" in desk.fails(3, "show", "head")
