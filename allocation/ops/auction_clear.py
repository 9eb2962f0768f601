"""auction_clear: after the window, the registry clears an auction at a uniform price
(docs/allocation.md): winners' units are issued in the auction's batch, unsold units return
to the cap.

Every bid of the auction is read at once (a prefix read of auction_bids) and cleared by
allocation.clearing.clear; one batch holds the units sold, a lot per accepted bid in
acceptance order, serials from 1 on. A winner's units go to the account it named when it bid.
"""

from __future__ import annotations

from dataclasses import dataclass

from allocation.auction_model import auction_bids_of, bid_row, load_auction
from allocation.clearing import clear
from allocation.issuance import consecutive_lots
from allocation.plan_model import load_plan
from allocation.reasons import AllocationReason
from allocation.rules import required_rules
from ledger.effects import Changes, LotEffects
from ledger.errors import Reason, require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class AuctionClear(Payload):
    auction: str


SCHEMA = define_schema(
    "auction_clear", "AuctionClear", AuctionClear,
    ("auction", "string", "id"),
)


def auction_clear(p: AuctionClear, ctx: Context) -> Changes:
    ctx.require_registry()
    auction = load_auction(ctx, p.auction)
    require(not auction.cleared, AllocationReason.auction_cleared, p.auction)
    require(auction.has_closed(ctx.now), AllocationReason.auction_still_open,
            f"{auction.id} takes bids until {auction.closes}")
    required_rules(ctx.rules(auction.scheme))
    plan = load_plan(ctx, auction.scheme, auction.year)
    bids = auction_bids_of(ctx, auction.id)
    assert len(bids) == auction.bid_count, "every bid of the auction is read"
    clearing = clear(auction.quantity, auction.reserve_price, bids)
    changes = Changes(rows=[plan.auctioned(auction.quantity, clearing.sold, ctx.seq).row(),
                            auction.clearing_with(clearing, ctx.seq).row()])
    filled = clearing.filled()
    changes.rows += [bid_row(auction.id, bid, filled[bid.bid]) for bid in bids]
    if clearing.sold:
        require(ctx.ws.batches.get(auction.batch) is None, Reason.batch_exists,
                f"{auction.batch}, named for the results of {auction.id}")
        batch = auction.results_batch(clearing.sold, ctx.seq)
        changes.batches.append(batch)
        # a lot per accepted bid, in acceptance order
        account_of = {bid.bid: bid.account for bid in bids}
        changes.lots = LotEffects(created=consecutive_lots(
            ctx, batch, ((account_of[bid], filled) for bid, filled in clearing.accepted)))
    return changes


