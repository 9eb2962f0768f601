"""The disclosure of a year: per emitter its verified emissions, surrendered units, state and
pledged quantity; the market's transfers, surrenders and retirements in the year by the
scheme's market calendar; the journal head it was computed at; as CSV and JSON."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from compliance.disclosure import EMITTER_COLUMNS, disclosure_csv, disclosure_json
from compliance.queries import (
    ComplianceState,
    DisclosedEmitter,
    Disclosure,
    MarketTotals,
    disclosure,
    disclosure_at,
)
from tests.compliance.helpers import verified_data_dir
from tests.compliance.test_status import PASSWORD, surrender, verified_market
from tests.pledge.helpers import PLEDGE, by
from tests.world import World


def transfer(world: World, quantity: int, at: datetime | None = None) -> None:
    if at is not None:
        world.clock.moment = at
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="BW", batch="A0",
             quantity=quantity, serialFirst=0, serialLast=0)


def retire(world: World, quantity: int) -> None:
    world.by("huaneng", "retire", account="HN", batch="A0", quantity=quantity,
             serialFirst=0, serialLast=0, beneficiary="", reason="voluntary", claim="")


def disclosed_market(world: World) -> World:
    """Trades in 2025 and on the first Beijing hour of 2026; then the 2025 obligations (Huaneng
    1,200 t, Baowu 600 t), 300 t surrendered by Huaneng and 400 t it pledged to ICBC."""
    world.allocate("A0", "HN", 1000, vintage=2024)
    transfer(world, 100)
    retire(world, 10)
    transfer(world, 30, datetime(2025, 12, 31, 15, 59, tzinfo=UTC))  # 23:59 in Beijing
    transfer(world, 50, datetime(2025, 12, 31, 16, 0, tzinfo=UTC))  # 2026-01-01 in Beijing
    retire(world, 5)
    verified_market(world)
    surrender(world, "huaneng", "HN", "A25", 300)
    world.participant("icbc", "bank", "ICBC", "trading")
    by(world, ("huaneng", "icbc"), "pledge_register",
       **(PLEDGE | {"batch": "A25", "startDate": "2026-01-03"}))
    return world


def test_what_each_emitter_and_the_market_did_in_the_year(any_market: World) -> None:
    disclosed_market(any_market)
    found = disclosure(any_market.store, 2025, any_market.clock())
    assert (found.year, found.scheme, found.market_day) == (2025, "CN-ETS", "2026-01-03")
    assert (found.head, found.checkpoint, found.checkpoint_log_size) == \
        (any_market.head(), None, None)
    assert found.emitters == (
        DisclosedEmitter("baowu", "CN-ETS", 600, 0, 0, ComplianceState.due, 0),
        DisclosedEmitter("huaneng", "CN-ETS", 1200, 300, 0, ComplianceState.due, 400))
    assert found.totals == MarketTotals(transfers=2, transferred_t=130,
                                        surrendered_allowances_t=300, surrendered_credits_t=0,
                                        retired_t=10)
    next_year = disclosure(any_market.store, 2026, any_market.clock())
    assert next_year.totals == MarketTotals(1, 50, 0, 0, 5)
    assert [(e.emitter, e.state, e.verified_t) for e in next_year.emitters] == [
        ("baowu", ComplianceState.unverified, None),
        ("huaneng", ComplianceState.unverified, None)]


def test_the_json_and_csv_carry_every_figure(market: World) -> None:
    disclosed_market(market)
    found = disclosure(market.store, 2025, market.clock())
    document = json.loads(disclosure_json(found))
    assert document == json.loads(json.dumps(dataclasses.asdict(found)))
    assert document["emitters"][1] == {"emitter": "huaneng", "scheme": "CN-ETS",
                                       "verified_t": 1200, "allowances": 300, "credits": 0,
                                       "state": "due", "pledged": 400}
    emitters_part, measures_part = disclosure_csv(found).split("\n\n")
    rows = list(csv.reader(io.StringIO(emitters_part)))
    assert rows == [list(EMITTER_COLUMNS), ["baowu", "CN-ETS", "600", "0", "0", "due", "0"],
                    ["huaneng", "CN-ETS", "1200", "300", "0", "due", "400"]]
    measures = dict(csv.reader(io.StringIO(measures_part)))
    assert measures == {"measure": "value", "year": "2025", "scheme": "CN-ETS",
                        "market_day": "2026-01-03", "head": str(market.head()),
                        "checkpoint": "", "checkpoint_log_size": "", "transfers": "2",
                        "transferred_t": "130", "surrendered_allowances_t": "300",
                        "surrendered_credits_t": "0", "retired_t": "10"}


def test_an_unverified_emitter_is_disclosed_with_empty_emissions(market: World) -> None:
    found = disclosure(market.store, 2025, market.clock())
    assert [e.verified_t for e in found.emitters] == [None, None]
    emitters_part, _ = disclosure_csv(found).split("\n\n")
    assert emitters_part.splitlines()[1] == "baowu,CN-ETS,,0,0,unverified,0"


def test_a_scheme_that_sets_no_obligations_and_a_checkpoint_that_does_not_exist(
        market: World) -> None:
    with pytest.raises(ValueError, match="CN-ETS"):
        disclosure(market.store, 2025, market.clock(), scheme="CCER")
    with pytest.raises(ValueError, match="no checkpoint 1"):
        disclosure_at(market.store, 2025, 1, now=market.clock())
    assert isinstance(disclosure(market.store, 2025, market.clock(), scheme="CN-ETS"),
                      Disclosure)


def test_disclose_writes_csv_or_json_from_the_command_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "ledger"
    verified_data_dir(data_dir, PASSWORD)
    runner = CliRunner(env={"CARBONLEDGER_PASSWORD": PASSWORD, "CARBONLEDGER_SERVER": None,
                            "CARBONLEDGER_STORE_URL": None})
    out = tmp_path / "disclosure-2025.csv"
    result = runner.invoke(main, ["--data-dir", str(data_dir), "disclose", "2025",
                                  "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"written to {out}: 1 emitter(s)" in result.output
    assert out.read_text().splitlines()[1] == "huaneng,CN-ETS,1200,0,0,due,0"
    result = runner.invoke(main, ["--data-dir", str(data_dir), "disclose", "2025"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["emitters"][0]["verified_t"] == 1200
    result = runner.invoke(main, ["--data-dir", str(data_dir), "disclose", "2025",
                                  "--scheme", "CCER"])
    assert result.exit_code == 1 and "CN-ETS" in result.output


def test_disclose_writes_its_proof_once_a_checkpoint_covers_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "ledger"
    verified_data_dir(data_dir, PASSWORD)
    runner = CliRunner(env={"CARBONLEDGER_PASSWORD": PASSWORD, "CARBONLEDGER_SERVER": None,
                            "CARBONLEDGER_STORE_URL": None})
    proof = tmp_path / "disclosure-2025.proof.json"
    base = ["--data-dir", str(data_dir), "disclose", "2025", "--out",
            str(tmp_path / "d.json"), "--proof", str(proof)]
    result = runner.invoke(main, base)
    assert result.exit_code == 1 and "cut one (`carbonledger checkpoint`)" in result.output
    assert not proof.exists()
    assert runner.invoke(main, ["--data-dir", str(data_dir), "checkpoint"]).exit_code == 0
    result = runner.invoke(main, base)
    assert result.exit_code == 0, result.output
    bundle = json.loads(proof.read_text())
    assert bundle["kind"] == "disclosure"
    assert bundle["disclosure"] == [{"emitter": "huaneng", "verified_t": 1200,
                                     "allowances": 0, "credits": 0}]
    operator = runner.invoke(main, ["--data-dir", str(data_dir), "operator-key"])
    verified = runner.invoke(main, ["--data-dir", str(tmp_path / "auditor"), "verify",
                                    str(proof), "--operator-key",
                                    operator.output.strip().split()[-1]])
    assert verified.exit_code == 0, verified.output
    assert "disclosure of 2025: each of its 1 rows" in verified.output
