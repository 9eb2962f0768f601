"""New entrants: new_entrant_allocate gives a new installation a stated quantity from the
plan's reserve (docs/allocation.md, "Free allocation by benchmark")."""

from __future__ import annotations

import json
from typing import Any

from allocation.reasons import AllocationReason
from compliance.reasons import ComplianceReason
from ledger.errors import Reason
from ledger.model import Issuance, Kind
from ledger.schemes import load_rules_dir
from tests.allocation.helpers import power_sector, row, rows, set_plan
from tests.compliance.helpers import register_installation
from tests.world import World

REASON = "unit 3 commissioned in March"


def allocate(world: World, quantity: int, *, installation: str = "HN-1", account: str = "HN",
             batch: str = "NE-1", year: int = 2026) -> Any:
    return world.by("registry", "new_entrant_allocate", scheme="CN-ETS", year=year,
                    installation=installation, account=account, batch=batch,
                    quantity=quantity, reason=REASON)


def refused(world: World, expected: Any, quantity: int = 1_000, *, installation: str = "HN-1",
            account: str = "HN", batch: str = "NE-1", year: int = 2026,
            reason: str = REASON) -> None:
    world.refused(expected, "registry", "new_entrant_allocate", scheme="CN-ETS", year=year,
                  installation=installation, account=account, batch=batch, quantity=quantity,
                  reason=reason)


def test_a_new_entrant_is_issued_units_from_the_reserve(any_market: World) -> None:
    set_plan(any_market, reserve=500_000)
    receipt = allocate(any_market, 120_000)
    plan = row(any_market, "allocation_plans", "CN-ETS", 2026)
    assert (plan["reserve"], plan["issued"], plan["to_auction"]) == (380_000, 120_000, 1_000_000)
    assert row(any_market, "sector_allocations", "CN-ETS", 2026, "power")["allocated"] == 120_000
    with any_market.store.read() as tx:
        batch = tx.batches(["NE-1"])["NE-1"]
    assert (batch.scheme, batch.kind, batch.vintage, batch.issuance, batch.quantity) == \
        ("CN-ETS", Kind.allowance, 2026, Issuance.free_allocation, 120_000)
    assert any_market.lots("NE-1") == [(1, 120_000, "HN", "tradable")]
    assert any_market.holding("HN", "NE-1")["tradable"] == 120_000
    allocation = row(any_market, "installation_allocations", "HN-1", 2026)
    assert {k: allocation[k] for k in ("scheme", "sector", "account", "source", "preallocated",
                                       "final", "issued", "taken_back", "debt_applied",
                                       "batches", "allocated_seq")} == {
        "scheme": "CN-ETS", "sector": "power", "account": "HN", "source": "new_entrant",
        "preallocated": 120_000, "final": None, "issued": 120_000, "taken_back": 0,
        "debt_applied": 0, "batches": '["NE-1"]', "allocated_seq": receipt.seq}
    assert rows(any_market, "reserve_movements") == [{
        "scheme": "CN-ETS", "year": 2026, "seq": receipt.seq, "kind": "new_entrant",
        "quantity": 120_000, "figures": "", "installation": "HN-1", "reason": REASON}]


def test_a_new_entrant_takes_at_most_the_reserve(market: World) -> None:
    set_plan(market, reserve=100_000)
    refused(market, AllocationReason.reserve_insufficient, 100_001)
    allocate(market, 100_000)
    assert row(market, "allocation_plans", "CN-ETS", 2026)["reserve"] == 0


def test_a_new_entrant_counts_against_its_sectors_free_allocation(market: World) -> None:
    set_plan(market, sectors=[power_sector(free_cap=50_000)])
    refused(market, AllocationReason.sector_cap_exceeded, 50_001)
    allocate(market, 50_000)


def test_the_installation_must_be_known_of_the_scheme_and_its_sector_planned(
        market: World) -> None:
    set_plan(market, sectors=[power_sector()])
    refused(market, ComplianceReason.unknown_installation, installation="HN-9")
    refused(market, AllocationReason.sector_not_in_plan, installation="BW-1", account="BW")
    market.by("registry", "set_scheme_rules", scheme="CN-GD", rules=_guangdong_rules())
    register_installation(market, "GD-1", "huaneng", scheme="CN-GD")
    refused(market, AllocationReason.installation_not_in_scheme, installation="GD-1")


def test_the_units_go_to_a_compliance_account_of_the_emitter(market: World) -> None:
    set_plan(market)
    refused(market, AllocationReason.not_emitters_compliance_account, account="HN-T")
    refused(market, AllocationReason.not_emitters_compliance_account, account="BW")
    refused(market, Reason.unknown_account, account="XX")
    market.by("registry", "freeze_account", account="HN", reason="court order")
    refused(market, Reason.account_frozen)


def test_an_installation_is_allocated_once_a_year(market: World) -> None:
    set_plan(market)
    set_plan(market, year=2027)
    allocate(market, 1_000)
    refused(market, AllocationReason.already_preallocated, batch="NE-2")
    allocate(market, 1_000, batch="NE-2", year=2027)


def test_a_closed_installation_gets_no_allocation_after_its_last_year(market: World) -> None:
    set_plan(market)
    set_plan(market, year=2025)
    market.by("registry", "installation_close", installation="HN-1", lastYear=2025,
              reason="decommissioned")
    refused(market, AllocationReason.installation_closed)
    allocate(market, 1_000, year=2025)  # its last year is still allocated


def test_refusals_of_the_instruction_itself(market: World) -> None:
    refused(market, AllocationReason.no_plan)
    set_plan(market)
    refused(market, AllocationReason.reason_required, reason="")
    market.by("registry", "issue_batch", batch="CCER-1", scheme="CCER", kind="credit",
              vintage=2025, issuance="credit_issuance", quantity=10, account="HN",
              project="P-1", monitoringStart="2025-01-01", monitoringEnd="2025-12-31")
    refused(market, Reason.batch_exists, batch="CCER-1")
    market.refused(Reason.role_not_permitted, "huaneng", "new_entrant_allocate",
                   scheme="CN-ETS", year=2026, installation="HN-1", account="HN",
                   batch="NE-1", quantity=1, reason=REASON)


def test_a_debt_is_deducted_first(any_market: World) -> None:
    owe_debt(any_market, 30_000)  # HN-1 owes 30,000 t, its 2027 allocation taken back
    receipt = allocate(any_market, 50_000)
    allocation = row(any_market, "installation_allocations", "HN-1", 2026)
    assert (allocation["preallocated"], allocation["issued"], allocation["debt_applied"]) == \
        (50_000, 20_000, 30_000)
    assert row(any_market, "allocation_debts", "HN-1")["debt"] == 0
    assert any_market.lots("NE-1") == [(1, 20_000, "HN", "tradable")]
    plan = row(any_market, "allocation_plans", "CN-ETS", 2026)
    assert (plan["reserve"], plan["issued"]) == (480_000, 20_000)  # the debt stays in it
    assert [(m["seq"], m["quantity"]) for m in rows(any_market, "reserve_movements")
            if m["year"] == 2026] == [(receipt.seq, 20_000)]


def test_a_debt_larger_than_the_allocation_takes_it_all(market: World) -> None:
    owe_debt(market, 30_000)
    allocate(market, 20_000)
    allocation = row(market, "installation_allocations", "HN-1", 2026)
    assert (allocation["issued"], allocation["debt_applied"], allocation["batches"]) == \
        (0, 20_000, "[]")
    assert row(market, "allocation_debts", "HN-1")["debt"] == 10_000
    assert market.lots("NE-1") == []  # no batch
    assert [m for m in rows(market, "reserve_movements") if m["year"] == 2026] == []
    assert row(market, "allocation_plans", "CN-ETS", 2026)["reserve"] == 500_000


def owe_debt(world: World, debt: int) -> None:
    """HN-1 receives 100,000 t for 2027 as a new entrant, Huaneng moves `debt` of them to its
    trading account, and HN-1 closes after 2026: what cannot be taken back is owed."""
    set_plan(world)
    set_plan(world, year=2027)
    allocate(world, 100_000, batch="NE-2027", year=2027)
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="HN-T", batch="NE-2027",
             quantity=debt, serialFirst=0, serialLast=0)
    world.by("registry", "installation_close", installation="HN-1", lastYear=2026,
             reason="the unit will not run in 2027")
    assert row(world, "allocation_debts", "HN-1")["debt"] == debt


def _guangdong_rules() -> str:
    """CN-GD: a second scheme with CN-ETS's rules, issued by issue_batch."""
    document = load_rules_dir()["CN-ETS"].as_json()
    return json.dumps({**document, "scheme": "CN-GD", "title": "Guangdong pilot"})
