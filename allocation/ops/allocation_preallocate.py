"""allocation_preallocate: the registry issues the year's pre-allocation to the listed
installations, one lot each in the account listed with it, all in one new batch: the plan's
share of what the previous year's verified output earns, less any debt carried forward."""

from __future__ import annotations

from dataclasses import dataclass

from allocation.benchmark import allocation_tonnes
from allocation.debts import Debt, apply_debt, load_debt
from allocation.fields import parse_targets
from allocation.free_allocation import (
    Target,
    allocation_batch,
    allocation_lots,
    load_target,
    require_issuable,
    require_issuer,
    require_new_batch,
    require_unit,
    sector_changes,
)
from allocation.installation_model import (
    PREALLOCATION,
    InstallationAllocation,
    find_allocation,
    load_output,
)
from allocation.plan_model import load_plan
from allocation.reasons import AllocationReason
from allocation.rules import required_rules
from ledger.effects import Changes, LotEffects, Row
from ledger.errors import Rejected
from ledger.instructions import define_schema
from ledger.model import Account
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class AllocationPreallocate(Payload):
    scheme: str
    year: int
    batch: str
    targets: str  # JSON list of [installation, account]


SCHEMA = define_schema(
    "allocation_preallocate", "AllocationPreallocate", AllocationPreallocate,
    ("scheme", "string", "id"),
    ("year", "uint64", "year"),
    ("batch", "string", "id"),
    ("targets", "string", "allocation_targets"),
)


def allocation_preallocate(p: AllocationPreallocate, ctx: Context) -> Changes:
    """Each installation's pre-allocation(Y) = allocation_tonnes(output(Y-1), sector(Y),
    preallocation_bp), less its debt; the plan and each sector take the units issued. When
    every installation's figure is 0 after its debt, no batch is made, and the rows still say
    what each received."""
    rules = ctx.rules(p.scheme)
    share_bp = required_rules(rules).preallocation_bp
    require_issuer(ctx, rules)
    plan = load_plan(ctx, p.scheme, p.year)
    require_new_batch(ctx, p.batch)
    rows: list[Row] = []
    shares: list[tuple[Account, int]] = []
    by_sector: dict[str, int] = {}
    for installation_id, account_id in parse_targets("targets", p.targets):
        target = load_target(ctx, plan, installation_id, account_id)
        allocation, debt = _preallocation(ctx, p, target, share_bp)
        rows.append(allocation.row())
        if debt.updated_seq == ctx.seq:
            rows.append(debt.row())
        by_sector[allocation.sector] = by_sector.get(allocation.sector, 0) + allocation.issued
        shares.append((target.account, allocation.issued))
    total = sum(by_sector.values())
    rows += [s.row() for s in sector_changes(ctx, plan, by_sector, {})]
    rows.append(plan.issuing(total, ctx.seq).row())
    if total == 0:
        return Changes(rows=rows)
    batch = allocation_batch(ctx, rules, p.year, p.batch, total)
    lots = allocation_lots(ctx, rules, batch, shares)
    return Changes(batches=[batch], lots=LotEffects(created=lots), rows=rows)


def _preallocation(ctx: Context, p: AllocationPreallocate, target: Target, share_bp: int
                   ) -> tuple[InstallationAllocation, Debt]:
    """One installation's pre-allocation, and its debt after."""
    installation = target.installation.id
    require_issuable(ctx, target, p.year)
    earlier = find_allocation(ctx, installation, p.year)
    if earlier is not None:
        raise Rejected(AllocationReason.already_preallocated,
                       f"{installation} {p.year}: {earlier.preallocated} t by {earlier.source}")
    output = load_output(ctx, installation, p.year - 1)
    require_unit(output, target.sector)
    figure = allocation_tonnes(output.amount, target.sector, share_bp)
    after_debt = apply_debt(load_debt(ctx, installation), figure, ctx.seq)
    allocation = InstallationAllocation(
        installation=installation, year=p.year, scheme=p.scheme, sector=target.sector.sector,
        account=target.account.id, source=PREALLOCATION, preallocated=figure, final=None,
        issued=after_debt.issued, taken_back=0, debt_applied=after_debt.applied,
        debt_created=0, batches=(p.batch,) if after_debt.issued else (),
        allocated_seq=ctx.seq, trued_up_seq=None, updated_seq=ctx.seq,
        debt_after=after_debt.debt.debt, new=True)
    return allocation, after_debt.debt
