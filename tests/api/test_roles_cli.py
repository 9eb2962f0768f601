"""The role commands end to end, as their users type them: a registry onboards a bank and an
emitter and issues, the emitter transfers and retires, a pledge goes half-signed to a file,
the bank reads what it agrees to and co-signs, either submits, the tables show the results
and the journal replays. All on a local data directory; then the same commands against a
server (--server) run in this process."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from api.bootstrap import build
from api.cli import main
from api.config import load_config
from tests.api.uvicorn_thread import served_in_thread

PLEDGE_ARGS = ["pledge", "register", "P1", "--account", "HN-C", "--pledgee", "icbc",
               "--batch", "HN01", "--quantity", "400", "--loan-reference", "ICBC-SZ-42",
               "--principal", "12000000.00", "--currency", "CNY", "--start", "2026-06-01",
               "--maturity", "2026-12-31"]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", "correct horse")
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    monkeypatch.delenv("CARBONLEDGER_SERVER", raising=False)
    return CliRunner()


class Ledger:
    """The `carbonledger` command on one data directory."""

    def __init__(self, runner: CliRunner, data_dir: Path, server: str | None = None) -> None:
        self.runner, self.data_dir, self.server = runner, data_dir, server

    def run(self, *args: str, input: str | None = None) -> Result:
        server = ["--server", self.server] if self.server else []
        return self.runner.invoke(main, ["--data-dir", str(self.data_dir), *server, *args],
                                  input=input)

    def ok(self, *args: str, input: str | None = None) -> str:
        result = self.run(*args, input=input)
        assert result.exit_code == 0, f"{args}: {result.output}"
        return result.output

    def fails(self, code: int, *args: str, input: str | None = None) -> str:
        result = self.run(*args, input=input)
        assert result.exit_code == code, f"{args}: exit {result.exit_code}: {result.output}"
        return result.output


@pytest.fixture
def onboarded(runner: CliRunner, tmp_path: Path) -> Ledger:
    """A registry that admitted an emitter (huaneng, HN-C) and a bank (icbc, ICBC-T), each
    with a key of its own, and issued 100,000 t of HN01 to the emitter."""
    ledger = Ledger(runner, tmp_path / "ledger")
    ledger.ok("init")
    assert ledger.ok("key", "new", "--name", "huaneng").startswith("0x")
    ledger.ok("key", "new", "--name", "icbc")
    icbc = ledger.ok("key", "export-address", "icbc").strip()
    listed = ledger.ok("key", "list")
    assert "huaneng" in listed and f"icbc      {icbc}" in listed

    as_registry = ("--as", "registry")
    ledger.ok("participant", "register", "huaneng", "--name", "Huaneng Power",
              "--role", "emitter", *as_registry)
    ledger.ok("participant", "add-key", "huaneng", "huaneng", *as_registry)  # by keystore
    ledger.ok("account", "open", "HN-C", "--participant", "huaneng", "--type", "compliance",
              *as_registry)
    ledger.ok("participant", "register", "icbc", "--name", "ICBC", "--role", "bank",
              *as_registry)
    ledger.ok("participant", "add-key", "icbc", icbc, *as_registry)  # by address
    ledger.ok("account", "open", "ICBC-T", "--participant", "icbc", "--type", "trading",
              *as_registry)
    issued = ledger.ok("issue", "HN01", "--scheme", "CN-ETS", "--kind", "allowance",
                       "--vintage", "2025", "--issuance", "free_allocation",
                       "--quantity", "100000", "--account", "HN-C", *as_registry)
    assert "issue_batch accepted: journal entry 7" in issued
    return ledger


def rows(table: str) -> list[list[str]]:
    """A printed table's rows (header and rule left out), cell by cell."""
    return [re.split(r"\s{2,}", line.strip()) for line in table.splitlines()[2:]]


def approvals(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())["approvals"]


def test_every_role_at_work_from_the_command_line(onboarded: Ledger, tmp_path: Path) -> None:
    ledger = onboarded
    ledger.ok("transfer", "--from", "HN-C", "--to", "ICBC-T", "--batch", "HN01",
              "--quantity", "1000", "--as", "huaneng")
    ledger.ok("retire", "--account", "HN-C", "--batch", "HN01", "--serials", "99001-100000",
              "--beneficiary", "Huaneng 2025 compliance", "--reason", "voluntary",
              "--as", "huaneng")

    # the emitter writes the pledge half-signed; the bank reads it, agrees, co-signs
    half = tmp_path / "p1.json"
    written = ledger.ok(*PLEDGE_ARGS, "--as", "huaneng", "--out", str(half))
    assert f"cosign {half}" in written
    assert len(approvals(half)) == 1
    summary = ledger.ok("cosign", str(half), "--as", "icbc", input="y\n")
    assert "pledge P1: account HN-C puts 400 t of batch HN01" in summary
    assert "for bank icbc, securing loan ICBC-SZ-42 of 12,000,000.00 CNY" in summary
    assert "1,200,000,000 minor units = 12,000,000.00 CNY" in summary
    assert "HN-C  (account of huaneng)" in summary
    assert "(nonce 3) — participant huaneng, signature holds" in summary
    assert "(participant icbc)" in summary and "Co-sign this instruction?" in summary
    assert len(approvals(half)) == 2
    submitted = json.loads(ledger.ok("submit", str(half)))
    assert submitted["seq"] == 10

    ledger.ok("pledge", "release", "P1", "--quantity", "100", "--as", "icbc")

    assert rows(ledger.ok("show", "holdings")) == [
        ["HN-C", "HN01", "97,700", "300", "1,000", "0", "0", "99,000"],
        ["ICBC-T", "HN01", "1,000", "0", "0", "0", "0", "1,000"]]
    as_json = json.loads(ledger.ok("show", "holdings", "--account", "HN-C", "--json"))
    assert as_json == {"items": [{"account": "HN-C", "batch": "HN01", "tradable": 97_700,
                                  "pledged": 300, "retired": 1_000, "surrendered": 0,
                                  "cancelled": 0}]}
    lots = rows(ledger.ok("show", "lots", "--account", "HN-C"))
    assert [lot[2:] for lot in lots if "pledged" in lot] == \
        [["1101..1400", "300", "HN-C", "pledged", "P1"]]
    pledges = ledger.ok("show", "pledges")
    assert "ICBC-SZ-42: 12,000,000.00 CNY" in pledges and "active" in pledges
    journal = rows(ledger.ok("show", "journal", "--last", "3"))
    assert [entry[:1] + entry[2:3] for entry in journal] == \
        [["9", "retire"], ["10", "pledge_register"], ["11", "pledge_release"]]
    assert ["huaneng", "Huaneng Power", "emitter", "1"] in \
        rows(ledger.ok("show", "participants"))
    assert rows(ledger.ok("show", "accounts", "--participant", "icbc")) == \
        [["ICBC-T", "icbc", "trading", "no", "6"]]
    assert "CN-ETS" in ledger.ok("show", "batches")
    assert ledger.ok("show", "checkpoints").strip() == "(none)"
    assert "last nonce" in ledger.ok("show", "keys", "--participant", "huaneng")

    assert "replay --check passed: 12 entries" in ledger.ok("replay", "--check")


def test_a_repo_is_cosigned_and_submitted_in_one_step(onboarded: Ledger,
                                                      tmp_path: Path) -> None:
    ledger = onboarded
    half = tmp_path / "r1.json"
    ledger.ok("repo", "open", "R1", "--seller-account", "HN-C", "--buyer-account", "ICBC-T",
              "--batch", "HN01", "--quantity", "500", "--purchase-price", "40000",
              "--repurchase-price", "40300.50", "--currency", "CNY",
              "--repurchase-date", "2027-09-30", "--as", "huaneng", "--out", str(half))
    done = ledger.ok("cosign", str(half), "--as", "icbc", "--yes", "--submit")
    assert "buys them back for 40,300.50 CNY by 2027-09-30" in done
    assert "repo_open accepted: journal entry 8" in done
    assert "40,300.50 CNY by 2027-09-30" in ledger.ok("show", "repos")


def test_refusals_say_why_and_change_nothing(onboarded: Ledger, tmp_path: Path) -> None:
    ledger = onboarded
    refused = ledger.fails(1, "transfer", "--from", "HN-C", "--to", "ICBC-T", "--batch",
                           "HN01", "--quantity", "200000", "--as", "huaneng")
    assert "insufficient_tradable" in refused
    # the bank may not move the emitter's units
    assert "not_account_holder" in ledger.fails(1, "transfer", "--from", "HN-C", "--to",
                                                "ICBC-T", "--batch", "HN01", "--quantity",
                                                "1", "--as", "icbc")
    assert "no keystore 'nobody'" in ledger.fails(3, "transfer", "--from", "HN-C", "--to",
                                                  "ICBC-T", "--batch", "HN01",
                                                  "--quantity", "1", "--as", "nobody")
    assert "at most 2 decimals" in ledger.fails(2, *PLEDGE_ARGS[:-8], "--principal",
                                                "12.345", *PLEDGE_ARGS[-6:], "--as",
                                                "huaneng")
    assert "entry  accepted at" in ledger.ok("show", "journal")
    assert "issue_batch" in ledger.ok("show", "journal", "--last", "1")  # nothing after it


def test_cosign_refuses_what_the_ledger_would_refuse(onboarded: Ledger,
                                                     tmp_path: Path) -> None:
    ledger = onboarded
    half = tmp_path / "p1.json"
    ledger.ok(*PLEDGE_ARGS, "--as", "huaneng", "--out", str(half))
    written = half.read_text()

    declined = ledger.fails(1, "cosign", str(half), "--as", "icbc", input="n\n")
    assert "Aborted" in declined and half.read_text() == written

    tampered = json.loads(written)
    tampered["fields"]["quantity"] = 4000
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(tampered))
    assert "signature does NOT hold" in ledger.fails(1, "cosign", str(changed), "--as",
                                                     "icbc", "--yes")
    assert len(approvals(changed)) == 1

    # the pledgor signs something else first: its approval in the file is stale now
    ledger.ok("transfer", "--from", "HN-C", "--to", "ICBC-T", "--batch", "HN01",
              "--quantity", "1", "--as", "huaneng")
    stale = ledger.fails(1, "cosign", str(half), "--as", "icbc", "--yes")
    assert "not co-signed" in stale and "stale_nonce" in stale
    assert half.read_text() == written


def test_an_unreachable_server_is_an_environment_failure(runner: CliRunner,
                                                         tmp_path: Path) -> None:
    ledger = Ledger(runner, tmp_path / "client", server="http://127.0.0.1:9")
    assert "no answer from http://127.0.0.1:9" in ledger.fails(3, "show", "holdings")


@pytest.fixture
def served(onboarded: Ledger) -> Iterator[str]:
    """The onboarded ledger served over HTTP by a uvicorn server in this process."""
    data_dir = onboarded.data_dir
    with build(load_config(data_dir), data_dir) as app, served_in_thread(app.service) as url:
        yield url


def test_the_same_commands_against_a_server(onboarded: Ledger, served: str,
                                            tmp_path: Path) -> None:
    remote = Ledger(onboarded.runner, onboarded.data_dir, server=served)  # keystores here
    assert "transfer accepted: journal entry 8" in remote.ok(
        "transfer", "--from", "HN-C", "--to", "ICBC-T", "--batch", "HN01", "--quantity",
        "250", "--as", "huaneng")
    half = tmp_path / "p1.json"
    remote.ok(*PLEDGE_ARGS, "--as", "huaneng", "--out", str(half))
    assert "participant huaneng, signature holds" in remote.ok("cosign", str(half), "--as",
                                                              "icbc", "--yes")
    assert json.loads(remote.ok("submit", str(half)))["seq"] == 9
    again = json.loads(remote.ok("submit", str(half)))  # the same instruction: its receipt
    assert (again["seq"], again["duplicate"]) == (9, True)
    # the server's reads of accounts need a login: the bank logs in with its keystore
    assert "log in with --as KEYSTORE" in remote.fails(1, "show", "holdings")
    assert rows(remote.ok("show", "holdings", "--as", "icbc")) == [
        ["HN-C", "HN01", "99,350", "400", "0", "0", "0", "99,750"],  # its collateral...
        ["ICBC-T", "HN01", "250", "0", "0", "0", "0", "250"]]  # ...and its own account
    assert "P1" in remote.ok("show", "pledges", "--as", "icbc")
    assert "may not read account ICBC-T" in remote.fails(1, "show", "lots", "--account",
                                                         "ICBC-T", "--as", "huaneng")
    assert "insufficient_tradable" in remote.fails(1, "retire", "--account", "ICBC-T",
                                                   "--batch", "HN01", "--quantity", "251",
                                                   "--as", "icbc")
    assert "replay --check passed: 10 entries" in onboarded.ok("replay", "--check")


def test_freezes_cancellations_amendments_enforcement_repos_and_key_rotation(
        onboarded: Ledger, tmp_path: Path) -> None:
    ledger = onboarded
    registry, huaneng, icbc = ("--as", "registry"), ("--as", "huaneng"), ("--as", "icbc")
    transfer_one = ("transfer", "--from", "HN-C", "--to", "ICBC-T", "--batch", "HN01",
                    "--quantity", "1")

    ledger.ok("account", "freeze", "HN-C", "--reason", "court order 17", *registry)
    assert ["HN-C", "huaneng", "compliance", "yes: court order 17", "3"] in \
        rows(ledger.ok("show", "accounts"))
    assert "account_frozen" in ledger.fails(1, *transfer_one, *huaneng)
    ledger.ok("account", "unfreeze", "HN-C", "--reason", "order lifted", *registry)
    ledger.ok("cancel", "--account", "HN-C", "--batch", "HN01", "--serials", "99991-100000",
              "--reason", "issued in error", *registry)

    # pledge: registered, amended and enforced early on the registry's order, each signed by
    # the parties it needs through a file
    def two_party(first: tuple[str, ...], second: str, *command: str) -> str:
        path = tmp_path / f"{command[0]}-{command[1]}.json"
        ledger.ok(*command, *first, "--out", str(path))
        return ledger.ok("cosign", str(path), "--as", second, "--yes", "--submit")

    two_party(huaneng, "icbc", *PLEDGE_ARGS)
    amended = two_party(huaneng, "icbc", "pledge", "amend", "P1", "--loan-reference",
                        "ICBC-SZ-42-R", "--principal", "9000000", "--currency", "CNY",
                        "--maturity", "2027-03-31")
    assert "loan ICBC-SZ-42-R of 9,000,000.00 CNY, maturing on 2027-03-31" in amended
    assert "before_maturity" in ledger.fails(1, "pledge", "enforce", "P1", "--quantity", "100",
                                             "--to", "ICBC-T", *icbc)
    two_party(icbc, "registry", "pledge", "enforce", "P1", "--quantity", "100", "--to",
              "ICBC-T")

    # a repo opened and closed, both parties signing each
    two_party(huaneng, "icbc", "repo", "open", "R1", "--seller-account", "HN-C",
              "--buyer-account", "ICBC-T", "--batch", "HN01", "--quantity", "500",
              "--purchase-price", "40000", "--repurchase-price", "40300.50", "--currency",
              "CNY", "--repurchase-date", "2027-09-30")
    two_party(icbc, "huaneng", "repo", "close", "R1", "--quantity", "500")
    assert rows(ledger.ok("show", "repos"))[0][-1] == "closed"
    (pledge,) = rows(ledger.ok("show", "pledges"))
    assert pledge[5:9] == ["400", "0", "100", "300"] and pledge[-1] == "active"
    history = ledger.ok("show", "pledge", "P1")
    assert "loan_reference    ICBC-SZ-42-R" in history
    assert [entry[2] for entry in rows(history.split("its entries:\n")[1])] == \
        ["pledge_register", "pledge_amend", "pledge_enforce"]
    assert "no pledge P9" in ledger.fails(1, "show", "pledge", "P9")

    # the emitter replaces its key; the old one signs nothing more
    ledger.ok("key", "new", "--name", "huaneng-2026")
    ledger.ok("rotate-key", "--new", "huaneng-2026", *huaneng)
    assert "key_revoked" in ledger.fails(1, *transfer_one, *huaneng)
    ledger.ok(*transfer_one, "--as", "huaneng-2026")

    assert rows(ledger.ok("show", "holdings")) == [
        ["HN-C", "HN01", "99,589", "300", "0", "0", "10", "99,899"],
        ["ICBC-T", "HN01", "101", "0", "0", "0", "0", "101"]]
    assert "replay --check passed" in ledger.ok("replay", "--check")
