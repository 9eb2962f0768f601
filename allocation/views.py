"""The allocation module's reads as the interfaces carry them (the application service, the
HTTP service, the Python client, the CLI): plain frozen dataclasses, whose JSON is their fields
(api/client/records.py), made from the queries' answers (allocation/queries.py,
allocation/auction_queries.py). They read everything asked for: who may read which (sealed
bids, an installation's allocations) is the HTTP service's to apply (api/access.py,
docs/allocation.md "Interfaces"), as for every module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from allocation import auction_queries, auction_store, installation_queries, queries
from allocation.auction_queries import AuctionStatus
from allocation.auction_store import BidRow
from allocation.installation_queries import AllocationView, FigureInputs
from allocation.queries import PlanView
from ledger.store.database import Store

__all__ = ["AllocationView", "Amendment", "Auction", "Bid", "FigureInputs", "MarketFigures",
           "PlanView", "ReserveMovement", "amendments", "auction", "auction_bids", "auctions",
           "installation_allocations", "market_figures", "plan", "plans", "reserve_movements",
           "year_allocations"]

# --- plans, the reserve, market figures: public -----------------------------------------------


@dataclass(frozen=True)
class Amendment:
    """An amendment of a plan: its reason, the cap and the sectors (canonical JSON) before
    and after it; `seq` its journal entry."""

    scheme: str
    year: int
    seq: int
    reason: str
    cap_before: int
    cap_after: int
    sectors_before: str
    sectors_after: str


@dataclass(frozen=True)
class ReserveMovement:
    """A movement of a plan's reserve: `release` (to auction), `absorb` (from the volume to
    auction) citing market `figures`, or `new_entrant` (to an installation)."""

    scheme: str
    year: int
    seq: int
    kind: str
    quantity: int
    figures: str
    installation: str
    reason: str


@dataclass(frozen=True)
class MarketFigures:
    """A period's signed market figures: average price (minor units per tonne) and surplus
    (tonnes in circulation)."""

    id: str
    scheme: str
    period: str
    average_price: int
    surplus: int
    source: str
    published_seq: int


def plan(store: Store, scheme: str, year: int) -> PlanView | None:
    return queries.plan(store, scheme, year)


def plans(store: Store, scheme: str | None = None) -> list[PlanView]:
    return queries.plans(store, scheme)


def amendments(store: Store, scheme: str, year: int) -> list[Amendment]:
    return [Amendment(*row) for row in queries.amendments(store, scheme, year)]


def reserve_movements(store: Store, scheme: str, year: int) -> list[ReserveMovement]:
    return [ReserveMovement(*row) for row in queries.reserve_movements(store, scheme, year)]


def market_figures(store: Store, scheme: str | None = None) -> list[MarketFigures]:
    return [MarketFigures(*row) for row in queries.market_figures_of(store, scheme)]


# --- installations' allocations: each figure with its inputs ------------------------------------


def installation_allocations(store: Store, installation: str) -> list[AllocationView]:
    """What an installation received, year by year, each figure with its inputs."""
    return installation_queries.installation_allocations_of(store, installation)


def year_allocations(store: Store, scheme: str, year: int) -> list[AllocationView]:
    """Every installation's allocation for a scheme's year, by installation."""
    return installation_queries.allocations_for_year(store, scheme, year)


# --- auctions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Auction:
    """An auction's terms and where it stands (`phase`: upcoming, open, closed, cleared); its
    results once cleared (`clearing_price` and `sold` are 0 before). Prices are minor units
    (fen) per tonne. Public."""

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
    phase: str
    bid_count: int
    bids_digest: str  # commits to every bid in the order they arrived
    clearing_price: int
    sold: int
    results_digest: str
    announced_seq: int
    cleared_seq: int | None

    @property
    def cleared(self) -> bool:
        return self.cleared_seq is not None

    @property
    def bidder_limit(self) -> int:
        """The most one bidder's bids may total, in tonnes."""
        return self.quantity * self.bidder_limit_bp // 10_000


@dataclass(frozen=True)
class Bid:
    """A bid; `filled` is None until the auction is cleared (0 for a bid that lost). Sealed:
    until clearing, only its bidder, the registry and auditors read it."""

    auction: str
    bid: str
    bidder: str
    account: str
    quantity: int
    price: int
    seq: int
    filled: int | None


def auction_view(found: AuctionStatus) -> Auction:
    terms = found.terms
    return Auction(
        id=terms.id, scheme=terms.scheme, year=terms.year, quantity=terms.quantity,
        reserve_price=terms.reserve_price, opens=terms.opens, closes=terms.closes,
        bidder_limit_bp=terms.bidder_limit_bp, batch=terms.batch, status=terms.status,
        phase=found.phase.value, bid_count=terms.bid_count, bids_digest=terms.bids_digest,
        clearing_price=terms.clearing_price, sold=terms.sold,
        results_digest=terms.results_digest, announced_seq=terms.announced_seq,
        cleared_seq=terms.cleared_seq)


def bid_view(row: BidRow) -> Bid:
    return Bid(row.auction, row.bid, row.bidder, row.account, row.quantity, row.price, row.seq,
               row.filled)


def auctions(store: Store, now: datetime, scheme: str | None = None,
             year: int | None = None) -> list[Auction]:
    """Every auction (of a scheme, of a year), in the order announced."""
    return [auction_view(a) for a in auction_queries.auction_list(store, now, scheme, year)]


def auction(store: Store, auction_id: str, now: datetime) -> Auction | None:
    found = auction_queries.auction_status(store, auction_id, now)
    return None if found is None else auction_view(found)


def auction_bids(store: Store, auction_id: str, bidder: str | None = None) -> list[Bid]:
    """An auction's bids in the order placed, sealed or not (or one bidder's), with their
    fills once it is cleared."""
    if bidder is not None:
        return [bid_view(b) for b in auction_queries.bids_of_bidder(store, auction_id, bidder)]
    with store.read() as tx:
        return [bid_view(b) for b in auction_store.bids(tx, auction_id)]
