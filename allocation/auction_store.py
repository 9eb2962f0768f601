"""The auction queries' reads (allocation/auction_queries.py): each SQL statement over the
auctions, auction_bids and auction_bidders tables, a function of a transaction returning
typed rows. Operations never come here: handlers read through the working set."""

from __future__ import annotations

from typing import Any, NamedTuple

from ledger.store.sql import SqlTransaction

_AUCTION_COLUMNS = ("id, scheme, year, quantity, reserve_price, opens, closes, "
                    "bidder_limit_bp, batch, status, bid_count, bids_digest, clearing_price, "
                    "sold, results_digest, announced_seq, cleared_seq")
_BID_COLUMNS = "auction, bid, bidder, account, quantity, price, seq, filled"


class AuctionRow(NamedTuple):
    id: str
    scheme: str
    year: int
    quantity: int
    reserve_price: int
    opens: str
    closes: str
    bidder_limit_bp: int
    batch: str
    status: str  # announced | cleared
    bid_count: int
    bids_digest: str
    clearing_price: int
    sold: int
    results_digest: str
    announced_seq: int
    cleared_seq: int | None


class BidRow(NamedTuple):
    auction: str
    bid: str
    bidder: str
    account: str
    quantity: int
    price: int
    seq: int
    filled: int | None  # None until the auction is cleared


def _auction(row: Any) -> AuctionRow:
    values = list(row)
    for i in (2, 3, 4, 7, 10, 12, 13, 15):
        values[i] = int(values[i])
    values[16] = None if values[16] is None else int(values[16])
    return AuctionRow(*values)


def _bid(row: Any) -> BidRow:
    auction, bid, bidder, account, quantity, price, seq, filled = row
    return BidRow(auction, bid, bidder, account, int(quantity), int(price), int(seq),
                  None if filled is None else int(filled))


def auction(tx: SqlTransaction, auction_id: str) -> AuctionRow | None:
    found = tx.one(f"SELECT {_AUCTION_COLUMNS} FROM auctions WHERE id = :id", {"id": auction_id})
    return None if found is None else _auction(found)


def auctions(tx: SqlTransaction, scheme: str | None = None,
             year: int | None = None) -> list[AuctionRow]:
    """Every auction, or a scheme's (and year's), in the order they were announced."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if scheme is not None:
        where.append("scheme = :scheme")
        params["scheme"] = scheme
    if year is not None:
        where.append("year = :year")
        params["year"] = year
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return [_auction(r) for r in tx.all(
        f"SELECT {_AUCTION_COLUMNS} FROM auctions{clause} ORDER BY announced_seq", params)]


def bids(tx: SqlTransaction, auction_id: str) -> list[BidRow]:
    """Every bid of an auction, in the order they were placed."""
    return [_bid(r) for r in tx.all(
        f"SELECT {_BID_COLUMNS} FROM auction_bids WHERE auction = :auction ORDER BY seq",
        {"auction": auction_id})]


def bids_of(tx: SqlTransaction, auction_id: str, bidder: str) -> list[BidRow]:
    """A bidder's own bids in an auction, in the order it placed them."""
    return [_bid(r) for r in tx.all(
        f"SELECT {_BID_COLUMNS} FROM auction_bids WHERE auction = :auction "
        "AND bidder = :bidder ORDER BY seq", {"auction": auction_id, "bidder": bidder})]


# --- what the invariants read (allocation/auction_invariants.py) ------------------------------

def bidder_totals(tx: SqlTransaction, auction_id: str) -> dict[str, tuple[int, int]]:
    """auction_bidders of an auction: bidder -> (tonnes bid, number of bids)."""
    return {bidder: (int(quantity), int(count)) for bidder, quantity, count in tx.all(
        "SELECT bidder, quantity, bids FROM auction_bidders WHERE auction = :auction",
        {"auction": auction_id})}


def plans_on_offer(tx: SqlTransaction) -> dict[tuple[str, int], int]:
    """Every plan's `on_offer`, by (scheme, year)."""
    return {(scheme, int(year)): int(on_offer) for scheme, year, on_offer in tx.all(
        "SELECT scheme, year, on_offer FROM allocation_plans")}


def batch_issued(tx: SqlTransaction, batch: str) -> tuple[int, str] | None:
    """A batch's quantity and how it was issued; None if there is no such batch."""
    found = tx.one("SELECT quantity, issuance FROM batches WHERE id = :id", {"id": batch})
    return None if found is None else (int(found[0]), str(found[1]))
