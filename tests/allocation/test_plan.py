"""The plan: allocation_plan_set and allocation_plan_amend (docs/allocation.md, "The plan")."""

from __future__ import annotations

import json

from allocation import queries
from allocation.invariants import check_allocation_invariants
from allocation.reasons import AllocationReason
from ledger.errors import Reason
from ledger.schemes import load_rules_dir
from tests.allocation.helpers import power_sector, row, rows, set_plan, steel_sector
from tests.world import World


def amend(world: World, *, cap: int = 6_000_000, sectors: list[dict[str, object]] | None = None,
          reason: str = "the 2026 cap revised upward for new capacity", year: int = 2026) -> None:
    world.by("registry", "allocation_plan_amend", scheme="CN-ETS", year=year, cap=cap,
             sectors=json.dumps(sectors if sectors is not None
                                else [power_sector(), steel_sector()]),
             reason=reason)


def refused_amend(world: World, expected: object, *, cap: int = 6_000_000,
                  sectors: list[dict[str, object]] | None = None,
                  reason: str = "revised") -> None:
    world.refused(expected, "registry", "allocation_plan_amend",  # type: ignore[arg-type]
                  scheme="CN-ETS", year=2026, cap=cap,
                  sectors=json.dumps(sectors if sectors is not None
                                     else [power_sector(), steel_sector()]), reason=reason)


def test_a_plan_records_its_cap_reserve_auction_volume_and_sectors(any_market: World) -> None:
    receipt = set_plan(any_market, cap=5_000_000, reserve=500_000, auction=1_000_000,
                       sectors=[steel_sector(), power_sector(factors={"load": "1.012"})])
    plan = row(any_market, "allocation_plans", "CN-ETS", 2026)
    assert (plan["cap"], plan["reserve"], plan["to_auction"], plan["on_offer"],
            plan["issued"], plan["taken_back"], plan["amendments"]) == \
        (5_000_000, 500_000, 1_000_000, 0, 0, 0, 0)
    assert plan["set_seq"] == plan["updated_seq"] == receipt.seq
    # stored canonically: sorted by sector, factors as decimal strings
    assert [s["sector"] for s in json.loads(plan["sectors"])] == ["power", "steel"]
    assert json.loads(plan["sectors"])[0]["factors"] == {"load": "1.012"}


def test_a_plan_may_commit_exactly_its_cap(market: World) -> None:
    # 2,000,000 + 1,000,000 free, 500,000 reserve, 1,500,000 to auction = 5,000,000
    set_plan(market, cap=5_000_000, reserve=500_000, auction=1_500_000)
    assert row(market, "allocation_plans", "CN-ETS", 2026)["cap"] == 5_000_000


def test_a_plan_over_its_cap_is_refused(market: World) -> None:
    market.refused(AllocationReason.plan_over_cap, "registry", "allocation_plan_set",
                   scheme="CN-ETS", year=2026, cap=5_000_000, reserve=500_000,
                   auction=1_500_001,
                   sectors=json.dumps([power_sector(), steel_sector()]))


def test_a_second_plan_for_the_year_is_refused(market: World) -> None:
    set_plan(market)
    market.refused(AllocationReason.plan_exists, "registry", "allocation_plan_set",
                   scheme="CN-ETS", year=2026, cap=9_000_000, reserve=0, auction=0,
                   sectors=json.dumps([power_sector()]))
    set_plan(market, year=2027)  # another year is another plan


def test_only_a_scheme_under_allocation_control_has_a_plan(market: World) -> None:
    fields = {"year": 2026, "cap": 1_000, "reserve": 0, "auction": 0,
              "sectors": json.dumps([power_sector(free_cap=1_000)])}
    market.refused(Reason.issued_by_another_operation, "registry", "allocation_plan_set",
                   scheme="CCER", **fields)
    market.refused(Reason.unknown_scheme, "registry", "allocation_plan_set",
                   scheme="EU-ETS", **fields)


def test_bad_sectors_are_refused(market: World) -> None:
    def refused(sectors: object, expected: object = AllocationReason.invalid_sectors) -> None:
        market.refused(expected, "registry", "allocation_plan_set",  # type: ignore[arg-type]
                       scheme="CN-ETS", year=2026, cap=5_000_000, reserve=0, auction=0,
                       sectors=json.dumps(sectors))

    refused([power_sector(), power_sector()])  # a sector twice
    refused([{**power_sector(), "benchmark": 0.8218}])  # a decimal as a float
    refused([])


def test_only_the_registry_sets_a_plan(market: World) -> None:
    market.refused(Reason.role_not_permitted, "huaneng", "allocation_plan_set",
                   scheme="CN-ETS", year=2026, cap=5_000_000, reserve=0, auction=0,
                   sectors=json.dumps([power_sector()]))


def test_an_amendment_changes_the_cap_and_sectors_and_is_recorded(any_market: World) -> None:
    set_plan(any_market)
    before = row(any_market, "allocation_plans", "CN-ETS", 2026)
    receipt = any_market.by(
        "registry", "allocation_plan_amend", scheme="CN-ETS", year=2026, cap=6_000_000,
        sectors=json.dumps([power_sector(free_cap=2_500_000), steel_sector(),
                            {"sector": "cement", "free_cap": 400_000, "benchmark": "0.6",
                             "output_unit": "t", "factors": {}}]),
        reason="cement joins the market")
    plan = row(any_market, "allocation_plans", "CN-ETS", 2026)
    assert (plan["cap"], plan["amendments"], plan["updated_seq"]) == (6_000_000, 1, receipt.seq)
    assert [s["sector"] for s in json.loads(plan["sectors"])] == ["cement", "power", "steel"]
    assert rows(any_market, "plan_amendments") == [{
        "scheme": "CN-ETS", "year": 2026, "seq": receipt.seq, "reason": "cement joins the market",
        "cap_before": 5_000_000, "cap_after": 6_000_000, "sectors_before": before["sectors"],
        "sectors_after": plan["sectors"]}]


def test_an_amendment_states_its_reason(market: World) -> None:
    set_plan(market)
    refused_amend(market, AllocationReason.reason_required, reason="")
    refused_amend(market, AllocationReason.reason_required, reason="   ")


def test_an_amendment_needs_a_plan(market: World) -> None:
    refused_amend(market, AllocationReason.no_plan)


def test_an_amendment_keeps_the_plan_within_its_cap(market: World) -> None:
    set_plan(market)  # 3,000,000 free + 500,000 reserve + 1,000,000 to auction
    refused_amend(market, AllocationReason.plan_over_cap, cap=4_499_999)
    amend(market, cap=4_500_000)
    assert row(market, "allocation_plans", "CN-ETS", 2026)["cap"] == 4_500_000


def test_an_amendment_never_takes_the_cap_below_what_is_outstanding(market: World) -> None:
    # nothing free: all the cap is the reserve and the auction volume
    set_plan(market, cap=2_000_000, reserve=500_000, auction=1_000_000,
             sectors=[power_sector(free_cap=0)])
    refused_amend(market, AllocationReason.amendment_below_committed, cap=1_499_999,
                  sectors=[power_sector(free_cap=0)])


def test_a_sector_never_goes_below_its_allocation(market: World) -> None:
    set_plan(market)
    market.by("registry", "new_entrant_allocate", scheme="CN-ETS", year=2026,
              installation="HN-1", account="HN", batch="NE-1", quantity=300_000,
              reason="new unit commissioned")
    assert row(market, "sector_allocations", "CN-ETS", 2026, "power")["allocated"] == 300_000
    refused_amend(market, AllocationReason.amendment_below_committed,
                  sectors=[power_sector(free_cap=299_999), steel_sector()])
    # a sector that has received allocation cannot leave the plan
    refused_amend(market, AllocationReason.amendment_below_committed, sectors=[steel_sector()])
    amend(market, sectors=[power_sector(free_cap=300_000), steel_sector()])
    # a sector with nothing allocated may leave it
    amend(market, sectors=[power_sector(free_cap=300_000)])
    assert [s["sector"] for s in json.loads(
        row(market, "allocation_plans", "CN-ETS", 2026)["sectors"])] == ["power"]


# --- the plan's invariants ---------------------------------------------------------------

def test_the_invariants_catch_a_plan_that_disagrees_with_its_units(market: World) -> None:
    set_plan(market)
    market.by("registry", "new_entrant_allocate", scheme="CN-ETS", year=2026,
              installation="HN-1", account="HN", batch="NE-1", quantity=1_000,
              reason="new unit")
    assert check_allocation_invariants(market.store) == []

    def tampered(statement: str, undo: str) -> list[str]:
        with market.store.write() as tx:
            tx.execute(statement)
        problems = check_allocation_invariants(market.store)
        with market.store.write() as tx:  # put it back, for the checks at the end
            tx.execute(undo)
        return problems

    issued = tampered("UPDATE allocation_plans SET issued = issued + 1, reserve = reserve - 1",
                      "UPDATE allocation_plans SET issued = issued - 1, reserve = reserve + 1")
    assert any("1001 t issued, the batches its operations issued hold 1000 t" in p
               for p in issued), issued
    sector = tampered("UPDATE sector_allocations SET allocated = allocated + 5",
                      "UPDATE sector_allocations SET allocated = allocated - 5")
    assert any("sector power has received 1005 t, its installations keep 1000 t" in p
               for p in sector), sector
    over = tampered("UPDATE sector_allocations SET allocated = 3000000",
                    "UPDATE sector_allocations SET allocated = 1000")
    assert any("sector power has received 3000000 t, its free allocation is 2000000 t" in p
               for p in over), over


# --- reading plans back ------------------------------------------------------------------

def test_a_plan_reads_back_with_its_sectors_and_amendments(any_market: World) -> None:
    set_plan(any_market)
    set_plan(any_market, year=2027)
    any_market.by("registry", "new_entrant_allocate", scheme="CN-ETS", year=2026,
                  installation="BW-1", account="BW", batch="NE-1", quantity=40_000,
                  reason="new blast furnace")
    amend(any_market, cap=5_200_000, reason="revised")
    view = queries.plan(any_market.store, "CN-ETS", 2026)
    assert view is not None
    assert (view.cap, view.reserve, view.to_auction, view.issued, view.amendments,
            view.outstanding, view.headroom) == \
        (5_200_000, 460_000, 1_000_000, 40_000, 1, 1_500_000, 3_700_000)
    assert [(s.sector, s.free_cap, s.benchmark, s.output_unit, s.factors, s.allocated,
             s.remaining) for s in view.sectors] == [
        ("power", 2_000_000, "0.8218", "MWh", {"load": "1"}, 0, 2_000_000),
        ("steel", 1_000_000, "1.8", "t", {}, 40_000, 960_000)]
    assert queries.plan(any_market.store, "CN-ETS", 2028) is None
    assert [(p.scheme, p.year) for p in queries.plans(any_market.store)] == \
        [("CN-ETS", 2026), ("CN-ETS", 2027)]
    assert queries.plans(any_market.store, "CCER") == []
    [amendment] = queries.amendments(any_market.store, "CN-ETS", 2026)
    assert (amendment.reason, amendment.cap_before, amendment.cap_after) == \
        ("revised", 5_000_000, 5_200_000)
    assert queries.amendments(any_market.store, "CN-ETS", 2027) == []


def test_a_scheme_under_allocation_needs_its_allocation_rules(market: World) -> None:
    document = load_rules_dir()["CN-ETS"].as_json()
    del document["allocation"]
    market.by("registry", "set_scheme_rules", scheme="CN-GD", rules=json.dumps(
        {**document, "scheme": "CN-GD", "title": "Guangdong pilot",
         "issue_operation": "allocation"}))
    market.refused(AllocationReason.not_an_allocation_scheme, "registry", "allocation_plan_set",
                   scheme="CN-GD", year=2026, cap=1_000, reserve=0, auction=0,
                   sectors=json.dumps([power_sector(free_cap=1_000)]))
