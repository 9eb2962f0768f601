"""reserve_release: the registry releases units from the market-stability reserve to the volume
to auction, citing market figures that meet a release trigger."""

from __future__ import annotations

from dataclasses import dataclass

from allocation.plan_model import load_plan
from allocation.reserve import MovementKind, load_figures, movement_row, require_release_trigger
from allocation.rules import required_rules
from allocation.stated_reason import require_reason
from ledger.effects import Changes
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class ReserveRelease(Payload):
    scheme: str
    year: int
    quantity: int
    figures: str
    reason: str


SCHEMA = define_schema(
    "reserve_release", "ReserveRelease", ReserveRelease,
    ("scheme", "string", "id"),
    ("year", "uint64", "year"),
    ("quantity", "uint64", "quantity"),
    ("figures", "string", "id"),
    ("reason", "string", "text"),
)


def reserve_release(p: ReserveRelease, ctx: Context) -> Changes:
    ctx.require_registry()
    rules = required_rules(ctx.rules(p.scheme))
    require_reason(SCHEMA.op, p.reason)
    plan = load_plan(ctx, p.scheme, p.year)
    figures = load_figures(ctx, p.figures, p.scheme)
    require_release_trigger(rules.reserve, figures)
    after = plan.releasing(p.quantity, ctx.seq)
    return Changes(rows=[after.row(), movement_row(ctx, p.scheme, p.year, MovementKind.release,
                                                   p.quantity, p.reason, figures=figures.id)])
