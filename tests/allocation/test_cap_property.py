"""For random sequences of what a registry and its market do in a year — pre-allocations,
amendments of the cap, releases and absorptions on market figures, a new entrant from the
reserve, auctions announced, bid in and cleared, units sold on, true-ups and a closure — no
sequence takes the year's units past the cap: after every step, accepted or refused, the
units that exist (counted from the lots themselves) plus the reserve and the volume still to
auction stay within the cap, and equal the plan's counters. Every clearing equals a reference
auction computed here from the accepted bids alone (the test's own code, not the module's).

The market, its verified outputs and its plan are built once and copied for each example.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.clock import FixedClock
from ledger.errors import Rejected
from ledger.store.database import Store, sqlite_url
from tests.allocation.helpers import (
    START,
    allocation_world,
    power_sector,
    row,
    set_plan,
    steel_sector,
    verify_output,
)
from tests.compliance.helpers import register_installation
from tests.world import World, WorldTemplate

YEAR = 2026
CAP = 20_000
TARGETS = {"HN-1": "HN", "HN-2": "HN", "BW-1": "BW"}
BIDDERS = {"huaneng": "HN-T", "baowu": "BW", "icbc": "IC-T"}


@pytest.fixture(scope="module")
def template(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> WorldTemplate:
    """Outputs for 2025 and 2026 verified; the 2026 plan (cap 20,000 t: free allocation,
    2,000 t in the reserve, 4,000 t to auction); market figures that justify a release
    (MF-HIGH) and an absorption (MF-LOW); a new installation, NE-1, without output."""
    path = tmp_path_factory.mktemp("allocation-cap") / "template.db"
    shutil.copy(migrated_template, path)
    store = Store(sqlite_url(path))
    world = allocation_world(store, FixedClock(START))
    for installation, output in (("HN-1", "6000"), ("HN-2", "3000")):
        verify_output(world, installation, YEAR - 1, output)
        verify_output(world, installation, YEAR, str(int(output) * 3 // 4))
    verify_output(world, "BW-1", YEAR - 1, "2000", unit="t")
    verify_output(world, "BW-1", YEAR, "2600", unit="t")
    register_installation(world, "NE-1", "baowu", sector="steel", name="A new works")
    set_plan(world, YEAR, cap=CAP, reserve=2_000, auction=4_000,
             sectors=[power_sector(9_000, "0.8", {"load": "1.05"}), steel_sector(4_000, "1.5")])
    for figures, price in (("MF-HIGH", 12_000), ("MF-LOW", 2_000)):
        world.by("registry", "market_figures_publish", figures=figures, scheme="CN-ETS",
                 period="2026-02", averagePrice=price, surplus=100_000, source="exchange")
    store.dispose()
    return WorldTemplate.of(world, path)


quantities = st.integers(1, 3_000)
steps = st.lists(st.one_of(
    st.tuples(st.just("preallocate"), st.sampled_from(sorted(TARGETS))),
    st.tuples(st.just("true_up"), st.sampled_from(sorted(TARGETS))),
    st.tuples(st.just("sell"), st.sampled_from(["HN", "BW"]), quantities),
    st.tuples(st.just("amend"), st.integers(10_000, 25_000)),
    st.tuples(st.just("release"), quantities),
    st.tuples(st.just("absorb"), quantities),
    st.tuples(st.just("entrant"), quantities),
    # an auction: announced, bid in (ties and bids below the reserve price among them), cleared
    st.tuples(st.just("auction"), quantities, st.sampled_from([1_000, 3_000, 4_000]),
              st.lists(st.tuples(st.sampled_from(sorted(BIDDERS)), st.integers(1, 1_200),
                                 st.sampled_from([800, 3_000, 4_000, 4_000, 5_500, 7_000])),
                       max_size=6)),
    st.tuples(st.just("close"), st.sampled_from(sorted(TARGETS))),
), min_size=1, max_size=16)


@dataclass
class OpenAuction:
    id: str
    quantity: int
    reserve_price: int
    bids: list[tuple[str, int, int]] = field(default_factory=list)  # (bid, quantity, price)


def reference_clearing(offer: int, bids: list[tuple[str, int, int]]) -> tuple[int, int,
                                                                                 dict[str, int]]:
    """(clearing price, sold, fill by bid) of a uniform-price auction: highest price first,
    the earlier bid first at one price; the last accepted bid perhaps in part."""
    ranked = sorted(enumerate(bids), key=lambda item: (-item[1][2], item[0]))
    fills = {bid: 0 for bid, _, _ in bids}
    left, price = offer, 0
    for _, (bid, quantity, bid_price) in ranked:
        if left == 0:
            break
        fills[bid] = min(quantity, left)
        left -= fills[bid]
        price = bid_price
    return price, offer - left, fills


def live_units(world: World) -> int:
    with world.store.read() as tx:
        found = tx.one("SELECT COALESCE(SUM(l.serial_last - l.serial_first + 1), 0) "
                       "FROM lots l JOIN batches b ON b.id = l.batch "
                       "WHERE b.scheme = 'CN-ETS' AND b.vintage = :v "
                       "AND l.state <> 'cancelled'", {"v": YEAR})
    assert found is not None
    return int(found[0])


def tradable(world: World, account: str) -> list[tuple[str, int]]:
    """(batch, tradable units) of the account's 2026 allowances."""
    with world.store.read() as tx:
        return [(str(b), int(q)) for b, q in tx.all(
            "SELECT h.batch, h.tradable FROM holdings h JOIN batches b ON b.id = h.batch "
            "WHERE h.account = :a AND b.vintage = :v AND h.tradable > 0 ORDER BY h.batch",
            {"a": account, "v": YEAR})]


class Run:
    def __init__(self, world: World) -> None:
        self.world = world
        self.numbers = iter(range(1, 1_000))
        self.allocated: set[str] = set()  # installations pre-allocated and not yet trued up

    def attempt(self, who: str, op: str, **fields: Any) -> bool:
        try:
            self.world.by(who, op, **fields)
        except Rejected as refusal:
            event(f"{op}: {refusal.reason.name}")
            return False
        event(f"{op}: accepted")
        return True

    def step(self, action: tuple[Any, ...]) -> None:
        kind, *args = action
        number = next(self.numbers)
        common = {"scheme": "CN-ETS", "year": YEAR}
        if kind == "preallocate":
            if self.attempt("registry", "allocation_preallocate", **common, batch=f"B{number}",
                            targets=json.dumps([[args[0], TARGETS[args[0]]]])):
                self.allocated.add(args[0])
        elif kind == "true_up":
            # mostly an installation that has something to true up; else the one drawn
            installation = min(self.allocated) if self.allocated else args[0]
            if self.attempt("registry", "allocation_true_up", **common, batch=f"B{number}",
                            targets=json.dumps([[installation, TARGETS[installation]]])):
                self.allocated.discard(installation)
        elif kind == "sell":
            account, quantity = args
            held = tradable(self.world, account)
            if held:
                batch, units = held[0]
                owner = "huaneng" if account == "HN" else "baowu"
                self.attempt(owner, "transfer", fromAccount=account, toAccount="IC-T",
                             batch=batch, quantity=min(units, quantity), serialFirst=0,
                             serialLast=0)
        elif kind == "amend":
            plan = row(self.world, "allocation_plans", "CN-ETS", YEAR)
            self.attempt("registry", "allocation_plan_amend", **common, cap=args[0],
                         sectors=_sectors_of(plan), reason="a revised cap")
        elif kind in ("release", "absorb"):
            self.attempt("registry", f"reserve_{kind}", **common, quantity=args[0],
                         figures="MF-HIGH" if kind == "release" else "MF-LOW",
                         reason="the figures say so")
        elif kind == "entrant":
            self.attempt("registry", "new_entrant_allocate", **common, installation="NE-1",
                         account="BW", batch=f"B{number}", quantity=args[0],
                         reason="a new works")
        elif kind == "auction":
            quantity, reserve_price, bids = args
            self.auction_round(f"AU{number}", quantity, reserve_price, bids)
        elif kind == "close":
            self.attempt("registry", "installation_close", installation=args[0],
                         lastYear=YEAR - 1, reason="the works closed")
        self.world.clock.moment += timedelta(minutes=1)

    def auction_round(self, auction_id: str, quantity: int, reserve_price: int,
                      bids: list[tuple[str, int, int]]) -> None:
        now = self.world.clock.moment
        if not self.attempt("registry", "auction_announce", scheme="CN-ETS", year=YEAR,
                            auction=auction_id, quantity=quantity, reservePrice=reserve_price,
                            opens=_instant(now), closes=_instant(now + timedelta(hours=2)),
                            bidderLimitBp=6_000, batch=f"{auction_id}-B"):
            return
        auction = OpenAuction(auction_id, quantity, reserve_price)
        for number, (bidder, bid_quantity, price) in enumerate(bids):
            if self.attempt(bidder, "auction_bid", auction=auction_id, bid=f"b{number}",
                            bidder=bidder, account=BIDDERS[bidder], quantity=bid_quantity,
                            price=price):
                auction.bids.append((f"b{number}", bid_quantity, price))
            self.world.clock.moment += timedelta(minutes=1)
            self.check_cap()
        self.world.clock.moment += timedelta(hours=3)
        assert self.attempt("registry", "auction_clear", auction=auction_id)
        self.check_clearing(auction)

    def check_clearing(self, auction: OpenAuction) -> None:
        price, sold, fills = reference_clearing(auction.quantity, auction.bids)
        result = row(self.world, "auctions", auction.id)
        assert (result["clearing_price"], result["sold"]) == (price, sold)
        for bid, filled in fills.items():
            assert row(self.world, "auction_bids", auction.id, bid)["filled"] == filled

    def check_cap(self) -> None:
        plan = row(self.world, "allocation_plans", "CN-ETS", YEAR)
        live = live_units(self.world)
        assert live == plan["issued"] - plan["taken_back"]
        assert live + plan["reserve"] + plan["to_auction"] <= plan["cap"]
        assert 0 <= plan["on_offer"] <= plan["to_auction"]


def _sectors_of(plan: dict[str, Any]) -> str:
    return str(plan["sectors"]) if isinstance(plan["sectors"], str) else json.dumps(
        plan["sectors"])


def _instant(moment: Any) -> str:
    return str(moment.strftime("%Y-%m-%dT%H:%M:%SZ"))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                  HealthCheck.too_slow])
@given(steps=steps)
def test_no_sequence_takes_the_year_past_its_cap(template: WorldTemplate, tmp_path: Path,
                                                  steps: list[tuple[Any, ...]]) -> None:
    world = template.copy_into(tmp_path)
    try:
        run = Run(world)
        for action in steps:
            run.step(action)
            run.check_cap()
        world.assert_invariants()
    finally:
        world.store.dispose()
