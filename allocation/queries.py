"""Reading plans back, for the interfaces: a scheme's plan for a year with its sectors and
what each has received, the plan's amendments, the reserve's movements, the market figures
they cite and the closed installations (docs/allocation.md). Each function reads one snapshot
of the store and returns plain values; nothing here is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from allocation import store as plan_store
from allocation.sectors import parse_sectors
from allocation.store import AmendmentRow, ClosureRow, FiguresRow, MovementRow, PlanRow
from ledger.store.database import Store

__all__ = ["AmendmentRow", "ClosureRow", "FiguresRow", "MovementRow", "PlanView",
           "SectorView", "amendments", "closures", "market_figures", "market_figures_of",
           "plan", "plans", "reserve_movements"]


@dataclass(frozen=True)
class SectorView:
    """A sector of a plan: its free allocation, benchmark (tCO2 per unit of output, a decimal
    string), unit of output, adjustment factors, and the free allocation issued so far."""

    sector: str
    free_cap: int
    benchmark: str
    output_unit: str
    factors: dict[str, str]
    allocated: int  # free allocation issued, net of units taken back
    remaining: int  # free_cap - allocated


@dataclass(frozen=True)
class PlanView:
    """A scheme's plan for a year: its cap and counters (docs/allocation.md, "The plan"),
    with what they imply, and its sectors by name. `dataclasses.asdict` gives it as JSON-ready
    values."""

    scheme: str
    year: int
    cap: int
    reserve: int  # units in the market-stability reserve
    to_auction: int  # units still to auction
    on_offer: int  # of those, in announced uncleared auctions
    issued: int  # units issued for the year, every way
    taken_back: int  # units taken back and cancelled
    amendments: int
    set_seq: int
    updated_seq: int
    # units of the year in existence or set aside (issued - taken_back + reserve +
    # to_auction): what the cap bounds; headroom = cap - outstanding
    outstanding: int
    headroom: int
    sectors: list[SectorView]


def _view(row: PlanRow, allocated: dict[str, int]) -> PlanView:
    sectors = [SectorView(s.sector, s.free_cap, str(s.benchmark), s.output_unit,
                          {name: str(value) for name, value in s.factors},
                          allocated.get(s.sector, 0), s.free_cap - allocated.get(s.sector, 0))
               for s in sorted(parse_sectors(row.sectors), key=lambda s: s.sector)]
    outstanding = row.issued - row.taken_back + row.reserve + row.to_auction
    return PlanView(row.scheme, row.year, row.cap, row.reserve, row.to_auction, row.on_offer,
                    row.issued, row.taken_back, row.amendments, row.set_seq, row.updated_seq,
                    outstanding, row.cap - outstanding, sectors)


def plan(store: Store, scheme: str, year: int) -> PlanView | None:
    """The scheme's plan for the year, with its sectors; None if there is none."""
    with store.read() as tx:
        found = plan_store.plan(tx, scheme, year)
        if found is None:
            return None
        return _view(found, plan_store.sectors_allocated(tx, scheme, year))


def plans(store: Store, scheme: str | None = None) -> list[PlanView]:
    """Every plan (of a scheme), by scheme and year."""
    with store.read() as tx:
        return [_view(found, plan_store.sectors_allocated(tx, found.scheme, found.year))
                for found in plan_store.plans(tx, scheme)]


def amendments(store: Store, scheme: str, year: int) -> list[AmendmentRow]:
    """Every amendment of the plan, oldest first, with its reason and the cap and sectors
    (canonical JSON) before and after it."""
    with store.read() as tx:
        return plan_store.amendments(tx, scheme, year)


def reserve_movements(store: Store, scheme: str, year: int) -> list[MovementRow]:
    """Every movement of the plan's reserve (release, absorb, new_entrant), oldest first."""
    with store.read() as tx:
        return plan_store.movements(tx, scheme, year)


def market_figures(store: Store, figures_id: str) -> FiguresRow | None:
    """One set of market figures by id; None if there is none."""
    with store.read() as tx:
        return plan_store.figures(tx, figures_id)


def market_figures_of(store: Store, scheme: str | None = None) -> list[FiguresRow]:
    """Every set of market figures (of a scheme), in the order published."""
    with store.read() as tx:
        return plan_store.figures_of(tx, scheme)


def closures(store: Store) -> list[ClosureRow]:
    """Every closed installation, with its last year of allocation, in the order closed."""
    with store.read() as tx:
        return plan_store.closures(tx)
