"""Reading auctions back, for the interfaces: an auction's terms and where it stands, the
book and results once it is cleared, and a bidder's own bids (docs/allocation.md, "Sealed
bids": until clearing, no participant sees another's bids).

Where an auction stands depends on the time, which is passed in (`now`, the ledger's clock):
`upcoming` before its window opens, `open` in it, `closed` after it until it is cleared,
then `cleared`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from allocation import auction_store
from allocation.auction_store import AuctionRow, BidRow
from allocation.fields import parse_instant
from ledger.store.database import Store

CLEARED = "cleared"  # auctions.status once cleared; "announced" before


class AuctionPhase(enum.StrEnum):
    upcoming = "upcoming"
    open = "open"
    closed = "closed"  # bidding over, not cleared yet
    cleared = "cleared"


class BookSealed(Exception):
    """The auction is not cleared: its book and results are not disclosed yet."""


@dataclass(frozen=True)
class AuctionStatus:
    """An auction's terms and where it stands; the result once cleared (price and sold are
    0 before)."""

    terms: AuctionRow
    phase: AuctionPhase


@dataclass(frozen=True)
class AuctionBook:
    """A cleared auction's disclosed book (every bid with its fill, in the order placed) and
    results."""

    auction: AuctionRow
    bids: list[BidRow]

    @property
    def winners(self) -> list[BidRow]:
        return [bid for bid in self.bids if bid.filled]


def phase_of(auction: AuctionRow, now: datetime) -> AuctionPhase:
    if auction.status == CLEARED:
        return AuctionPhase.cleared
    if now < parse_instant("opens", auction.opens):
        return AuctionPhase.upcoming
    if now < parse_instant("closes", auction.closes):
        return AuctionPhase.open
    return AuctionPhase.closed


def auction_status(store: Store, auction_id: str, now: datetime) -> AuctionStatus | None:
    """An auction's terms and phase; None if no auction has this id."""
    with store.read() as tx:
        found = auction_store.auction(tx, auction_id)
    return None if found is None else AuctionStatus(found, phase_of(found, now))


def auction_list(store: Store, now: datetime, scheme: str | None = None,
                 year: int | None = None) -> list[AuctionStatus]:
    """Every auction (of a scheme, of a year), in the order announced."""
    with store.read() as tx:
        found = auction_store.auctions(tx, scheme, year)
    return [AuctionStatus(a, phase_of(a, now)) for a in found]


def auction_book(store: Store, auction_id: str) -> AuctionBook | None:
    """A cleared auction's book and results; None if no auction has this id, `BookSealed` if
    it is not cleared yet."""
    with store.read() as tx:
        found = auction_store.auction(tx, auction_id)
        if found is None:
            return None
        if found.status != CLEARED:
            raise BookSealed(f"auction {auction_id} is not cleared: its bids are sealed")
        return AuctionBook(found, auction_store.bids(tx, auction_id))


def bids_of_bidder(store: Store, auction_id: str, bidder: str) -> list[BidRow]:
    """A bidder's own bids in an auction, in the order placed (fills once cleared)."""
    with store.read() as tx:
        return auction_store.bids_of(tx, auction_id, bidder)
