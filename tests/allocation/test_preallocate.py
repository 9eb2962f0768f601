"""allocation_preallocate: the year's pre-allocation, one batch with a lot per installation in
the order listed (docs/allocation.md, "Free allocation by benchmark").

The default 2026 plan: power 0.8218 tCO2/MWh (factor load 1), steel 1.8 t/t; the rules'
preallocation_bp is 7000. The 2025 outputs below earn, by hand:
    HN-1  1000000.5 MWh x 0.8218 = 821800.4109; x 0.7 = 575260.28763 -> 575260
    HN-2   500000   MWh x 0.8218 = 410900;      x 0.7 = 287630
    BW-1   300000.25 t  x 1.8    = 540000.45;   x 0.7 = 378000.315   -> 378000
"""

from __future__ import annotations

import json

import pytest

from allocation.reasons import AllocationReason
from compliance.reasons import ComplianceReason
from ledger.errors import Reason
from ledger.schemes import load_rules_dir
from tests.allocation.helpers import (
    power_sector,
    preallocate,
    row,
    rows,
    set_plan,
    verify_output,
)
from tests.compliance.helpers import register_installation
from tests.world import World

HN_1, HN_2, BW_1 = 575_260, 287_630, 378_000


@pytest.fixture
def verified(market: World) -> World:
    return with_outputs(market)


def with_outputs(world: World) -> World:
    set_plan(world)
    verify_output(world, "HN-1", 2025, "1000000.5")
    verify_output(world, "HN-2", 2025, "500000")
    verify_output(world, "BW-1", 2025, "300000.25", unit="t")
    return world


def batch_row(world: World, batch: str) -> tuple[object, ...] | None:
    with world.store.read() as tx:
        found = tx.one("SELECT scheme, kind, vintage, issuance, quantity FROM batches "
                       "WHERE id = :b", {"b": batch})
    return None if found is None else tuple(found)


def refused(world: World, expected: object, *targets: tuple[str, str], year: int = 2026,
            batch: str = "FA-2026", who: str = "registry") -> None:
    world.refused(expected, who, "allocation_preallocate",  # type: ignore[arg-type]
                  scheme="CN-ETS", year=year, batch=batch,
                  targets=json.dumps([list(t) for t in targets]))


def test_one_batch_with_a_lot_per_installation_in_the_order_listed(any_market: World) -> None:
    world = with_outputs(any_market)
    receipt = preallocate(world, ("HN-1", "HN"), ("BW-1", "BW"), ("HN-2", "HN"))
    total = HN_1 + BW_1 + HN_2
    assert batch_row(world, "FA-2026") == ("CN-ETS", "allowance", 2026, "free_allocation",
                                           total)
    assert world.lots("FA-2026") == [
        (1, HN_1, "HN", "tradable"),
        (HN_1 + 1, HN_1 + BW_1, "BW", "tradable"),
        (HN_1 + BW_1 + 1, total, "HN", "tradable")]
    assert world.holding("HN", "FA-2026")["tradable"] == HN_1 + HN_2
    assert world.holding("BW", "FA-2026")["tradable"] == BW_1
    plan = row(world, "allocation_plans", "CN-ETS", 2026)
    assert (plan["issued"], plan["taken_back"], plan["updated_seq"]) == (total, 0, receipt.seq)
    assert [(r["sector"], r["allocated"]) for r in rows(world, "sector_allocations")] == \
        [("power", HN_1 + HN_2), ("steel", BW_1)]
    hn_1 = row(world, "installation_allocations", "HN-1", 2026)
    assert hn_1 == {
        "installation": "HN-1", "year": 2026, "scheme": "CN-ETS", "sector": "power",
        "account": "HN", "source": "preallocation", "preallocated": HN_1, "final": None,
        "issued": HN_1, "taken_back": 0, "debt_applied": 0, "debt_created": 0, "debt_after": 0,
        "batches": '["FA-2026"]', "allocated_seq": receipt.seq, "trued_up_seq": None,
        "updated_seq": receipt.seq}


def test_installations_may_be_pre_allocated_in_several_instructions(verified: World) -> None:
    preallocate(verified, ("HN-1", "HN"), batch="FA-2026-A")
    preallocate(verified, ("HN-2", "HN"), ("BW-1", "BW"), batch="FA-2026-B")
    assert verified.lots("FA-2026-B") == [(1, HN_2, "HN", "tradable"),
                                          (HN_2 + 1, HN_2 + BW_1, "BW", "tradable")]
    refused(verified, AllocationReason.already_preallocated, ("HN-1", "HN"), batch="FA-2026-C")
    refused(verified, Reason.batch_exists, ("HN-1", "HN"), batch="FA-2026-A")


def test_an_allocation_of_nothing_makes_no_batch_and_is_still_recorded(market: World) -> None:
    set_plan(market)
    verify_output(market, "HN-1", 2025, "0")
    verify_output(market, "HN-2", 2025, "0.5")  # 0.5 x 0.8218 x 0.7 = 0.28763 -> 0
    preallocate(market, ("HN-1", "HN"), ("HN-2", "HN"))
    assert batch_row(market, "FA-2026") is None
    assert [(r["installation"], r["issued"], r["batches"])
            for r in rows(market, "installation_allocations")] == \
        [("HN-1", 0, "[]"), ("HN-2", 0, "[]")]
    assert row(market, "allocation_plans", "CN-ETS", 2026)["issued"] == 0


def test_without_last_year_s_verified_output_it_is_refused(market: World) -> None:
    set_plan(market)
    verify_output(market, "HN-1", 2026, "1000")  # this year's, not last year's
    refused(market, AllocationReason.no_verified_output, ("HN-1", "HN"))


def test_the_output_must_be_in_the_sector_s_unit(market: World) -> None:
    set_plan(market)
    verify_output(market, "HN-1", 2025, "1000", unit="GJ")
    refused(market, AllocationReason.output_unit_mismatch, ("HN-1", "HN"))


def test_a_sector_the_plan_does_not_name_is_refused(market: World) -> None:
    set_plan(market, sectors=[power_sector()])
    verify_output(market, "BW-1", 2025, "1000", unit="t")
    refused(market, AllocationReason.sector_not_in_plan, ("BW-1", "BW"))


def test_an_installation_of_another_scheme_is_refused(verified: World) -> None:
    guangdong = load_rules_dir()["CN-GD"].as_json()  # a compliance scheme too, from now on
    guangdong["compliance"] = load_rules_dir()["CN-ETS"].as_json()["compliance"]
    verified.by("registry", "set_scheme_rules", scheme="CN-GD", rules=json.dumps(guangdong))
    register_installation(verified, "HN-GD", "huaneng", scheme="CN-GD")
    verify_output(verified, "HN-GD", 2025, "1000")
    refused(verified, AllocationReason.installation_not_in_scheme, ("HN-GD", "HN"))
    refused(verified, ComplianceReason.unknown_installation, ("XX-1", "HN"))


def test_a_closed_installation_receives_nothing_after_its_last_year(verified: World) -> None:
    verified.by("registry", "installation_close", installation="HN-2", lastYear=2025,
                reason="unit decommissioned in December 2025")
    refused(verified, AllocationReason.installation_closed, ("HN-1", "HN"), ("HN-2", "HN"))
    preallocate(verified, ("HN-1", "HN"))


def test_units_go_only_to_a_compliance_account_of_the_emitter(verified: World) -> None:
    refused(verified, AllocationReason.not_emitters_compliance_account, ("HN-1", "HN-T"))
    refused(verified, AllocationReason.not_emitters_compliance_account, ("HN-1", "BW"))
    refused(verified, Reason.unknown_account, ("HN-1", "XX"))
    verified.by("registry", "freeze_account", account="HN", reason="court order 2026-17")
    refused(verified, Reason.account_frozen, ("HN-1", "HN"))


def test_the_sector_s_free_allocation_bounds_all_its_installations_together(
        market: World) -> None:
    # HN-1 and HN-2 together earn 862,890 t of power; each alone fits in 600,000 t
    with_outputs_and_plan(market, power_cap=600_000)
    refused(market, AllocationReason.sector_cap_exceeded, ("HN-1", "HN"), ("HN-2", "HN"))
    preallocate(market, ("HN-1", "HN"))
    refused(market, AllocationReason.sector_cap_exceeded, ("HN-2", "HN"), batch="FA-2026-B")
    assert row(market, "sector_allocations", "CN-ETS", 2026, "power")["allocated"] == HN_1


def with_outputs_and_plan(world: World, *, power_cap: int) -> None:
    set_plan(world, sectors=[power_sector(free_cap=power_cap)])
    verify_output(world, "HN-1", 2025, "1000000.5")
    verify_output(world, "HN-2", 2025, "500000")


def test_the_plan_the_registry_and_the_targets_are_required(verified: World) -> None:
    refused(verified, AllocationReason.no_plan, ("HN-1", "HN"), year=2027)
    refused(verified, Reason.role_not_permitted, ("HN-1", "HN"), who="huaneng")
    refused(verified, Reason.malformed_instruction, ("HN-1", "HN"), ("HN-1", "HN"))
    verified.refused(Reason.malformed_instruction, "registry", "allocation_preallocate",
                     scheme="CN-ETS", year=2026, batch="FA-2026", targets="[]")
    verified.refused(Reason.issued_by_another_operation, "registry", "allocation_preallocate",
                     scheme="CN-GD", year=2026, batch="FA-2026",
                     targets=json.dumps([["HN-1", "HN"]]))
