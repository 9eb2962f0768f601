"""The auction leaf's reads (allocation/auction_leaves.py): each auction's terms, status, bid
count, running digest of its bids and, once cleared, its results, read from auctions in the
caller's transaction; and the book that the `auction` bundle's prover asks for
(anchoring/operator/allocation_evidence.py).

A leaf's value is the RFC 8785 canonical JSON of

    {"batch","bid_count","bidder_limit_bp","bids_digest","clearing_price","closes","id",
     "opens","quantity","reserve_price","results_digest","scheme","sold","status","year"}

an auctions row without its journal positions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from allocation.clearing import Bid
from anchoring.auditor.verify_allocation import auction_key
from ledger.canonical import canonical_json
from ledger.store.sql import SqlTransaction

_CHUNK = 500  # ids per statement: well under every database's parameter limit
_NAMES = ("id", "scheme", "year", "quantity", "reserve_price", "opens", "closes",
          "bidder_limit_bp", "batch", "status", "bid_count", "bids_digest", "clearing_price",
          "sold", "results_digest")
_SQL = f"SELECT {', '.join(_NAMES)} FROM auctions"
_INTEGERS = frozenset({"year", "quantity", "reserve_price", "bidder_limit_bp", "bid_count",
                       "clearing_price", "sold"})


def auction_value(row: Sequence[Any]) -> bytes:
    """An auctions row (the columns of _SQL) as its leaf's value."""
    return canonical_json({name: int(value) if name in _INTEGERS else value
                           for name, value in zip(_NAMES, row, strict=True)})


def auction_leaves(tx: SqlTransaction, auctions: Iterable[str]) -> dict[bytes, bytes | None]:
    wanted = sorted(set(auctions))
    leaves: dict[bytes, bytes | None] = {auction_key(a): None for a in wanted}
    for start in range(0, len(wanted), _CHUNK):
        names = {f"a{i}": a for i, a in enumerate(wanted[start:start + _CHUNK])}
        for row in tx.all(f"{_SQL} WHERE id IN ({', '.join(':' + n for n in names)})", names):
            leaves[auction_key(row[0])] = auction_value(row)
    return leaves


def all_auction_leaves(tx: SqlTransaction) -> Iterator[tuple[bytes, bytes]]:
    for row in tx.all(_SQL):
        yield auction_key(row[0]), auction_value(row)


# --- what the prover asks ----------------------------------------------------------------------

def book_before(tx: SqlTransaction, auction: str, size: int) -> list[Bid]:
    """The auction's bids placed by entries before `size` (a checkpoint's log size), in the
    order placed. Bids are never deleted, and only their fill changes after they are placed."""
    return [Bid(bid, bidder, account, int(quantity), int(price), int(seq))
            for bid, bidder, account, quantity, price, seq in tx.all(
                "SELECT bid, bidder, account, quantity, price, seq FROM auction_bids "
                "WHERE auction = :auction AND seq < :size ORDER BY seq",
                {"auction": auction, "size": size})]


def fills(tx: SqlTransaction, auction: str) -> dict[str, int]:
    """Each bid's fill, by bid id (0 for one not filled, or before clearing)."""
    return {bid: int(filled or 0) for bid, filled in tx.all(
        "SELECT bid, filled FROM auction_bids WHERE auction = :auction", {"auction": auction})}
