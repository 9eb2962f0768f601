"""Status per emitter and year: obligation, surrendered allowances and credits, shortfall, and
due -> compliant, overdue after the deadline, met late, and unverified emitters."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from api.cli import main
from compliance.queries import ComplianceState, Status, compliance_status, state_of
from tests.compliance.helpers import (
    move_clock_to,
    qualify,
    register_installation,
    reported_year,
    verified_data_dir,
    verify,
)
from tests.world import World

DEADLINE_2025 = date(2026, 12, 31)  # CN-ETS: 12-31 of the year after
PASSWORD = "correct horse"


def surrender(world: World, who: str, account: str, batch: str, quantity: int,
              year: int = 2025) -> int:
    return world.by(who, "surrender", account=account, year=year, batch=batch,
                    quantity=quantity, serialFirst=0, serialLast=0).seq


def statuses(world: World, year: int = 2025) -> dict[str, Status]:
    return {s.emitter: s for s in compliance_status(world.store, year, world.clock())}


def verified_market(world: World) -> None:
    """Huaneng verified at 1,200 t for 2025, Baowu at 600 t; each holds 2025 allowances."""
    reported_year(world, "huaneng", ["HN-1", "HN-2"], 2025, 50_000)  # 1,200 t
    reported_year(world, "baowu", ["BW-1"], 2025, 50_000)  # 600 t
    qualify(world)
    qualify(world, sector="steel")
    verify(world, "huaneng", 2025, 1200)
    verify(world, "baowu", 2025, 600)
    world.allocate("A25", "HN", 2000)
    world.allocate("B25", "BW", 1000)


def test_the_state_turns_on_the_shortfall_and_the_deadline() -> None:
    assert state_of(0, DEADLINE_2025, DEADLINE_2025) is ComplianceState.compliant
    assert state_of(0, date(2030, 1, 1), DEADLINE_2025) is ComplianceState.compliant
    assert state_of(1, DEADLINE_2025, DEADLINE_2025) is ComplianceState.due  # the last day
    assert state_of(1, date(2027, 1, 1), DEADLINE_2025) is ComplianceState.overdue


def test_an_emitter_without_a_verified_obligation_is_listed_unverified(market: World) -> None:
    found = statuses(market)
    assert set(found) == {"huaneng", "baowu"}
    for status in found.values():
        assert status.state is ComplianceState.unverified
        assert status.obligation is None and status.shortfall is None
        assert status.deadline == "2026-12-31"


def test_due_then_compliant_as_allowances_are_surrendered(any_market: World) -> None:
    verified_market(any_market)
    huaneng = statuses(any_market)["huaneng"]
    assert (huaneng.state, huaneng.obligation, huaneng.shortfall) == \
        (ComplianceState.due, 1200, 1200)
    assert huaneng.days_to_deadline == (DEADLINE_2025 - date(2026, 1, 3)).days
    assert huaneng.set_seq is not None and huaneng.met_seq is None

    surrender(any_market, "huaneng", "HN", "A25", 700)
    huaneng = statuses(any_market)["huaneng"]
    assert (huaneng.state, huaneng.allowances, huaneng.shortfall) == \
        (ComplianceState.due, 700, 500)

    met = surrender(any_market, "huaneng", "HN", "A25", 500)
    huaneng = statuses(any_market)["huaneng"]
    assert (huaneng.state, huaneng.allowances, huaneng.credits, huaneng.shortfall) == \
        (ComplianceState.compliant, 1200, 0, 0)
    assert (huaneng.met_seq, huaneng.late) == (met, False)


def test_overdue_after_the_deadline_and_met_late(any_market: World) -> None:
    verified_market(any_market)
    surrender(any_market, "huaneng", "HN", "A25", 1200)
    surrender(any_market, "baowu", "BW", "B25", 100)
    move_clock_to(any_market, DEADLINE_2025)  # the deadline itself: still due
    assert statuses(any_market)["baowu"].state is ComplianceState.due

    move_clock_to(any_market, date(2027, 1, 1))
    found = statuses(any_market)
    assert found["huaneng"].state is ComplianceState.compliant and not found["huaneng"].late
    assert (found["baowu"].state, found["baowu"].shortfall, found["baowu"].days_to_deadline) \
        == (ComplianceState.overdue, 500, -1)

    met = surrender(any_market, "baowu", "BW", "B25", 500)
    baowu = statuses(any_market)["baowu"]
    assert (baowu.state, baowu.late, baowu.met_seq) == (ComplianceState.compliant, True, met)


def test_an_emitter_is_unverified_only_from_the_year_its_installations_are_registered(
        market: World) -> None:
    market.participant("sinopec", "emitter", "SP", "compliance")
    move_clock_to(market, date(2026, 2, 1))
    register_installation(market, "SP-1", "sinopec", sector="petrochemical")
    assert "sinopec" not in statuses(market, 2025)
    assert statuses(market, 2026)["sinopec"].state is ComplianceState.unverified


def test_status_equals_a_reference_from_the_journal(market: World) -> None:
    """Obligation and surrendered quantities, recomputed from the journal's verification and
    surrender entries alone, are what the status reports."""
    verified_market(market)
    surrender(market, "huaneng", "HN", "A25", 300)
    surrender(market, "baowu", "BW", "B25", 600)
    surrender(market, "huaneng", "HN", "A25", 200)
    owed: dict[str, int] = {}
    surrendered: dict[str, int] = {}
    with market.store.read() as tx:
        for row in tx.journal_rows(0, tx.head + 1):
            fields = json.loads(row.entry)["instruction"]["fields"]
            if row.op == "verification_sign":
                owed[fields["emitter"]] = fields["verifiedEmissions"]
            elif row.op == "surrender":
                emitter = {"HN": "huaneng", "BW": "baowu"}[fields["account"]]
                surrendered[emitter] = surrendered.get(emitter, 0) + fields["quantity"]
    for emitter, status in statuses(market).items():
        assert status.obligation == owed[emitter]
        assert status.allowances + status.credits == surrendered[emitter]
        assert status.shortfall == owed[emitter] - surrendered[emitter]
        expected = ComplianceState.compliant if status.shortfall == 0 else ComplianceState.due
        assert status.state is expected


def test_the_commands_print_status_risk_and_credit_record(tmp_path: Path) -> None:
    data_dir = tmp_path / "ledger"
    verified_data_dir(data_dir, PASSWORD)
    runner = CliRunner(env={"CARBONLEDGER_PASSWORD": PASSWORD, "CARBONLEDGER_SERVER": None,
                            "CARBONLEDGER_STORE_URL": None})

    def run(*args: str) -> str:
        result = runner.invoke(main, ["--data-dir", str(data_dir), *args])
        assert result.exit_code == 0, result.output
        return result.output

    status_line = run("compliance", "status", "2025").splitlines()[2].split()
    assert status_line[:7] == ["huaneng", "CN-ETS", "due", "1,200", "0", "0", "1,200"]
    (item,) = json.loads(run("compliance", "status", "2025", "--json"))["items"]
    assert (item["emitter"], item["state"], item["shortfall"]) == ("huaneng", "due", 1200)
    (warning,) = json.loads(run("compliance", "risk", "2025", "--json"))["items"]
    assert (warning["owed"], warning["available"], warning["shortfall_risk"]) == \
        (1200, 1000, 200)
    assert "huaneng" in run("compliance", "risk", "2025")
    record = json.loads(run("compliance", "credit-record", "huaneng", "--json"))
    # the data was sent today, long after each month's due day
    assert record["entity"] == "huaneng"
    assert {i["event"] for i in record["items"]} == {"late_monthly_data"}
    assert len(record["items"]) == 12
    assert "12 item(s)" in run("compliance", "credit-record", "huaneng")
