"""The invariants of auctions (allocation/invariants.py runs them with the module's others):

- an auction's bid count and running digest are those of its bids, in the order placed;
  what each bidder has bid is the sum of its bids, within the auction's limit per bidder;
- an announced auction's bids have no fill and it has no result; its offer is counted in
  its plan's `on_offer`, which is exactly the offers of the plan's announced auctions;
- a cleared auction's price, sold quantity, results digest and every bid's fill are those
  allocation.clearing gives from its bids, and its batch (when it sold) holds exactly the
  units sold, issued by auction (where its lots went since is the ledger's own invariants').
"""

from __future__ import annotations

from collections import defaultdict

from allocation.auction_store import (
    AuctionRow,
    BidRow,
    auctions,
    batch_issued,
    bidder_totals,
    bids,
    plans_on_offer,
)
from allocation.clearing import Bid, bids_digest, clear, hex_digest, results_digest
from ledger.store.sql import SqlTransaction

CLEARED = "cleared"


def auction_problems(tx: SqlTransaction) -> list[str]:
    problems: list[str] = []
    offered: dict[tuple[str, int], int] = defaultdict(int)
    for auction in auctions(tx):
        book = bids(tx, auction.id)
        problems += _book_problems(tx, auction, book)
        if auction.status == CLEARED:
            problems += _result_problems(tx, auction, book)
        else:
            offered[(auction.scheme, auction.year)] += auction.quantity
            if any(bid.filled is not None for bid in book) or auction.sold \
                    or auction.results_digest:
                problems.append(f"auction {auction.id}: announced, yet has a result")
    for (scheme, year), on_offer in sorted(plans_on_offer(tx).items()):
        if on_offer != offered.get((scheme, year), 0):
            problems.append(f"plan {scheme} {year}: on_offer {on_offer}, but its announced "
                            f"auctions offer {offered.get((scheme, year), 0)} t")
    return problems


def _as_bids(book: list[BidRow]) -> list[Bid]:
    return [Bid(b.bid, b.bidder, b.account, b.quantity, b.price, b.seq) for b in book]


def _book_problems(tx: SqlTransaction, auction: AuctionRow, book: list[BidRow]) -> list[str]:
    problems = []
    where = f"auction {auction.id}"
    if auction.bid_count != len(book):
        problems.append(f"{where}: bid_count {auction.bid_count}, but {len(book)} bids")
    if auction.bids_digest != hex_digest(bids_digest(_as_bids(book))):
        problems.append(f"{where}: its bids_digest is not the digest of its bids")
    by_bidder: dict[str, tuple[int, int]] = {}
    for bid in book:
        quantity, count = by_bidder.get(bid.bidder, (0, 0))
        by_bidder[bid.bidder] = (quantity + bid.quantity, count + 1)
    kept = bidder_totals(tx, auction.id)
    if kept != by_bidder:
        problems.append(f"{where}: auction_bidders {kept} are not the sums of its bids "
                        f"{by_bidder}")
    limit = auction.quantity * auction.bidder_limit_bp // 10_000
    problems += [f"{where}: {bidder} bid {quantity} t, past the limit of {limit} t"
                 for bidder, (quantity, _) in sorted(by_bidder.items()) if quantity > limit]
    return problems


def _result_problems(tx: SqlTransaction, auction: AuctionRow, book: list[BidRow]) -> list[str]:
    problems = []
    where = f"auction {auction.id}"
    clearing = clear(auction.quantity, auction.reserve_price, _as_bids(book))
    if (auction.clearing_price, auction.sold, auction.results_digest) != (
            clearing.price, clearing.sold, hex_digest(results_digest(clearing))):
        problems.append(f"{where}: result {auction.clearing_price} for {auction.sold} t is "
                        f"not its bids' ({clearing.price} for {clearing.sold} t), or its "
                        "results digest differs")
    filled = clearing.filled()
    wrong = [bid.bid for bid in book if bid.filled != filled[bid.bid]]
    if wrong:
        problems.append(f"{where}: bids {wrong[:5]} have fills other than the clearing's")
    if clearing.sold and batch_issued(tx, auction.batch) != (clearing.sold, "auction"):
        problems.append(f"{where}: batch {auction.batch} is not {clearing.sold} t issued "
                        "by auction")
    return problems
