"""Closures: installation_close records an installation's last year of allocation; later
years' allocation is refused, and any already issued is taken back as a true-up to zero would
(docs/allocation.md, "Free allocation by benchmark")."""

from __future__ import annotations

import json
from typing import Any

from allocation import queries
from allocation.reasons import AllocationReason
from compliance.reasons import ComplianceReason
from ledger.errors import Reason
from tests.allocation.helpers import row, rows, set_plan, verify_output
from tests.world import World

# pre-allocation 2027 = round(output 2026 x 0.8218 x 1 x 70%)
HN1_2027 = 575_260  # 1,000,000 MWh
HN2_2027 = 287_630  # 500,000 MWh


def close(world: World, last_year: int, *, installation: str = "HN-1",
          reason: str = "decommissioned under the capacity plan") -> Any:
    return world.by("registry", "installation_close", installation=installation,
                    lastYear=last_year, reason=reason)


def preallocate_2027(world: World) -> None:
    """Both Huaneng units pre-allocated for 2027 in one batch, PRE-2027."""
    set_plan(world, year=2026)
    set_plan(world, year=2027)
    verify_output(world, "HN-1", 2026, "1000000")
    verify_output(world, "HN-2", 2026, "500000")
    world.by("registry", "allocation_preallocate", scheme="CN-ETS", year=2027,
             batch="PRE-2027", targets=json.dumps([["HN-1", "HN"], ["HN-2", "HN"]]))
    assert world.holding("HN", "PRE-2027")["tradable"] == HN1_2027 + HN2_2027


def test_a_closure_is_recorded(any_market: World) -> None:
    receipt = close(any_market, 2026)
    assert rows(any_market, "installation_closures") == [{
        "installation": "HN-1", "last_year": 2026,
        "reason": "decommissioned under the capacity plan", "closed_seq": receipt.seq}]
    assert [(c.installation, c.last_year) for c in queries.closures(any_market.store)] == \
        [("HN-1", 2026)]


def test_an_installation_closes_once(market: World) -> None:
    close(market, 2026)
    market.refused(AllocationReason.already_closed, "registry", "installation_close",
                   installation="HN-1", lastYear=2027, reason="again")


def test_refusals_of_the_instruction_itself(market: World) -> None:
    market.refused(ComplianceReason.unknown_installation, "registry", "installation_close",
                   installation="HN-9", lastYear=2026, reason="gone")
    market.refused(AllocationReason.reason_required, "registry", "installation_close",
                   installation="HN-1", lastYear=2026, reason="")
    market.refused(Reason.role_not_permitted, "huaneng", "installation_close",
                   installation="HN-1", lastYear=2026, reason="we stop")


def test_a_later_years_allocation_is_taken_back(any_market: World) -> None:
    preallocate_2027(any_market)
    receipt = close(any_market, 2026)
    # HN-1's units are cancelled, lowest serials first; HN-2's stay
    assert any_market.holding("HN", "PRE-2027") == {
        "tradable": HN2_2027, "pledged": 0, "retired": 0, "surrendered": 0,
        "cancelled": HN1_2027}
    assert any_market.lots("PRE-2027") == [
        (1, HN1_2027, "HN", "cancelled"),
        (HN1_2027 + 1, HN1_2027 + HN2_2027, "HN", "tradable")]
    plan = row(any_market, "allocation_plans", "CN-ETS", 2027)
    assert (plan["issued"], plan["taken_back"]) == (HN1_2027 + HN2_2027, HN1_2027)
    assert row(any_market, "sector_allocations", "CN-ETS", 2027, "power")["allocated"] == \
        HN2_2027
    allocation = row(any_market, "installation_allocations", "HN-1", 2027)
    assert (allocation["final"], allocation["issued"], allocation["taken_back"],
            allocation["debt_created"], allocation["trued_up_seq"]) == \
        (0, HN1_2027, HN1_2027, 0, receipt.seq)
    assert row(any_market, "installation_allocations", "HN-2", 2027)["taken_back"] == 0
    view = queries.plan(any_market.store, "CN-ETS", 2027)
    assert view is not None  # HN-1's units no longer count against the cap
    assert (view.outstanding, view.headroom) == \
        (HN2_2027 + 1_500_000, 5_000_000 - HN2_2027 - 1_500_000)
    assert [(s.sector, s.allocated) for s in view.sectors] == [("power", HN2_2027),
                                                               ("steel", 0)]


def test_units_no_longer_held_become_debt(any_market: World) -> None:
    preallocate_2027(any_market)
    # Huaneng sells all but 75,260 t of the batch
    sold = HN1_2027 + HN2_2027 - 75_260
    any_market.by("huaneng", "transfer", fromAccount="HN", toAccount="IC-T", batch="PRE-2027",
                  quantity=sold, serialFirst=0, serialLast=0)
    close(any_market, 2026)
    assert any_market.holding("HN", "PRE-2027")["cancelled"] == 75_260
    assert any_market.holding("IC-T", "PRE-2027")["tradable"] == sold  # a buyer keeps its units
    assert row(any_market, "allocation_debts", "HN-1")["debt"] == HN1_2027 - 75_260
    allocation = row(any_market, "installation_allocations", "HN-1", 2027)
    assert (allocation["taken_back"], allocation["debt_created"]) == (75_260, HN1_2027 - 75_260)
    plan = row(any_market, "allocation_plans", "CN-ETS", 2027)
    assert plan["taken_back"] == 75_260


def test_the_last_year_and_earlier_are_kept(market: World) -> None:
    preallocate_2027(market)
    close(market, 2027)
    assert market.holding("HN", "PRE-2027")["tradable"] == HN1_2027 + HN2_2027
    assert row(market, "allocation_plans", "CN-ETS", 2027)["taken_back"] == 0


def test_no_allocation_after_the_last_year(market: World) -> None:
    preallocate_2027(market)
    close(market, 2026)
    market.refused(AllocationReason.installation_closed, "registry", "new_entrant_allocate",
                   scheme="CN-ETS", year=2027, installation="HN-1", account="HN",
                   batch="NE-1", quantity=1, reason="reopened")
    set_plan(market, year=2028)
    verify_output(market, "HN-1", 2027, "1000000")
    market.refused(AllocationReason.installation_closed, "registry", "allocation_preallocate",
                   scheme="CN-ETS", year=2028, batch="PRE-2028",
                   targets=json.dumps([["HN-1", "HN"]]))
