"""reserve_absorb: the registry moves units from the volume still to auction (not on offer)
into the market-stability reserve, citing market figures that meet an absorb trigger."""

from __future__ import annotations

from dataclasses import dataclass

from allocation.plan_model import load_plan
from allocation.reserve import MovementKind, load_figures, movement_row, require_absorb_trigger
from allocation.rules import required_rules
from allocation.stated_reason import require_reason
from ledger.effects import Changes
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class ReserveAbsorb(Payload):
    scheme: str
    year: int
    quantity: int
    figures: str
    reason: str


SCHEMA = define_schema(
    "reserve_absorb", "ReserveAbsorb", ReserveAbsorb,
    ("scheme", "string", "id"),
    ("year", "uint64", "year"),
    ("quantity", "uint64", "quantity"),
    ("figures", "string", "id"),
    ("reason", "string", "text"),
)


def reserve_absorb(p: ReserveAbsorb, ctx: Context) -> Changes:
    ctx.require_registry()
    rules = required_rules(ctx.rules(p.scheme))
    require_reason(SCHEMA.op, p.reason)
    plan = load_plan(ctx, p.scheme, p.year)
    figures = load_figures(ctx, p.figures, p.scheme)
    require_absorb_trigger(rules.reserve, figures)
    after = plan.absorbing(p.quantity, ctx.seq)
    return Changes(rows=[after.row(), movement_row(ctx, p.scheme, p.year, MovementKind.absorb,
                                                   p.quantity, p.reason, figures=figures.id)])
