"""auction_announce: the registry offers part of a plan's volume to auction: the quantity,
reserve price, bidding window, limit per bidder and the batch its results will be issued in.

The quantity goes on offer (the plan's `on_offer`), out of the volume still to auction. The
batch id must not name an existing batch; it is checked again when the auction is cleared
(docs/allocation.md), as batch ids are global and other operations cannot see auctions.
"""

from __future__ import annotations

from dataclasses import dataclass

from allocation.auction_model import ANNOUNCED, NO_BIDS_DIGEST, Auction, find_auction
from allocation.fields import parse_instant
from allocation.plan_model import load_plan
from allocation.reasons import AllocationReason
from allocation.rules import BASIS_POINTS, required_rules
from ledger.effects import Changes
from ledger.errors import Reason, require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class AuctionAnnounce(Payload):
    auction: str
    scheme: str
    year: int
    quantity: int
    reserve_price: int  # minor units per tonne
    opens: str  # YYYY-MM-DDTHH:MM:SSZ
    closes: str
    bidder_limit_bp: int
    batch: str


SCHEMA = define_schema(
    "auction_announce", "AuctionAnnounce", AuctionAnnounce,
    ("auction", "string", "id"),
    ("scheme", "string", "id"),
    ("year", "uint64", "year"),
    ("quantity", "uint64", "quantity"),
    ("reservePrice", "uint64", "quantity"),
    ("opens", "string", "instant"),
    ("closes", "string", "instant"),
    ("bidderLimitBp", "uint64", "basis_points"),
    ("batch", "string", "id"),
)


def auction_announce(p: AuctionAnnounce, ctx: Context) -> Changes:
    ctx.require_registry()
    required_rules(ctx.rules(p.scheme))
    plan = load_plan(ctx, p.scheme, p.year)
    require(find_auction(ctx, p.auction) is None, AllocationReason.auction_exists, p.auction)
    opens, closes = parse_instant("opens", p.opens), parse_instant("closes", p.closes)
    require(opens < closes and closes > ctx.now, AllocationReason.invalid_window,
            f"{p.opens} to {p.closes}, now {ctx.now:%Y-%m-%dT%H:%M:%SZ}")
    require(1 <= p.bidder_limit_bp <= BASIS_POINTS, AllocationReason.invalid_bidder_limit,
            str(p.bidder_limit_bp))
    require(ctx.ws.batches.get(p.batch) is None, Reason.batch_exists, p.batch)
    after = plan.offering(p.quantity, ctx.seq)
    auction = Auction(
        id=p.auction, scheme=p.scheme, year=p.year, quantity=p.quantity,
        reserve_price=p.reserve_price, opens=p.opens, closes=p.closes,
        bidder_limit_bp=p.bidder_limit_bp, batch=p.batch, status=ANNOUNCED, bid_count=0,
        bids_digest=NO_BIDS_DIGEST, clearing_price=0, sold=0, results_digest="",
        announced_seq=ctx.seq, cleared_seq=None)
    return Changes(rows=[after.row(), auction.row(new=True)])
