"""installation_close: the registry records an installation's closure: its last year of
allocation. Later years' allocation is refused, and any already issued is taken back."""

from __future__ import annotations

from dataclasses import dataclass

from allocation.closures import LAST_YEAR, find_closure
from allocation.debts import Debt, load_debt
from allocation.installation_model import InstallationAllocation, find_allocation
from allocation.plan_model import load_plan, load_sector_allocation
from allocation.reasons import AllocationReason
from allocation.schema import installation_closures
from allocation.stated_reason import require_reason
from allocation.take_back import TakeBacks
from compliance.model import load_installation
from ledger.effects import Changes, Row
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class InstallationClose(Payload):
    installation: str
    last_year: int
    reason: str


SCHEMA = define_schema(
    "installation_close", "InstallationClose", InstallationClose,
    ("installation", "string", "id"),
    ("lastYear", "uint64", "year"),
    ("reason", "string", "text"),
)


def installation_close(p: InstallationClose, ctx: Context) -> Changes:
    ctx.require_registry()
    require_reason(SCHEMA.op, p.reason)
    installation = load_installation(ctx, p.installation)
    closure = find_closure(ctx, installation.id)
    require(closure is None, AllocationReason.already_closed,
            f"{installation.id}: last year {closure['last_year'] if closure else ''}")
    rows = [Row(installation_closures, (installation.id,),
                {"installation": installation.id, "last_year": p.last_year,
                 "reason": p.reason, "closed_seq": ctx.seq}, new=True)]
    take_backs = TakeBacks(ctx)
    debt = load_debt(ctx, installation.id)
    owed_before = debt.debt
    for year in range(p.last_year + 1, LAST_YEAR + 1):
        allocation = find_allocation(ctx, installation.id, year)
        if allocation is not None:
            debt, changed = _take_back(ctx, take_backs, allocation, debt)
            rows += changed
    if debt.debt != owed_before:
        rows.append(debt.row())
    return Changes(lots=take_backs.lots(), rows=rows)


def _take_back(ctx: Context, take_backs: TakeBacks, allocation: InstallationAllocation,
               debt: Debt) -> tuple[Debt, list[Row]]:
    """Take back a year's allocation as a true-up to zero would: everything it received
    (a debt deducted from it is owed again), what cannot be found becoming debt."""
    result = take_backs.take(allocation, allocation.received, debt)
    plan = load_plan(ctx, allocation.scheme, allocation.year).taking_back(result.taken, ctx.seq)
    sector = load_sector_allocation(ctx, allocation.scheme, allocation.year,
                                    allocation.sector).removing(result.taken, ctx.seq)
    after = result.allocation.trued_up(0, ctx.seq)
    return result.debt, [plan.row(), sector.row(), after.row()]
