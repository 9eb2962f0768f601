"""market_figures_publish: the registry signs a period's market figures (average price, surplus
in circulation) that a reserve movement may cite as its trigger."""

from __future__ import annotations

from dataclasses import dataclass

from allocation.reasons import AllocationReason
from allocation.rules import required_rules
from allocation.schema import market_figures
from ledger.effects import Changes, Row
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class MarketFiguresPublish(Payload):
    figures: str
    scheme: str
    period: str  # YYYY-MM
    average_price: int  # minor units per tonne
    surplus: int  # tonnes in circulation
    source: str


SCHEMA = define_schema(
    "market_figures_publish", "MarketFiguresPublish", MarketFiguresPublish,
    ("figures", "string", "id"),
    ("scheme", "string", "id"),
    ("period", "string", "month"),
    ("averagePrice", "uint64", "tonnes"),
    ("surplus", "uint64", "tonnes"),
    ("source", "string", "text"),
)


def market_figures_publish(p: MarketFiguresPublish, ctx: Context) -> Changes:
    ctx.require_registry()
    required_rules(ctx.rules(p.scheme))
    require(ctx.ws.row(market_figures, (p.figures,)) is None, AllocationReason.figures_exist,
            p.figures)
    return Changes(rows=[Row(market_figures, (p.figures,), {
        "id": p.figures, "scheme": p.scheme, "period": p.period,
        "average_price": p.average_price, "surplus": p.surplus, "source": p.source,
        "published_seq": ctx.seq}, new=True)])
