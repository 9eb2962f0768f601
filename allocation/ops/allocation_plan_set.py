"""allocation_plan_set: the registry sets a scheme's allocation plan for a year: the cap, the
reserve, the volume to auction and each sector's free allocation, benchmark and factors
(docs/allocation.md)."""

from __future__ import annotations

from dataclasses import dataclass

from allocation.plan_commitments import require_within_cap
from allocation.plan_model import Plan, find_plan
from allocation.reasons import AllocationReason
from allocation.rules import required_rules
from allocation.sectors import parse_sectors, sectors_json
from ledger.effects import Changes
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class AllocationPlanSet(Payload):
    scheme: str
    year: int
    cap: int
    reserve: int
    auction: int
    sectors: str  # JSON (allocation.sectors)


SCHEMA = define_schema(
    "allocation_plan_set", "AllocationPlanSet", AllocationPlanSet,
    ("scheme", "string", "id"),
    ("year", "uint64", "year"),
    ("cap", "uint64", "tonnes"),
    ("reserve", "uint64", "tonnes"),
    ("auction", "uint64", "tonnes"),
    ("sectors", "string", "sector_plan"),
)


def allocation_plan_set(p: AllocationPlanSet, ctx: Context) -> Changes:
    ctx.require_registry()
    required_rules(ctx.rules(p.scheme))
    require(find_plan(ctx, p.scheme, p.year) is None, AllocationReason.plan_exists,
            f"{p.scheme} {p.year}")
    sectors = parse_sectors(p.sectors)
    # a new plan has issued nothing: the sectors' free allocation is all still to come
    require_within_cap(p.cap, p.reserve + p.auction, {s.sector: s.free_cap for s in sectors}, {})
    plan = Plan(scheme=p.scheme, year=p.year, cap=p.cap, sectors=sectors_json(sectors),
                reserve=p.reserve, to_auction=p.auction, on_offer=0, issued=0, taken_back=0,
                amendments=0, set_seq=ctx.seq, updated_seq=ctx.seq)
    return Changes(rows=[plan.row(new=True)])
