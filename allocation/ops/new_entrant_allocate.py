"""new_entrant_allocate: the registry allocates a stated quantity to a new installation from
the market-stability reserve, with its reason."""

from __future__ import annotations

from dataclasses import dataclass

from allocation.debts import apply_debt, load_debt
from allocation.free_allocation import (
    allocation_batch,
    allocation_lots,
    load_target,
    require_issuable,
    require_issuer,
    require_new_batch,
)
from allocation.installation_model import NEW_ENTRANT, InstallationAllocation, find_allocation
from allocation.plan_model import load_plan, load_sector_allocation
from allocation.reasons import AllocationReason
from allocation.reserve import MovementKind, movement_row
from allocation.rules import required_rules
from allocation.stated_reason import require_reason
from ledger.effects import Changes, LotEffects, Row
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class NewEntrantAllocate(Payload):
    scheme: str
    year: int
    installation: str
    account: str
    batch: str
    quantity: int
    reason: str


SCHEMA = define_schema(
    "new_entrant_allocate", "NewEntrantAllocate", NewEntrantAllocate,
    ("scheme", "string", "id"),
    ("year", "uint64", "year"),
    ("installation", "string", "id"),
    ("account", "string", "id"),
    ("batch", "string", "id"),
    ("quantity", "uint64", "quantity"),
    ("reason", "string", "text"),
)


def new_entrant_allocate(p: NewEntrantAllocate, ctx: Context) -> Changes:
    rules = ctx.rules(p.scheme)
    required_rules(rules)
    require_issuer(ctx, rules)
    require_reason(SCHEMA.op, p.reason)
    plan = load_plan(ctx, p.scheme, p.year)
    target = load_target(ctx, plan, p.installation, p.account)
    require_issuable(ctx, target, p.year)
    require(find_allocation(ctx, p.installation, p.year) is None,
            AllocationReason.already_preallocated, f"{p.installation} {p.year}")
    require_new_batch(ctx, p.batch)
    require(p.quantity <= plan.reserve, AllocationReason.reserve_insufficient,
            f"{p.quantity} t asked, {plan.reserve} t in the {p.scheme} {p.year} reserve")
    # a debt carried forward is deducted first: only the rest leaves the reserve
    debt = apply_debt(load_debt(ctx, p.installation), p.quantity, ctx.seq)
    issued = debt.issued
    plan_after = plan.issuing_from_reserve(issued, ctx.seq)
    sector = load_sector_allocation(ctx, p.scheme, p.year, target.sector.sector).adding(
        issued, target.sector.free_cap, ctx.seq)
    allocation = InstallationAllocation(
        installation=p.installation, year=p.year, scheme=p.scheme, sector=target.sector.sector,
        account=target.account.id, source=NEW_ENTRANT, preallocated=p.quantity, final=None,
        issued=0, taken_back=0, debt_applied=0, debt_created=0, batches=(),
        allocated_seq=ctx.seq, trued_up_seq=None, updated_seq=ctx.seq, new=True,
    ).issuing(issued, debt.applied, p.batch if issued else None, ctx.seq).owing(debt.debt.debt)
    rows: list[Row] = [plan_after.row(), sector.row(), allocation.row()]
    if debt.changed:
        rows.append(debt.debt.row())
    if not issued:  # the debt took it all: nothing is issued, nothing leaves the reserve
        return Changes(rows=rows)
    rows.append(movement_row(ctx, p.scheme, p.year, MovementKind.new_entrant, issued, p.reason,
                             installation=p.installation))
    batch = allocation_batch(ctx, rules, p.year, p.batch, issued)
    lots = allocation_lots(ctx, rules, batch, [(target.account, issued)])
    return Changes(batches=[batch], lots=LotEffects(created=lots), rows=rows)
