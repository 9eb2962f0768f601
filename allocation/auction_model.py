"""An auction and its bids as plain values read and written through the working set
(docs/allocation.md, "Auctions"). The auction row carries the running digest of its book and,
once cleared, its result; the clearing itself is allocation.clearing's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from allocation.clearing import (
    EMPTY_BOOK,
    Bid,
    Clearing,
    hex_digest,
    next_bids_digest,
    results_digest,
)
from allocation.fields import parse_instant
from allocation.issuance import allowance_batch
from allocation.reasons import AllocationReason
from allocation.schema import auction_bidders, auction_bids, auctions
from ledger.effects import Row
from ledger.errors import Rejected
from ledger.model import Batch, Issuance
from ledger.ops import Context

ANNOUNCED = "announced"
CLEARED = "cleared"
NO_BIDS_DIGEST = hex_digest(EMPTY_BOOK)


@dataclass(frozen=True, slots=True)
class Auction:
    id: str
    scheme: str
    year: int
    quantity: int  # the offer, tonnes
    reserve_price: int  # minor units per tonne
    opens: str  # YYYY-MM-DDTHH:MM:SSZ
    closes: str
    bidder_limit_bp: int
    batch: str  # the results' batch
    status: str  # ANNOUNCED | CLEARED
    bid_count: int
    bids_digest: str  # 0x + the running digest of its bids
    clearing_price: int
    sold: int
    results_digest: str  # "" until cleared
    announced_seq: int
    cleared_seq: int | None

    @property
    def cleared(self) -> bool:
        return self.status == CLEARED

    def is_open(self, now: datetime) -> bool:
        """Within its bidding window: opens <= now < closes."""
        return parse_instant("opens", self.opens) <= now < parse_instant("closes", self.closes)

    def has_closed(self, now: datetime) -> bool:
        return now >= parse_instant("closes", self.closes)

    def bidder_limit(self) -> int:
        """The most a bidder's bids in this auction may ask for, in tonnes (rounded down)."""
        return self.quantity * self.bidder_limit_bp // 10_000

    def results_batch(self, quantity: int, seq: int) -> Batch:
        """The batch the auction's results are issued in (and, with the offer as its quantity,
        what a bid's account must be able to hold)."""
        return allowance_batch(self.scheme, self.year, self.batch, quantity, Issuance.auction,
                               seq)

    # --- changes --------------------------------------------------------------------------

    def with_bid(self, bid: Bid) -> Auction:
        """One more bid, committed to by the running digest."""
        digest = next_bids_digest(bytes.fromhex(self.bids_digest[2:]), bid)
        return replace(self, bid_count=self.bid_count + 1, bids_digest=hex_digest(digest))

    def clearing_with(self, clearing: Clearing, seq: int) -> Auction:
        return replace(self, status=CLEARED, clearing_price=clearing.price, sold=clearing.sold,
                       results_digest=hex_digest(results_digest(clearing)), cleared_seq=seq)

    def row(self, *, new: bool = False) -> Row:
        return Row(auctions, (self.id,), asdict(self), new)


def bid_from_row(values: Mapping[str, Any]) -> Bid:
    """A bid from its auction_bids row."""
    return Bid(bid=values["bid"], bidder=values["bidder"], account=values["account"],
               quantity=int(values["quantity"]), price=int(values["price"]),
               seq=int(values["seq"]))


def bid_row(auction: str, bid: Bid, filled: int | None = None, *, new: bool = False) -> Row:
    return Row(auction_bids, (auction, bid.bid),
               {"auction": auction, "bid": bid.bid, "bidder": bid.bidder,
                "account": bid.account, "quantity": bid.quantity, "price": bid.price,
                "seq": bid.seq, "filled": filled}, new)


def bidder_row(auction: str, bidder: str, quantity: int, bids: int, *, new: bool) -> Row:
    return Row(auction_bidders, (auction, bidder),
               {"auction": auction, "bidder": bidder, "quantity": quantity, "bids": bids}, new)


def find_auction(ctx: Context, auction_id: str) -> Auction | None:
    values = ctx.ws.row(auctions, (auction_id,))
    return None if values is None else Auction(**values)


def load_auction(ctx: Context, auction_id: str) -> Auction:
    """The auction, or `unknown_auction`."""
    auction = find_auction(ctx, auction_id)
    if auction is None:
        raise Rejected(AllocationReason.unknown_auction, auction_id)
    return auction


def auction_bids_of(ctx: Context, auction_id: str) -> list[Bid]:
    """Every bid of the auction, this transaction's included, in one read."""
    return [bid_from_row(values)
            for values in ctx.ws.rows_with_prefix(auction_bids, (auction_id,))]
