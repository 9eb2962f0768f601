"""A year of allocation end to end, as a registry runs it: the 2026 cap, pre-allocation from
2025's verified output, two auctions (the second undersubscribed), a release from the reserve
on signed market figures, 2026's verified output, true-ups in both directions — one taking
back fewer units than it should because the emitter had sold them, which leaves a debt — and
the debt deducted from the 2027 pre-allocation. Every figure is worked by hand here
(docs/allocation.md's rule: output × benchmark × factors × share, rounded once, half up), and
at the end the units that exist equal the plan's counters, the cap holds, and replay agrees."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from allocation.reasons import AllocationReason
from ledger.replay import replay_check
from tests.allocation.helpers import power_sector, row, set_plan, steel_sector, verify_output
from tests.world import OPERATIONS, World

TARGETS_2026 = [["HN-1", "HN"], ["HN-2", "HN"], ["BW-1", "BW"]]


def at(world: World, moment: str) -> None:
    world.clock.moment = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def live_units(world: World, scheme: str, vintage: int) -> int:
    """Units of the scheme's vintage that exist (not cancelled), from the lots themselves."""
    with world.store.read() as tx:
        found = tx.one("SELECT COALESCE(SUM(l.serial_last - l.serial_first + 1), 0) "
                       "FROM lots l JOIN batches b ON b.id = l.batch "
                       "WHERE b.scheme = :s AND b.vintage = :v AND l.state <> 'cancelled'",
                       {"s": scheme, "v": vintage})
    assert found is not None
    return int(found[0])


def announce(world: World, auction: str, quantity: int, opens: str, closes: str,
             reserve_price: int = 4_000, limit_bp: int = 5_000) -> None:
    world.by("registry", "auction_announce", auction=auction, scheme="CN-ETS", year=2026,
             quantity=quantity, reservePrice=reserve_price, opens=opens, closes=closes,
             bidderLimitBp=limit_bp, batch=f"{auction}-B")


def bid(world: World, who: str, auction: str, bid_id: str, account: str, quantity: int,
        price: int) -> None:
    world.by(who, "auction_bid", auction=auction, bid=bid_id, bidder=who, account=account,
             quantity=quantity, price=price)


def test_a_year_of_allocation(market: World) -> None:
    world = market
    # 2025's output, verified in January 2026
    verify_output(world, "HN-1", 2025, "1000000")
    verify_output(world, "HN-2", 2025, "500000")
    verify_output(world, "BW-1", 2025, "200000", unit="t")

    # the 2026 plan: 1.8 Mt free for power, 0.4 Mt for steel, 0.3 Mt reserve, 0.4 Mt to auction
    set_plan(world, 2026, cap=3_000_000, reserve=300_000, auction=400_000,
             sectors=[power_sector(1_800_000, "0.8218"), steel_sector(400_000, "1.8")])

    # pre-allocation: 70% of what 2025's output earns
    world.by("registry", "allocation_preallocate", scheme="CN-ETS", year=2026, batch="PRE-26",
             targets=json.dumps(TARGETS_2026))
    assert row(world, "installation_allocations", "HN-1", 2026)["issued"] == 575_260
    assert row(world, "installation_allocations", "HN-2", 2026)["issued"] == 287_630
    assert row(world, "installation_allocations", "BW-1", 2026)["issued"] == 252_000
    assert world.holding("HN", "PRE-26")["tradable"] == 575_260 + 287_630
    assert world.holding("BW", "PRE-26")["tradable"] == 252_000
    world.refused(AllocationReason.already_preallocated, "registry", "allocation_preallocate",
                  scheme="CN-ETS", year=2026, batch="PRE-26b",
                  targets=json.dumps([["HN-1", "HN"]]))

    # the first auction: 200,000 t, at most 100,000 t a bidder; Baowu's bid is outbid
    announce(world, "AUC-1", 200_000, "2026-03-10T01:30:00Z", "2026-03-10T03:30:00Z")
    at(world, "2026-03-10T02:00:00Z")
    bid(world, "huaneng", "AUC-1", "h1", "HN-T", 100_000, 6_000)
    bid(world, "icbc", "AUC-1", "i1", "IC-T", 100_000, 5_500)
    bid(world, "baowu", "AUC-1", "b1", "BW", 80_000, 4_800)
    world.refused(AllocationReason.exceeds_bidder_limit, "huaneng", "auction_bid",
                  auction="AUC-1", bid="h2", bidder="huaneng", account="HN-T", quantity=1,
                  price=9_000)
    world.refused(AllocationReason.auction_still_open, "registry", "auction_clear",
                  auction="AUC-1")
    at(world, "2026-03-10T04:00:00Z")
    world.refused(AllocationReason.auction_not_open, "baowu", "auction_bid", auction="AUC-1",
                  bid="b2", bidder="baowu", account="BW", quantity=10, price=9_000)
    world.by("registry", "auction_clear", auction="AUC-1")
    cleared = row(world, "auctions", "AUC-1")
    assert (cleared["status"], cleared["clearing_price"], cleared["sold"]) == \
        ("cleared", 5_500, 200_000)
    assert [row(world, "auction_bids", "AUC-1", b)["filled"] for b in ("h1", "i1", "b1")] == \
        [100_000, 100_000, 0]
    assert world.holding("HN-T", "AUC-1-B")["tradable"] == 100_000
    assert world.holding("IC-T", "AUC-1-B")["tradable"] == 100_000

    # prices run high: the registry releases 100,000 t from the reserve to auction
    world.by("registry", "market_figures_publish", figures="MF-2026-04", scheme="CN-ETS",
             period="2026-04", averagePrice=11_000, surplus=900_000,
             source="Shanghai Environment and Energy Exchange")
    world.by("registry", "reserve_release", scheme="CN-ETS", year=2026, quantity=100_000,
             figures="MF-2026-04", reason="average price above 100 CNY/t in April")

    # the second auction is undersubscribed: 150,000 t offered, 50,000 t bid
    at(world, "2026-05-11T00:00:00Z")
    announce(world, "AUC-2", 150_000, "2026-05-12T01:30:00Z", "2026-05-12T03:30:00Z")
    at(world, "2026-05-12T02:00:00Z")
    bid(world, "huaneng", "AUC-2", "h1", "HN-T", 50_000, 4_500)
    at(world, "2026-05-12T04:00:00Z")
    world.by("registry", "auction_clear", auction="AUC-2")
    second = row(world, "auctions", "AUC-2")
    assert (second["clearing_price"], second["sold"]) == (4_500, 50_000)

    # Baowu sells most of its pre-allocation before its output falls
    world.by("baowu", "transfer", fromAccount="BW", toAccount="IC-T", batch="PRE-26",
             quantity=200_000, serialFirst=0, serialLast=0)

    # 2026's output, verified in 2027; the true-ups
    at(world, "2027-02-01T02:00:00Z")
    world.refused(AllocationReason.no_verified_output, "registry", "allocation_true_up",
                  scheme="CN-ETS", year=2026, batch="TU-26",
                  targets=json.dumps([["HN-1", "HN"]]))
    verify_output(world, "HN-1", 2026, "1100000")  # up: 903,980 t earned
    verify_output(world, "HN-2", 2026, "200000")  # down: 164,360 t earned
    verify_output(world, "BW-1", 2026, "50000", unit="t")  # down: 90,000 t earned
    world.by("registry", "allocation_true_up", scheme="CN-ETS", year=2026, batch="TU-26",
             targets=json.dumps(TARGETS_2026))
    hn1 = row(world, "installation_allocations", "HN-1", 2026)
    hn2 = row(world, "installation_allocations", "HN-2", 2026)
    bw1 = row(world, "installation_allocations", "BW-1", 2026)
    assert (hn1["final"], hn1["issued"], hn1["taken_back"]) == (903_980, 903_980, 0)
    assert (hn2["final"], hn2["issued"] - hn2["taken_back"]) == (164_360, 164_360)
    # Baowu kept 52,000 t: those are taken back, the other 110,000 t owed become a debt
    assert (bw1["final"], bw1["taken_back"], bw1["debt_created"]) == (90_000, 52_000, 110_000)
    assert row(world, "allocation_debts", "BW-1")["debt"] == 110_000
    assert world.holding("BW", "PRE-26")["tradable"] == 0
    assert world.holding("HN", "TU-26")["tradable"] == 903_980 - 575_260

    # the plan's counters are the units that exist, and the cap holds
    plan = row(world, "allocation_plans", "CN-ETS", 2026)
    issued = 575_260 + 287_630 + 252_000 + 200_000 + 50_000 + (903_980 - 575_260)
    taken_back = (287_630 - 164_360) + 52_000
    assert (plan["issued"], plan["taken_back"]) == (issued, taken_back)
    assert (plan["reserve"], plan["to_auction"], plan["on_offer"]) == (200_000, 150_000, 0)
    assert live_units(world, "CN-ETS", 2026) == issued - taken_back
    assert issued - taken_back + plan["reserve"] + plan["to_auction"] <= plan["cap"]

    # 2027: the debt comes off Baowu's pre-allocation first (63,000 t earned, all of it owed)
    set_plan(world, 2027, cap=3_000_000, reserve=300_000, auction=400_000,
             sectors=[power_sector(1_800_000, "0.8218"), steel_sector(400_000, "1.8")])
    world.by("registry", "allocation_preallocate", scheme="CN-ETS", year=2027, batch="PRE-27",
             targets=json.dumps([["BW-1", "BW"]]))
    bw1_2027 = row(world, "installation_allocations", "BW-1", 2027)
    assert (bw1_2027["preallocated"], bw1_2027["issued"], bw1_2027["debt_applied"]) == \
        (63_000, 0, 63_000)
    assert row(world, "allocation_debts", "BW-1")["debt"] == 110_000 - 63_000

    assert replay_check(world.store, OPERATIONS).ok
