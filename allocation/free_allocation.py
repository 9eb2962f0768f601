"""What pre-allocation and the true-up share: the checks on each (installation, account) they
name, the figure's sector totals, and the one batch an instruction issues its lots in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from allocation.closures import require_open
from allocation.installation_model import VerifiedOutput
from allocation.issuance import allowance_batch, consecutive_lots
from allocation.plan_model import Plan, SectorAllocation, load_sector_allocation
from allocation.reasons import AllocationReason
from allocation.sectors import SectorPlan
from compliance.model import Installation, load_installation
from ledger.errors import Reason, require
from ledger.model import Account, AccountType, Batch, Issuance, Lot
from ledger.ops import Context
from ledger.ops.holding_rules import require_may_hold
from ledger.schemes import SchemeRules


@dataclass(frozen=True)
class Target:
    installation: Installation
    account: Account
    sector: SectorPlan


def require_issuer(ctx: Context, rules: SchemeRules) -> None:
    issuer = ctx.require_registry()
    require(not rules.issuers or issuer.id in rules.issuers, Reason.role_not_permitted,
            f"{issuer.id} does not issue {rules.scheme} units")


def load_target(ctx: Context, plan: Plan, installation_id: str, account_id: str) -> Target:
    """An installation of the plan's scheme whose sector the plan names, and a compliance
    account of its emitter (unfrozen) to receive its units."""
    installation = load_installation(ctx, installation_id)
    require(installation.scheme == plan.scheme, AllocationReason.installation_not_in_scheme,
            f"{installation.id} is covered by {installation.scheme}, not {plan.scheme}")
    sector = plan.sector(installation.sector)
    account = ctx.unfrozen_account(account_id)
    require(account.participant == installation.emitter
            and account.type == AccountType.compliance,
            AllocationReason.not_emitters_compliance_account,
            f"{account.id} is {account.participant}'s {account.type.value} account; "
            f"{installation.id} is {installation.emitter}'s")
    return Target(installation, account, sector)


def require_issuable(ctx: Context, target: Target, year: int) -> None:
    """Nothing more is issued to a closed installation for a year after its last."""
    require_open(ctx, target.installation.id, year)


def require_unit(output: VerifiedOutput, sector: SectorPlan) -> None:
    require(output.unit == sector.output_unit, AllocationReason.output_unit_mismatch,
            f"{output.installation} {output.year}: output in {output.unit}, the {sector.sector} "
            f"sector counts in {sector.output_unit}")


def sector_changes(ctx: Context, plan: Plan, added: dict[str, int], removed: dict[str, int]
                   ) -> list[SectorAllocation]:
    """Each sector's free allocation after units added to it and taken back from it
    (`sector_cap_exceeded` past its free_cap), in sector order."""
    sectors = plan.sector_plans()
    changed = []
    for name in sorted(set(added) | set(removed)):
        current = load_sector_allocation(ctx, plan.scheme, plan.year, name)
        current = current.removing(removed.get(name, 0), ctx.seq)
        if added.get(name, 0):
            current = current.adding(added[name], sectors[name].free_cap, ctx.seq)
        changed.append(current)
    return changed


def require_new_batch(ctx: Context, batch: str) -> None:
    require(ctx.ws.batches.get(batch) is None, Reason.batch_exists, batch)


def allocation_batch(ctx: Context, rules: SchemeRules, year: int, batch_id: str,
                     quantity: int) -> Batch:
    """A free-allocation batch of allowances of vintage `year`."""
    return allowance_batch(rules.scheme, year, batch_id, quantity, Issuance.free_allocation,
                           ctx.seq)


def allocation_lots(ctx: Context, rules: SchemeRules, batch: Batch,
                    shares: Iterable[tuple[Account, int]]) -> list[Lot]:
    """One tradable lot per (account, quantity > 0), contiguous serials in the order given;
    each account must be one that may hold the batch."""
    shares = list(shares)
    for account, quantity in shares:
        if quantity:
            require_may_hold(account, batch, rules)
    return consecutive_lots(ctx, batch, ((account.id, quantity) for account, quantity in shares))
