"""The market-stability reserve's records: the signed market figures a movement cites, and the
movements themselves (releases, absorptions and new entrants' allocations), each disclosed in
`reserve_movements` (docs/allocation.md)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from allocation.reasons import AllocationReason
from allocation.rules import ReserveTriggers
from allocation.schema import market_figures, reserve_movements
from ledger.effects import Row
from ledger.errors import Rejected, require
from ledger.ops import Context


class MovementKind(enum.StrEnum):
    release = "release"  # reserve -> volume to auction
    absorb = "absorb"  # volume to auction -> reserve
    new_entrant = "new_entrant"  # reserve -> a new installation's account


@dataclass(frozen=True, slots=True)
class MarketFigures:
    id: str
    scheme: str
    period: str
    average_price: int
    surplus: int
    source: str
    published_seq: int


def load_figures(ctx: Context, figures_id: str, scheme: str) -> MarketFigures:
    """The figures a movement of `scheme`'s reserve cites: `unknown_figures`, or
    `figures_of_another_scheme`."""
    values = ctx.ws.row(market_figures, (figures_id,))
    if values is None:
        raise Rejected(AllocationReason.unknown_figures, figures_id)
    figures = MarketFigures(**values)
    require(figures.scheme == scheme, AllocationReason.figures_of_another_scheme,
            f"{figures.id} is of {figures.scheme}, not {scheme}")
    return figures


def require_release_trigger(triggers: ReserveTriggers, figures: MarketFigures) -> None:
    require(triggers.justifies_release(figures.average_price, figures.surplus),
            AllocationReason.trigger_not_met,
            f"{_figures(figures)}; a release needs an average price at or above "
            f"{triggers.release_price_above} or a surplus at or below "
            f"{triggers.release_surplus_below} (0: never)")


def require_absorb_trigger(triggers: ReserveTriggers, figures: MarketFigures) -> None:
    require(triggers.justifies_absorption(figures.average_price, figures.surplus),
            AllocationReason.trigger_not_met,
            f"{_figures(figures)}; an absorption needs an average price at or below "
            f"{triggers.absorb_price_below} or a surplus at or above "
            f"{triggers.absorb_surplus_above} (0: never)")


def movement_row(ctx: Context, scheme: str, year: int, kind: MovementKind, quantity: int,
                 reason: str, *, figures: str = "", installation: str = "") -> Row:
    """One movement of a plan's reserve, by the journal entry that made it."""
    return Row(reserve_movements, (scheme, year, ctx.seq),
               {"scheme": scheme, "year": year, "seq": ctx.seq, "kind": kind.value,
                "quantity": quantity, "figures": figures, "installation": installation,
                "reason": reason}, new=True)


def _figures(figures: MarketFigures) -> str:
    return (f"figures {figures.id} ({figures.period}): average price {figures.average_price}, "
            f"surplus {figures.surplus} t")
