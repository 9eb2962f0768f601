"""auction_bid: an eligible participant bids in an open auction: a quantity at a price, for
its own account. Bids are sealed from other participants until the auction is cleared.

The bid is added to the auction's running digest (allocation.clearing), and to what its
bidder has bid in the auction, which the limit per bidder bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

from allocation.auction_model import bid_row, bidder_row, load_auction
from allocation.clearing import Bid
from allocation.reasons import AllocationReason
from allocation.rules import required_rules
from allocation.schema import auction_bidders, auction_bids
from ledger.effects import Changes
from ledger.errors import Reason, require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.ops.holding_rules import require_may_hold
from ledger.payloads import Payload


@dataclass(frozen=True)
class AuctionBid(Payload):
    auction: str
    bid: str
    bidder: str
    account: str
    quantity: int
    price: int  # minor units per tonne


SCHEMA = define_schema(
    "auction_bid", "AuctionBid", AuctionBid,
    ("auction", "string", "id"),
    ("bid", "string", "id"),
    ("bidder", "string", "id"),
    ("account", "string", "id"),
    ("quantity", "uint64", "quantity"),
    ("price", "uint64", "quantity"),
)


def auction_bid(p: AuctionBid, ctx: Context) -> Changes:
    auction = load_auction(ctx, p.auction)
    rules = ctx.rules(auction.scheme)
    bidder = ctx.participant(p.bidder)
    require(bidder.role.value in required_rules(rules).bidder_roles,
            AllocationReason.bidder_not_eligible,
            f"{p.bidder} is a {bidder.role.value}")
    require(ctx.is_signed_by(p.bidder), Reason.missing_signature, f"the bidder {p.bidder}")
    account = ctx.unfrozen_account(p.account)
    require(account.participant == p.bidder, AllocationReason.account_not_bidders,
            f"{account.id} is {account.participant}'s")
    require_may_hold(account, auction.results_batch(auction.quantity, ctx.seq), rules)
    require(auction.is_open(ctx.now), AllocationReason.auction_not_open,
            f"{auction.id} takes bids from {auction.opens} until {auction.closes}")
    require(p.price >= auction.reserve_price, AllocationReason.below_reserve_price,
            f"{p.price} < {auction.reserve_price}")
    so_far = ctx.ws.row(auction_bidders, (p.auction, p.bidder))
    quantity = p.quantity + (so_far["quantity"] if so_far else 0)
    require(quantity <= auction.bidder_limit(), AllocationReason.exceeds_bidder_limit,
            f"{p.bidder}'s bids would ask for {quantity} t, the limit is "
            f"{auction.bidder_limit()} t")
    require(ctx.ws.row(auction_bids, (p.auction, p.bid)) is None, AllocationReason.bid_exists,
            f"{p.auction} {p.bid}")
    bid = Bid(p.bid, p.bidder, p.account, p.quantity, p.price, ctx.seq)
    bids = 1 + (so_far["bids"] if so_far else 0)
    return Changes(rows=[
        bid_row(p.auction, bid, new=True),
        bidder_row(p.auction, p.bidder, quantity, bids, new=so_far is None),
        auction.with_bid(bid).row(),
    ])
