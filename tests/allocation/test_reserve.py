"""The market-stability reserve: market figures, releases to the auction volume and
absorptions from it (docs/allocation.md, "The market-stability reserve"). The shipped CN-ETS
rules release at an average price of 10000 fen/t or more and absorb at 3000 fen/t or less."""

from __future__ import annotations

import json
from typing import Any

import pytest

from allocation import queries
from allocation.reasons import AllocationReason
from ledger.errors import Reason, Rejected
from ledger.schemes import load_rules_dir
from tests.allocation.helpers import row, rows, set_plan
from tests.world import World


def publish(world: World, figures: str, *, price: int, surplus: int = 80_000_000,
            period: str = "2026-03", scheme: str = "CN-ETS") -> None:
    world.by("registry", "market_figures_publish", figures=figures, scheme=scheme,
             period=period, averagePrice=price, surplus=surplus,
             source="Shanghai Environment and Energy Exchange monthly report")


def move(world: World, op: str, quantity: int, figures: str, *,
         reason: str = "price outside the corridor") -> Any:
    return world.by("registry", op, scheme="CN-ETS", year=2026, quantity=quantity,
                    figures=figures, reason=reason)


def refused(world: World, expected: Any, op: str, quantity: int, figures: str, *,
            reason: str = "price outside the corridor", year: int = 2026) -> None:
    world.refused(expected, "registry", op, scheme="CN-ETS", year=year, quantity=quantity,
                  figures=figures, reason=reason)


def set_triggers(world: World, **triggers: int) -> None:
    """The registry changes CN-ETS's [allocation.reserve] triggers (under allocation)."""
    document = load_rules_dir()["CN-ETS"].as_json()
    document["issue_operation"] = "allocation"
    document["allocation"] = {**document["allocation"], "reserve": triggers}
    world.by("registry", "set_scheme_rules", scheme="CN-ETS", rules=json.dumps(document))


def plan_counters(world: World) -> tuple[int, int, int]:
    plan = row(world, "allocation_plans", "CN-ETS", 2026)
    return plan["reserve"], plan["to_auction"], plan["issued"]


# --- market figures ----------------------------------------------------------------------

def test_market_figures_are_recorded_and_read_back(any_market: World) -> None:
    publish(any_market, "MF-2026-03", price=10_500, surplus=75_000_000)
    found = queries.market_figures(any_market.store, "MF-2026-03")
    assert found is not None
    assert (found.scheme, found.period, found.average_price, found.surplus) == \
        ("CN-ETS", "2026-03", 10_500, 75_000_000)
    assert [f.id for f in queries.market_figures_of(any_market.store, "CN-ETS")] == \
        ["MF-2026-03"]
    assert queries.market_figures(any_market.store, "MF-2026-04") is None


def test_market_figures_ids_are_unique(market: World) -> None:
    publish(market, "MF-1", price=10_500)
    market.refused(AllocationReason.figures_exist, "registry", "market_figures_publish",
                   figures="MF-1", scheme="CN-ETS", period="2026-04", averagePrice=9_000,
                   surplus=1, source="SEEE")


def test_market_figures_are_of_a_scheme_under_allocation_control(market: World) -> None:
    fields = {"figures": "MF-1", "period": "2026-03", "averagePrice": 1, "surplus": 1,
              "source": "SEEE"}
    market.refused(Reason.unknown_scheme, "registry", "market_figures_publish",
                   scheme="EU-ETS", **fields)
    market.refused(Reason.issued_by_another_operation, "registry", "market_figures_publish",
                   scheme="CCER", **fields)
    market.refused(Reason.role_not_permitted, "huaneng", "market_figures_publish",
                   scheme="CN-ETS", **fields)


# --- releases and absorptions ------------------------------------------------------------

def test_a_high_price_releases_reserve_units_to_auction(any_market: World) -> None:
    set_plan(any_market, reserve=500_000, auction=1_000_000)
    publish(any_market, "MF-HIGH", price=10_000)  # exactly at the trigger
    receipt = move(any_market, "reserve_release", 200_000, "MF-HIGH")
    assert plan_counters(any_market) == (300_000, 1_200_000, 0)
    assert rows(any_market, "reserve_movements") == [{
        "scheme": "CN-ETS", "year": 2026, "seq": receipt.seq, "kind": "release",
        "quantity": 200_000, "figures": "MF-HIGH", "installation": "",
        "reason": "price outside the corridor"}]
    assert [(m.kind, m.quantity) for m in queries.reserve_movements(
        any_market.store, "CN-ETS", 2026)] == [("release", 200_000)]


def test_a_low_price_absorbs_auction_volume_into_the_reserve(any_market: World) -> None:
    set_plan(any_market, reserve=500_000, auction=1_000_000)
    publish(any_market, "MF-LOW", price=3_000)
    move(any_market, "reserve_absorb", 400_000, "MF-LOW", reason="prices collapsed")
    assert plan_counters(any_market) == (900_000, 600_000, 0)
    assert [(m.kind, m.quantity, m.figures, m.reason) for m in queries.reserve_movements(
        any_market.store, "CN-ETS", 2026)] == [("absorb", 400_000, "MF-LOW", "prices collapsed")]


def test_figures_that_meet_no_trigger_move_nothing(market: World) -> None:
    set_plan(market)
    publish(market, "MF-MID", price=5_000)
    publish(market, "MF-HIGH", price=12_000)
    publish(market, "MF-LOW", price=2_000)
    refused(market, AllocationReason.trigger_not_met, "reserve_release", 1, "MF-MID")
    refused(market, AllocationReason.trigger_not_met, "reserve_absorb", 1, "MF-MID")
    # each trigger justifies its own direction only
    refused(market, AllocationReason.trigger_not_met, "reserve_release", 1, "MF-LOW")
    refused(market, AllocationReason.trigger_not_met, "reserve_absorb", 1, "MF-HIGH")


def test_the_refusal_names_the_figures_and_the_thresholds(market: World) -> None:
    set_plan(market)
    publish(market, "MF-MID", price=5_000, surplus=70_000_000)
    with pytest.raises(Rejected) as raised:
        move(market, "reserve_release", 1, "MF-MID")
    assert raised.value.reason == AllocationReason.trigger_not_met
    message = str(raised.value)
    assert "MF-MID" in message and "5000" in message and "10000" in message


def test_surplus_triggers(market: World) -> None:
    set_triggers(market, release_surplus_below=50_000_000, absorb_surplus_above=90_000_000)
    set_plan(market, reserve=500_000, auction=1_000_000)
    publish(market, "MF-TIGHT", price=5_000, surplus=50_000_000)
    publish(market, "MF-LOOSE", price=5_000, surplus=90_000_000)
    publish(market, "MF-NORMAL", price=5_000, surplus=70_000_000)
    move(market, "reserve_release", 100_000, "MF-TIGHT")
    move(market, "reserve_absorb", 300_000, "MF-LOOSE")
    refused(market, AllocationReason.trigger_not_met, "reserve_release", 1, "MF-NORMAL")
    refused(market, AllocationReason.trigger_not_met, "reserve_absorb", 1, "MF-NORMAL")
    assert plan_counters(market) == (700_000, 800_000, 0)


def test_a_release_is_limited_by_the_reserve(market: World) -> None:
    set_plan(market, reserve=500_000)
    publish(market, "MF-HIGH", price=12_000)
    refused(market, AllocationReason.reserve_insufficient, "reserve_release", 500_001,
            "MF-HIGH")
    move(market, "reserve_release", 500_000, "MF-HIGH")
    assert plan_counters(market)[0] == 0


def test_an_absorption_is_limited_by_the_volume_to_auction_not_on_offer(market: World) -> None:
    set_plan(market, auction=1_000_000)
    publish(market, "MF-LOW", price=2_000)
    market.by("registry", "auction_announce", auction="A-1", scheme="CN-ETS", year=2026,
              quantity=600_000, reservePrice=4_000, opens="2026-02-01T02:00:00Z",
              closes="2026-02-01T06:00:00Z", bidderLimitBp=3_000, batch="AU-1")
    refused(market, AllocationReason.exceeds_auction_volume, "reserve_absorb", 400_001,
            "MF-LOW")
    move(market, "reserve_absorb", 400_000, "MF-LOW")
    assert plan_counters(market)[:2] == (900_000, 600_000)


def test_a_movement_cites_known_figures_of_its_scheme(market: World) -> None:
    set_plan(market)
    refused(market, AllocationReason.unknown_figures, "reserve_release", 1, "MF-NONE")
    # a second scheme under allocation: CN-GD, with figures of its own
    document = load_rules_dir()["CN-ETS"].as_json()
    market.by("registry", "set_scheme_rules", scheme="CN-GD", rules=json.dumps(
        {**document, "scheme": "CN-GD", "title": "Guangdong pilot",
         "issue_operation": "allocation"}))
    publish(market, "MF-GD", price=12_000, scheme="CN-GD")
    refused(market, AllocationReason.figures_of_another_scheme, "reserve_release", 1, "MF-GD")


def test_a_movement_states_its_reason(market: World) -> None:
    set_plan(market)
    publish(market, "MF-HIGH", price=12_000)
    refused(market, AllocationReason.reason_required, "reserve_release", 1, "MF-HIGH",
            reason="")
    refused(market, AllocationReason.reason_required, "reserve_absorb", 1, "MF-HIGH",
            reason=" ")


def test_a_movement_needs_the_plan(market: World) -> None:
    publish(market, "MF-HIGH", price=12_000)
    refused(market, AllocationReason.no_plan, "reserve_release", 1, "MF-HIGH")
    refused(market, AllocationReason.no_plan, "reserve_absorb", 1, "MF-HIGH", year=2027)


def test_only_the_registry_moves_the_reserve(market: World) -> None:
    set_plan(market)
    publish(market, "MF-HIGH", price=12_000)
    market.refused(Reason.role_not_permitted, "huaneng", "reserve_release", scheme="CN-ETS",
                   year=2026, quantity=1, figures="MF-HIGH", reason="because")
