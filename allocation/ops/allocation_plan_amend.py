"""allocation_plan_amend: the registry changes a plan's cap and sectors, with a reason; never
below what is already issued or set aside."""

from __future__ import annotations

from dataclasses import dataclass, replace

from allocation.plan_commitments import require_within_cap, sectors_allocated
from allocation.plan_model import Plan, load_plan
from allocation.reasons import AllocationReason
from allocation.rules import required_rules
from allocation.schema import plan_amendments
from allocation.sectors import parse_sectors, sectors_json
from allocation.stated_reason import require_reason
from ledger.effects import Changes, Row
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class AllocationPlanAmend(Payload):
    scheme: str
    year: int
    cap: int
    sectors: str  # JSON (allocation.sectors)
    reason: str


SCHEMA = define_schema(
    "allocation_plan_amend", "AllocationPlanAmend", AllocationPlanAmend,
    ("scheme", "string", "id"),
    ("year", "uint64", "year"),
    ("cap", "uint64", "tonnes"),
    ("sectors", "string", "sector_plan"),
    ("reason", "string", "text"),
)


def allocation_plan_amend(p: AllocationPlanAmend, ctx: Context) -> Changes:
    ctx.require_registry()
    required_rules(ctx.rules(p.scheme))
    require_reason(SCHEMA.op, p.reason)
    plan = load_plan(ctx, p.scheme, p.year)
    sectors = parse_sectors(p.sectors)
    free_caps = {s.sector: s.free_cap for s in sectors}
    allocated = sectors_allocated(ctx, plan)
    require(p.cap >= plan.outstanding, AllocationReason.amendment_below_committed,
            f"a cap of {p.cap} t: {plan.outstanding} t are already issued or set aside")
    for sector, amount in sorted(allocated.items()):
        # a sector that has received allocation stays in the plan, with at least that much
        require(free_caps.get(sector, 0) >= amount, AllocationReason.amendment_below_committed,
                f"{sector} has received {amount} t, its free allocation would be "
                f"{free_caps.get(sector, 0)} t")
    require_within_cap(p.cap, plan.outstanding, free_caps, allocated)
    after = replace(plan, cap=p.cap, sectors=sectors_json(sectors),
                    amendments=plan.amendments + 1, updated_seq=ctx.seq)
    return Changes(rows=[after.row(), _amendment(p, plan, after, ctx.seq)])


def _amendment(p: AllocationPlanAmend, before: Plan, after: Plan, seq: int) -> Row:
    return Row(plan_amendments, (p.scheme, p.year, seq),
               {"scheme": p.scheme, "year": p.year, "seq": seq, "reason": p.reason,
                "cap_before": before.cap, "cap_after": after.cap,
                "sectors_before": before.sectors, "sectors_after": after.sectors}, new=True)
