"""Auctions (docs/allocation.md, "Auctions"): the registry announces part of the plan's volume,
eligible participants bid within the window, and the registry clears it at a uniform price
into one batch. Every refusal is named and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from allocation.auction_invariants import auction_problems
from allocation.auction_queries import (
    AuctionPhase,
    BookSealed,
    auction_book,
    auction_list,
    auction_status,
    bids_of_bidder,
)
from allocation.clearing import Bid, bids_digest, clear, hex_digest, results_digest
from allocation.reasons import AllocationReason
from ledger.errors import Reason
from ledger.journal import Receipt
from tests.allocation.helpers import row, rows, set_plan
from tests.world import World

OPENS = datetime(2026, 1, 6, 1, 0, tzinfo=UTC)
CLOSES = datetime(2026, 1, 6, 7, 0, tzinfo=UTC)


def instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def announce(world: World, auction: str = "AU-1", *, quantity: int = 1_000,
             reserve_price: int = 5_000, opens: datetime = OPENS, closes: datetime = CLOSES,
             limit_bp: int = 5_000, batch: str = "AU-1-2026", year: int = 2026,
             who: str = "registry") -> Receipt:
    return world.by(who, "auction_announce", **announcement(
        auction, quantity=quantity, reserve_price=reserve_price, opens=opens, closes=closes,
        limit_bp=limit_bp, batch=batch, year=year))


def announcement(auction: str = "AU-1", *, quantity: int = 1_000, reserve_price: int = 5_000,
                 opens: datetime = OPENS, closes: datetime = CLOSES, limit_bp: int = 5_000,
                 batch: str = "AU-1-2026", year: int = 2026) -> dict[str, Any]:
    return {"auction": auction, "scheme": "CN-ETS", "year": year, "quantity": quantity,
            "reservePrice": reserve_price, "opens": instant(opens), "closes": instant(closes),
            "bidderLimitBp": limit_bp, "batch": batch}


def bid_fields(bid: str, bidder: str, account: str, quantity: int, price: int,
               auction: str = "AU-1") -> dict[str, Any]:
    return {"auction": auction, "bid": bid, "bidder": bidder, "account": account,
            "quantity": quantity, "price": price}


def place(world: World, bid: str, bidder: str, account: str, quantity: int, price: int,
          auction: str = "AU-1") -> Receipt:
    return world.by(bidder, "auction_bid", **bid_fields(bid, bidder, account, quantity, price,
                                                         auction))


def at(world: World, moment: datetime) -> None:
    world.clock.moment = moment


@pytest.fixture
def auction(market: World) -> World:
    """The 2026 plan (1,000,000 t to auction) and auction AU-1 of 1,000 t, reserve 5,000 fen,
    50% per bidder, open from 01:00 to 07:00 UTC on 6 January 2026; the clock at 02:00."""
    set_plan(market)
    announce(market)
    at(market, OPENS + timedelta(hours=1))
    return market


# --- announce ---------------------------------------------------------------------------

def test_announcing_puts_the_quantity_on_offer(market: World) -> None:
    set_plan(market)
    receipt = announce(market)
    plan = row(market, "allocation_plans", "CN-ETS", 2026)
    assert (plan["to_auction"], plan["on_offer"]) == (1_000_000, 1_000)
    auction = row(market, "auctions", "AU-1")
    assert auction["status"] == "announced"
    assert auction["bid_count"] == 0
    assert auction["bids_digest"] == "0x" + "00" * 32
    assert auction["announced_seq"] == receipt.seq


def test_announce_refusals(market: World) -> None:
    market.refused(AllocationReason.no_plan, "registry", "auction_announce", **announcement())
    set_plan(market)
    market.refused(Reason.role_not_permitted, "huaneng", "auction_announce", **announcement())
    market.refused(AllocationReason.exceeds_auction_volume, "registry", "auction_announce",
                   **announcement(quantity=1_000_001))
    market.refused(AllocationReason.invalid_window, "registry", "auction_announce",
                   **announcement(opens=CLOSES, closes=OPENS))
    market.refused(AllocationReason.invalid_window, "registry", "auction_announce",
                   **announcement(opens=CLOSES, closes=CLOSES))
    past = market.clock() - timedelta(hours=1)
    market.refused(AllocationReason.invalid_window, "registry", "auction_announce",
                   **announcement(opens=past - timedelta(hours=1), closes=past))
    market.refused(AllocationReason.invalid_bidder_limit, "registry", "auction_announce",
                   **announcement(limit_bp=0))
    market.refused(Reason.malformed_instruction, "registry", "auction_announce",
                   **announcement(limit_bp=10_001))
    announce(market, "AU-1", quantity=999_000)
    market.refused(AllocationReason.auction_exists, "registry", "auction_announce",
                   **announcement("AU-1", batch="AU-X"))
    market.refused(AllocationReason.exceeds_auction_volume, "registry", "auction_announce",
                   **announcement("AU-2", quantity=1_001, batch="AU-2-2026"))
    market.by("registry", "issue_batch", batch="TAKEN", scheme="CCER", kind="credit",
              vintage=2024, project="Wind farm", monitoringStart="2024-01-01",
              monitoringEnd="2024-12-31", issuance="credit_issuance", quantity=1,
              account="IC-T")
    market.refused(Reason.batch_exists, "registry", "auction_announce",
                   **announcement("AU-2", quantity=1_000, batch="TAKEN"))


# --- bid --------------------------------------------------------------------------------

def test_a_bid_is_committed_to_by_the_running_digest(auction: World) -> None:
    first = place(auction, "b1", "huaneng", "HN-T", 300, 6_000)
    second = place(auction, "b2", "baowu", "BW", 200, 5_500)
    found = row(auction, "auctions", "AU-1")
    assert found["bid_count"] == 2
    expected = bids_digest([Bid("b1", "huaneng", "HN-T", 300, 6_000, first.seq),
                            Bid("b2", "baowu", "BW", 200, 5_500, second.seq)])
    assert found["bids_digest"] == hex_digest(expected)
    assert row(auction, "auction_bids", "AU-1", "b1")["filled"] is None
    assert row(auction, "auction_bidders", "AU-1", "huaneng") == {
        "auction": "AU-1", "bidder": "huaneng", "quantity": 300, "bids": 1}


def test_bid_refusals(auction: World) -> None:
    def refused(reason: Any, who: str, **fields: Any) -> None:
        auction.refused(reason, who, "auction_bid", **fields)

    refused(AllocationReason.unknown_auction, "huaneng",
            **bid_fields("b1", "huaneng", "HN-T", 100, 6_000, auction="AU-9"))
    # the scheme's bidder_roles are emitters and banks: not verifiers
    refused(AllocationReason.bidder_not_eligible, "cec",
            **bid_fields("b1", "cec", "IC-T", 100, 6_000))
    refused(Reason.missing_signature, "baowu", **bid_fields("b1", "huaneng", "HN-T", 100, 6_000))
    refused(AllocationReason.account_not_bidders, "huaneng",
            **bid_fields("b1", "huaneng", "BW", 100, 6_000))
    refused(Reason.unknown_account, "huaneng", **bid_fields("b1", "huaneng", "NO", 100, 6_000))
    refused(AllocationReason.below_reserve_price, "huaneng",
            **bid_fields("b1", "huaneng", "HN-T", 100, 4_999))
    refused(AllocationReason.exceeds_bidder_limit, "huaneng",
            **bid_fields("b1", "huaneng", "HN-T", 501, 6_000))
    place(auction, "b1", "huaneng", "HN-T", 400, 6_000)
    # the limit counts every bid of the bidder in the auction
    refused(AllocationReason.exceeds_bidder_limit, "huaneng",
            **bid_fields("b2", "huaneng", "HN", 101, 5_000))
    place(auction, "b2", "huaneng", "HN", 100, 5_000)
    refused(AllocationReason.bid_exists, "baowu", **bid_fields("b1", "baowu", "BW", 10, 6_000))
    announce(auction, "AU-2", opens=CLOSES, closes=CLOSES + timedelta(hours=1),
             batch="AU-2-2026")
    at(auction, CLOSES - timedelta(seconds=1))  # AU-2 opens in a second
    refused(AllocationReason.auction_not_open, "baowu",
            **bid_fields("b3", "baowu", "BW", 10, 6_000, auction="AU-2"))
    at(auction, CLOSES)
    refused(AllocationReason.auction_not_open, "baowu",
            **bid_fields("b3", "baowu", "BW", 10, 6_000))
    assert row(auction, "auctions", "AU-1")["bid_count"] == 2


# --- clear ------------------------------------------------------------------------------

def test_clearing_issues_one_batch_in_acceptance_order(any_market: World) -> None:
    world = any_market
    set_plan(world)
    announce(world)
    at(world, OPENS)
    placed = [place(world, "b1", "huaneng", "HN-T", 400, 6_000),
              place(world, "b2", "baowu", "BW", 500, 7_000),
              place(world, "b3", "huaneng", "HN", 100, 6_000),  # ties b1: b1 came first
              place(world, "b4", "icbc", "IC-T", 5, 5_000)]
    world.refused(AllocationReason.auction_still_open, "registry", "auction_clear",
                  auction="AU-1")
    at(world, CLOSES)
    world.refused(Reason.role_not_permitted, "huaneng", "auction_clear", auction="AU-1")
    receipt = world.by("registry", "auction_clear", auction="AU-1")
    # b2 500 @7000, b1 400 @6000, b3 100 @6000 (of which all 100 fit), b4 none
    assert world.lots("AU-1-2026") == [(1, 500, "BW", "tradable"), (501, 900, "HN-T", "tradable"),
                                       (901, 1_000, "HN", "tradable")]
    assert world.holding("HN-T", "AU-1-2026")["tradable"] == 400
    found = row(world, "auctions", "AU-1")
    assert (found["status"], found["clearing_price"], found["sold"], found["cleared_seq"]) == \
        ("cleared", 6_000, 1_000, receipt.seq)
    fills = {r["bid"]: r["filled"] for r in rows(world, "auction_bids")}
    assert fills == {"b1": 400, "b2": 500, "b3": 100, "b4": 0}
    bids = [Bid(b, p, a, q, pr, r.seq) for (b, p, a, q, pr), r in zip(
        [("b1", "huaneng", "HN-T", 400, 6_000), ("b2", "baowu", "BW", 500, 7_000),
         ("b3", "huaneng", "HN", 100, 6_000), ("b4", "icbc", "IC-T", 5, 5_000)], placed,
        strict=True)]
    assert found["results_digest"] == hex_digest(results_digest(clear(1_000, 5_000, bids)))
    plan = row(world, "allocation_plans", "CN-ETS", 2026)
    assert (plan["to_auction"], plan["on_offer"], plan["issued"]) == (999_000, 0, 1_000)
    with world.store.read() as tx:
        batch = tx.batches(["AU-1-2026"])["AU-1-2026"]
    assert (batch.issuance.value, batch.vintage, batch.quantity) == ("auction", 2026, 1_000)
    world.refused(AllocationReason.auction_cleared, "registry", "auction_clear",
                  auction="AU-1")
    world.refused(AllocationReason.auction_not_open, "baowu", "auction_bid",
                  **bid_fields("b9", "baowu", "BW", 10, 6_000))


def test_ties_at_the_margin_go_to_the_earlier_bid(auction: World) -> None:
    place(auction, "late", "huaneng", "HN-T", 500, 6_000)
    place(auction, "later", "icbc", "IC-T", 500, 6_000)
    place(auction, "top", "baowu", "BW", 300, 9_000)
    at(auction, CLOSES)
    auction.by("registry", "auction_clear", auction="AU-1")
    assert auction.lots("AU-1-2026") == [(1, 300, "BW", "tradable"),
                                         (301, 800, "HN-T", "tradable"),
                                         (801, 1_000, "IC-T", "tradable")]
    fills = {r["bid"]: r["filled"] for r in rows(auction, "auction_bids")}
    assert fills == {"late": 500, "later": 200, "top": 300}


def test_an_undersubscribed_auction_returns_the_rest_to_the_cap(auction: World) -> None:
    place(auction, "b1", "huaneng", "HN-T", 300, 5_200)
    at(auction, CLOSES + timedelta(days=1))
    auction.by("registry", "auction_clear", auction="AU-1")
    found = row(auction, "auctions", "AU-1")
    assert (found["clearing_price"], found["sold"]) == (5_200, 300)
    assert auction.lots("AU-1-2026") == [(1, 300, "HN-T", "tradable")]
    plan = row(auction, "allocation_plans", "CN-ETS", 2026)
    assert (plan["to_auction"], plan["on_offer"], plan["issued"]) == (999_000, 0, 300)


def test_an_auction_without_bids_issues_nothing(auction: World) -> None:
    at(auction, CLOSES)
    auction.by("registry", "auction_clear", auction="AU-1")
    found = row(auction, "auctions", "AU-1")
    assert (found["status"], found["clearing_price"], found["sold"]) == ("cleared", 0, 0)
    assert auction.lots("AU-1-2026") == []
    with auction.store.read() as tx:
        assert tx.batches(["AU-1-2026"]) == {}


def test_clearing_refuses_a_results_batch_taken_since(auction: World) -> None:
    place(auction, "b1", "huaneng", "HN-T", 300, 5_200)
    auction.by("registry", "issue_batch", batch="AU-1-2026", scheme="CCER", kind="credit",
               vintage=2024, project="Wind farm", monitoringStart="2024-01-01",
               monitoringEnd="2024-12-31", issuance="credit_issuance", quantity=1,
               account="IC-T")
    at(auction, CLOSES)
    auction.refused(Reason.batch_exists, "registry", "auction_clear", auction="AU-1")
    auction.refused(AllocationReason.unknown_auction, "registry", "auction_clear",
                    auction="AU-9")


def test_the_invariants_catch_a_book_or_result_edited_behind_the_ledger(auction: World) -> None:
    place(auction, "b1", "huaneng", "HN-T", 300, 5_200)
    place(auction, "b2", "baowu", "BW", 400, 6_000)
    at(auction, CLOSES)
    auction.by("registry", "auction_clear", auction="AU-1")
    assert auction_problems_now(auction) == []
    with auction.store.write() as tx:
        tx.execute("UPDATE auction_bids SET price = 9000, filled = 0 WHERE bid = 'b1'")
        tx.commit()
    problems = auction_problems_now(auction)
    assert any("bids_digest is not the digest" in p for p in problems), problems
    assert any("fills other than the clearing's" in p for p in problems), problems
    with auction.store.write() as tx:  # put it back: the fixture checks every invariant
        tx.execute("UPDATE auction_bids SET price = 5200, filled = 300 WHERE bid = 'b1'")
        tx.commit()


def auction_problems_now(world: World) -> list[str]:
    with world.store.read() as tx:
        return auction_problems(tx)


# --- queries ----------------------------------------------------------------------------

def phase(world: World, now: datetime) -> AuctionPhase:
    found = auction_status(world.store, "AU-1", now)
    assert found is not None
    return found.phase


def test_the_queries_keep_bids_sealed_until_clearing(market: World) -> None:
    set_plan(market)
    announce(market)
    now = market.clock()
    assert phase(market, now) == AuctionPhase.upcoming
    assert auction_status(market.store, "AU-9", now) is None
    at(market, OPENS)
    place(market, "b1", "huaneng", "HN-T", 300, 5_200)
    place(market, "b2", "baowu", "BW", 400, 6_000)
    place(market, "b3", "huaneng", "HN", 100, 5_100)
    assert phase(market, OPENS) == AuctionPhase.open
    with pytest.raises(BookSealed):
        auction_book(market.store, "AU-1")
    assert [b.bid for b in bids_of_bidder(market.store, "AU-1", "huaneng")] == ["b1", "b3"]
    assert [a.terms.id for a in auction_list(market.store, OPENS, "CN-ETS", 2026)] == ["AU-1"]
    at(market, CLOSES)
    assert phase(market, CLOSES) == AuctionPhase.closed
    market.by("registry", "auction_clear", auction="AU-1")
    status = auction_status(market.store, "AU-1", CLOSES)
    assert status is not None and status.phase == AuctionPhase.cleared
    assert (status.terms.clearing_price, status.terms.sold) == (5_100, 800)
    book = auction_book(market.store, "AU-1")
    assert book is not None
    assert [(b.bid, b.filled) for b in book.bids] == [("b1", 300), ("b2", 400), ("b3", 100)]
    assert auction_book(market.store, "AU-9") is None
    assert [b.filled for b in bids_of_bidder(market.store, "AU-1", "baowu")] == [400]
