"""The allocation commands end to end, as the registry, a verifier and the bidders type them:
a plan from a sectors file, verified output, a pre-allocation, market figures and a reserve
release, an auction announced, bid (one bid refused past the limit), cleared after its window,
a true-up; the tables show each step's result. Bad input is a one-line usage error, a refusal
one line with the ledger's reason; nothing is signed for either. Then the reads through a
server: the bids are sealed until the auction is cleared."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from api.bootstrap import build, init_ledger, registry_wallet
from api.cli import main
from api.config import Deployment, load_config
from custody.keystore import new_private_key, write_keystore
from ledger.client import Wallet
from ledger.schemes import load_rules_dir
from tests.api.uvicorn_thread import served_in_thread

PASSWORD = "correct horse"
YEAR = 2030
START = "2030-02-04T02:00:00Z"  # 10:00 in Beijing
SECTORS = [{"sector": "power", "free_cap": 1_000_000, "benchmark": "0.8218",
            "output_unit": "MWh", "factors": {"load": "1.012"}},
           {"sector": "steel", "free_cap": 500_000, "benchmark": "1.8", "output_unit": "t",
            "factors": {}}]
# participant, role, account, account type
PARTICIPANTS = (("huaneng", "emitter", "HN-C", "compliance"),
                ("baowu", "emitter", "BW-C", "compliance"),
                ("icbc", "bank", "ICBC-T", "trading"),
                ("cec", "verifier", None, None))


class Ledger:
    """The `carbonledger` command on one data directory (through a server with `server`)."""

    def __init__(self, runner: CliRunner, data_dir: Path, server: str | None = None) -> None:
        self.runner, self.data_dir, self.server = runner, data_dir, server

    def run(self, *args: str) -> Result:
        server = ["--server", self.server] if self.server else []
        return self.runner.invoke(main, ["--data-dir", str(self.data_dir), *server, *args])

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.exit_code == 0, f"{args}: {result.output}"
        return result.output

    def fails(self, code: int, *args: str) -> str:
        result = self.run(*args)
        assert result.exit_code == code, f"{args}: exit {result.exit_code}: {result.output}"
        assert "Traceback" not in result.output
        return result.output

    def head(self) -> int:
        return int(re.search(r"entry (\d+)", self.ok("show", "head"))[1])  # type: ignore[index]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CARBONLEDGER_PASSWORD", PASSWORD)
    monkeypatch.delenv("CARBONLEDGER_STORE_URL", raising=False)
    monkeypatch.delenv("CARBONLEDGER_SERVER", raising=False)
    return CliRunner()


def allocation_market(data_dir: Path) -> None:
    """A test deployment whose clock reads START: CN-ETS under allocation control; Huaneng
    (HN-C) with a power plant HN-1, Baowu (BW-C) with a steel works BW-1, ICBC (ICBC-T), CEC
    qualified in power and steel; each with a keystore the commands sign with."""
    init_ledger(data_dir, registry="registry", registry_name="Registry", password=PASSWORD,
                scrypt_n=2**4, deployment=Deployment.test)
    CliRunner(env={"CARBONLEDGER_PASSWORD": PASSWORD}).invoke(
        main, ["--data-dir", str(data_dir), "clock", "set", START])
    with build(load_config(data_dir), data_dir, password=lambda: PASSWORD) as app:
        registry = registry_wallet(app.config, data_dir, PASSWORD)
        wallets: dict[str, Wallet] = {"registry": registry}

        def by(who: str, op: str, /, **fields: Any) -> None:
            deadline = int(datetime.fromisoformat(START).timestamp()) + 3600
            instruction = app.service.operations.instruction(op, deadline=deadline, **fields)
            app.service.submit(wallets[who].sign(instruction).as_json())

        rules = load_rules_dir()["CN-ETS"].as_json()
        by("registry", "set_scheme_rules", scheme="CN-ETS",
           rules=json.dumps({**rules, "issue_operation": "allocation"}))
        for name, role, account, kind in PARTICIPANTS:
            key = new_private_key()
            write_keystore(data_dir / "keystores" / f"{name}.json", key, PASSWORD,
                           scrypt_n=2**4)
            wallets[name] = Wallet(key, registry.domain)
            by("registry", "register_participant", participant=name, name=name.title(),
               role=role)
            by("registry", "register_key", participant=name, key=wallets[name].address)
            if account:
                by("registry", "open_account", account=account, participant=name,
                   accountType=kind)
        for installation, emitter, sector in (("HN-1", "huaneng", "power"),
                                              ("BW-1", "baowu", "steel")):
            by("registry", "installation_register", installation=installation,
               emitter=emitter, scheme="CN-ETS", sector=sector, name=installation)
            by("registry", "verifier_qualify", verifier="cec", sector=sector, action="grant",
               reason="accredited")


@pytest.fixture
def market(runner: CliRunner, tmp_path: Path) -> Ledger:
    allocation_market(tmp_path / "ledger")
    return Ledger(runner, tmp_path / "ledger")


def rows(table: str) -> list[list[str]]:
    """A printed table's rows (header and rule left out), cell by cell."""
    return [re.split(r"\s{2,}", line.strip()) for line in table.splitlines()[2:]]


def _planned(ledger: Ledger, tmp_path: Path) -> None:
    sectors = tmp_path / "sectors.json"
    sectors.write_text(json.dumps(SECTORS))
    said = ledger.ok("allocation", "plan", "set", "CN-ETS", str(YEAR), "--cap", "2000000",
                     "--reserve", "100000", "--auction", "300000", "--sectors", str(sectors),
                     "--as", "registry")
    assert "allocation_plan_set accepted: journal entry" in said


def _announced(ledger: Ledger) -> None:
    ledger.ok("auction", "announce", "AU-1", "--scheme", "CN-ETS", "--year", str(YEAR),
              "--quantity", "100000", "--reserve-price", "50.00", "--opens", START,
              "--closes", "2030-02-07T09:00:00Z", "--bidder-limit", "50%", "--batch",
              "CEA-A1", "--as", "registry")
    for bidder, bid, account, quantity, price in (
            ("huaneng", "B-HN", "HN-C", "40000", "85.00"),
            ("icbc", "B-IC", "ICBC-T", "30000", "82"),
            ("baowu", "B-BW", "BW-C", "45000", "80.00")):
        ledger.ok("auction", "bid", "AU-1", bid, "--bidder", bidder, "--account", account,
                  "--quantity", quantity, "--price", price, "--as", bidder)


def test_a_year_under_its_plan_from_the_command_line(market: Ledger, tmp_path: Path) -> None:
    ledger = market
    _planned(ledger, tmp_path)
    for installation, output, unit in (("HN-1", "1000000", "MWh"), ("BW-1", "250000", "t")):
        ledger.ok("allocation", "output", "verify", installation, "--year", str(YEAR - 1),
                  "--output", output, "--unit", unit, "--verifier", "cec", "--as", "cec")
    said = ledger.ok("allocation", "preallocate", "CN-ETS", str(YEAR), "--batch", "CEA-P",
                     "--target", "HN-1=HN-C", "--target", "BW-1=BW-C", "--as", "registry")
    assert "allocation_preallocate accepted" in said
    # 1,000,000 MWh x 0.8218 x 1.012 x 70% = 582,163.12; 250,000 t x 1.8 x 70% = 315,000
    assert [r[:3] + r[5:6] for r in rows(ledger.ok("show", "holdings"))] == [
        ["BW-C", "CEA-P", "315,000", "0"], ["HN-C", "CEA-P", "582,163", "0"]]

    ledger.ok("allocation", "figures", "publish", "MF-2030-01", "--scheme", "CN-ETS",
              "--period", "2030-01", "--average-price", "105.00", "--surplus", "1200000",
              "--source", "exchange monthly report", "--as", "registry")
    ledger.ok("allocation", "reserve", "release", "CN-ETS", str(YEAR), "--quantity", "50000",
              "--figures", "MF-2030-01", "--reason", "prices above the trigger",
              "--as", "registry")
    plan = ledger.ok("show", "plan", "CN-ETS", str(YEAR))
    assert ("CN-ETS 2030: cap 2,000,000 t; issued 897,163 t, taken back 0 t, reserve 50,000 "
            "t, to auction 350,000 t (0 t on offer)") in plan
    assert "committed 1,297,163 t of the cap" in plan and "headroom 702,837 t" in plan
    sectors = rows(plan.split("sectors:\n")[1].split("\n\n")[0])
    assert sectors == [["power", "1,000,000", "582,163", "417,837", "0.8218 tCO2/MWh",
                        "load 1.012"],
                       ["steel", "500,000", "315,000", "185,000", "1.8 tCO2/t"]]
    assert rows(plan.split("reserve movements:\n")[1])[0][1:] == \
        ["release", "50,000", "MF-2030-01", "prices above the trigger"]
    as_json = json.loads(ledger.ok("show", "plan", "CN-ETS", str(YEAR), "--json"))
    assert as_json["outstanding"] <= as_json["cap"]
    assert [m["kind"] for m in as_json["reserve_movements"]] == ["release"]
    figures = rows(ledger.ok("show", "market-figures", "--scheme", "CN-ETS"))
    assert figures[0][:4] == ["MF-2030-01", "CN-ETS", "2030-01", "CNY 105.00"]

    _announced(ledger)
    head = ledger.head()
    refused = ledger.fails(1, "auction", "bid", "AU-1", "B-BW-2", "--bidder", "baowu",
                           "--account", "BW-C", "--quantity", "10000", "--price", "90",
                           "--as", "baowu")
    assert "exceeds_bidder_limit" in refused and len(refused.strip().splitlines()) == 1
    assert ledger.head() == head
    refused = ledger.fails(1, "auction", "clear", "AU-1", "--as", "registry")
    assert "auction_still_open" in refused
    ledger.ok("clock", "advance", "4d")
    ledger.ok("auction", "clear", "AU-1", "--as", "registry")
    shown = ledger.ok("show", "auction", "AU-1")
    assert "cleared at entry" in shown and "100,000 t sold at CNY 80.00" in shown
    assert [r[0:1] + r[5:6] for r in rows(shown.split("):\n")[1])] == [
        ["B-HN", "40,000"], ["B-IC", "30,000"], ["B-BW", "30,000"]]
    (auction,) = rows(ledger.ok("show", "auctions", "--scheme", "CN-ETS"))
    assert auction[0] == "AU-1" and "cleared" in auction and "CNY 80.00" in auction

    ledger.ok("clock", "set", "2031-01-06T02:00:00Z")
    for installation, output, unit in (("HN-1", "1080000", "MWh"), ("BW-1", "160000", "t")):
        ledger.ok("allocation", "output", "verify", installation, "--year", str(YEAR),
                  "--output", output, "--unit", unit, "--verifier", "cec", "--as", "cec")
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps([["HN-1", "HN-C"], ["BW-1", "BW-C"]]))
    ledger.ok("allocation", "true-up", "CN-ETS", str(YEAR), "--batch", "CEA-T",
              "--targets", str(targets), "--as", "registry")
    # Huaneng: 1,080,000 x 0.8218 x 1.012 = 898,194.528 -> 898,195, 316,032 more;
    # Baowu: 160,000 x 1.8 = 288,000: 27,000 of its 315,000 taken back and cancelled
    holdings = {(r[0], r[1]): r[2:] for r in rows(ledger.ok("show", "holdings"))}
    assert holdings["HN-C", "CEA-T"][0] == "316,032"
    assert holdings["BW-C", "CEA-P"][0] == "288,000" and holdings["BW-C", "CEA-P"][4] == \
        "27,000"
    allocations = rows(ledger.ok("show", "allocations", "--year", str(YEAR)))
    assert [a[:4] for a in allocations] == [["BW-1", "2030", "BW-C", "preallocation"],
                                           ["HN-1", "2030", "HN-C", "preallocation"]]
    (hn,) = rows(ledger.ok("show", "allocations", "--installation", "HN-1"))
    assert hn[4:8] == ["1000000 MWh x 0.8218 x 1.012 x 70% = 582,163 t",
                       "1080000 MWh x 0.8218 x 1.012 = 898,195 t", "898,195", "0"]
    (bw,) = json.loads(ledger.ok("show", "allocations", "--installation", "BW-1",
                                 "--json"))["items"]
    assert (bw["final"], bw["issued"], bw["taken_back"]) == (288_000, 315_000, 27_000)
    assert "one of the two" in ledger.fails(2, "show", "allocations")
    ledger.ok("replay", "--check")


def test_a_bidder_checks_the_clearing_from_the_auctions_proof_bundle(market: Ledger,
                                                                     tmp_path: Path) -> None:
    ledger = market
    _planned(ledger, tmp_path)
    _announced(ledger)
    ledger.ok("checkpoint")
    sealed = ledger.fails(1, "proof", "auction", "AU-1", "-o", str(tmp_path / "sealed.json"))
    assert "auction_not_found" in sealed or "not cleared" in sealed
    ledger.ok("clock", "advance", "4d")
    ledger.ok("auction", "clear", "AU-1", "--as", "registry")
    ledger.ok("checkpoint")
    bundle = tmp_path / "AU-1.json"
    said = ledger.ok("proof", "auction", "AU-1", "-o", str(bundle))
    assert "checked against operator key" in said
    verified = ledger.ok("verify", str(bundle), "--bid", "B-IC")
    assert "VERIFIED: auction AU-1" in verified and "clear at 8000 per tonne" in verified
    assert "YOUR BID: bid B-IC by icbc" in verified and "won 30000 t at 8000" in verified
    assert "NOT VERIFIED" in ledger.fails(1, "verify", str(bundle), "--bid", "B-XX")
    document = json.loads(bundle.read_text())
    document["book"][0]["price"] += 1  # Huaneng's bid, as it was not placed
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    assert "book digest differs" in ledger.fails(1, "verify", str(forged), "--bid", "B-IC")
    ledger.ok("proof", "account", "HN-C", "-o", str(tmp_path / "account.json"))
    assert "--bid goes with an auction's bundle" in ledger.fails(
        2, "verify", str(tmp_path / "account.json"), "--bid", "B-IC")


def test_amendments_new_entrants_closures_and_absorptions(market: Ledger,
                                                          tmp_path: Path) -> None:
    ledger = market
    _planned(ledger, tmp_path)
    amended = json.dumps([{**SECTORS[0], "free_cap": 1_100_000}, SECTORS[1]])
    ledger.ok("allocation", "plan", "amend", "CN-ETS", str(YEAR), "--cap", "2100000",
              "--sectors", amended, "--reason", "two plants commissioned", "--as", "registry")
    said = ledger.ok("allocation", "new-entrant", "BW-1", "--scheme", "CN-ETS", "--year",
                     str(YEAR), "--account", "BW-C", "--batch", "CEA-N1", "--quantity",
                     "20000", "--reason", "commissioned in May", "--as", "registry")
    assert "new_entrant_allocate accepted" in said
    ledger.ok("allocation", "figures", "publish", "MF-LOW", "--scheme", "CN-ETS", "--period",
              "2030-01", "--average-price", "25", "--surplus", "0", "--source", "exchange",
              "--as", "registry")
    ledger.ok("allocation", "reserve", "absorb", "CN-ETS", str(YEAR), "--quantity", "10000",
              "--figures", "MF-LOW", "--reason", "prices below the absorb trigger",
              "--as", "registry")
    refused = ledger.fails(1, "allocation", "reserve", "release", "CN-ETS", str(YEAR),
                           "--quantity", "10000", "--figures", "MF-LOW", "--reason", "no",
                           "--as", "registry")
    assert "trigger_not_met" in refused
    ledger.ok("allocation", "close", "HN-1", "--last-year", str(YEAR - 1), "--reason",
              "decommissioned", "--as", "registry")
    ledger.ok("allocation", "output", "verify", "HN-1", "--year", str(YEAR - 1), "--output",
              "1000", "--unit", "MWh", "--verifier", "cec", "--as", "cec")
    refused = ledger.fails(1, "allocation", "preallocate", "CN-ETS", str(YEAR), "--batch",
                           "CEA-P", "--target", "HN-1=HN-C", "--as", "registry")
    assert "installation_closed" in refused
    plan = ledger.ok("show", "plan", "CN-ETS", str(YEAR))
    assert "cap 2,100,000 t; issued 20,000 t" in plan
    assert "reserve 90,000 t, to auction 290,000 t" in plan  # 100,000 - 20,000 + 10,000
    amendments = rows(plan.split("amendments:\n")[1].split("\n\n")[0])
    assert [a[1:] for a in amendments] == \
        [["2,000,000", "2,100,000", "two plants commissioned"]]
    movements = [m[1:3] for m in rows(plan.split("reserve movements:\n")[1])]
    assert movements == [["new_entrant", "20,000"], ["absorb", "10,000"]]
    (entrant,) = json.loads(ledger.ok("show", "allocations", "--installation", "BW-1",
                                      "--json"))["items"]
    assert (entrant["source"], entrant["issued"], entrant["preallocation"]) == \
        ("new_entrant", 20_000, None)


def test_bad_input_is_a_usage_error_and_nothing_is_signed(market: Ledger,
                                                           tmp_path: Path) -> None:
    ledger = market
    head = ledger.head()
    for args, said in (
            (("allocation", "plan", "set", "CN-ETS", "2030", "--cap", "10", "--reserve", "0",
              "--auction", "0", "--sectors", '[{"sector": "power"}]'), "must have exactly"),
            (("allocation", "plan", "set", "CN-ETS", "2030", "--cap", "10", "--reserve", "0",
              "--auction", "0", "--sectors", str(tmp_path / "missing.json")), "cannot read"),
            (("allocation", "preallocate", "CN-ETS", "2030", "--batch", "B", "--target",
              "HN-1"), "INSTALLATION=ACCOUNT"),
            (("allocation", "preallocate", "CN-ETS", "2030", "--batch", "B"), "--target"),
            (("allocation", "true-up", "CN-ETS", "2030", "--batch", "B", "--targets",
              '[["HN-1", "HN-C"], ["HN-1", "HN-T"]]'), "names an installation twice"),
            (("allocation", "figures", "publish", "F", "--scheme", "CN-ETS", "--period",
              "2030-01", "--average-price", "1.005", "--surplus", "1", "--source", "x"),
             "at most 2 decimals"),
            (("auction", "announce", "A", "--scheme", "CN-ETS", "--year", "2030",
              "--quantity", "1", "--reserve-price", "1", "--opens", START, "--closes", START,
              "--bidder-limit", "0%", "--batch", "B"), "is not a share"),
            (("auction", "bid", "A", "B", "--bidder", "huaneng", "--account", "HN-C",
              "--quantity", "1", "--price", "free"), "not a price")):
        output = ledger.fails(2, *args, "--as", "registry")
        assert said in output, output
    assert ledger.head() == head


def test_a_refusal_is_one_line_with_the_ledgers_reason(market: Ledger, tmp_path: Path) -> None:
    ledger = market
    over = tmp_path / "over.json"
    over.write_text(json.dumps(SECTORS))
    said = ledger.fails(1, "allocation", "plan", "set", "CN-ETS", str(YEAR), "--cap",
                        "1000000", "--reserve", "0", "--auction", "0", "--sectors", str(over),
                        "--as", "registry")
    assert "plan_over_cap" in said and len(said.strip().splitlines()) == 1
    said = ledger.fails(1, "allocation", "preallocate", "CN-ETS", str(YEAR), "--batch", "P",
                        "--target", "HN-1=HN-C", "--as", "registry")
    assert "no_plan" in said
    said = ledger.fails(1, "allocation", "output", "verify", "HN-1", "--year", "2029",
                        "--output", "1", "--unit", "MWh", "--verifier", "cec", "--as",
                        "huaneng")
    assert "Error:" in said and len(said.strip().splitlines()) == 1


@pytest.fixture
def served(market: Ledger) -> Iterator[Ledger]:
    with build(load_config(market.data_dir), market.data_dir,
               password=lambda: PASSWORD) as app, served_in_thread(app.service) as url:
        yield Ledger(market.runner, market.data_dir, server=url)


def test_through_a_server_each_bidder_sees_its_own_sealed_bids(served: Ledger,
                                                               tmp_path: Path) -> None:
    ledger = served
    _planned(ledger, tmp_path)
    _announced(ledger)
    own = ledger.ok("show", "auction", "AU-1", "--as", "huaneng")
    assert "3 sealed bid(s), 1 of them that this reader may see" in own
    assert [r[0] for r in rows(own.split("see:\n")[1])] == ["B-HN"]
    assert [r[0] for r in rows(ledger.ok("show", "auction", "AU-1", "--as", "registry")
                               .split("all of them:\n")[1])] == ["B-HN", "B-IC", "B-BW"]
    assert "sealed" in ledger.fails(1, "show", "auction", "AU-1")  # no login: no bids
    plan = ledger.ok("show", "plan", "CN-ETS", str(YEAR))  # public: no login
    assert "on offer" in plan and "100,000 t on offer" in plan
