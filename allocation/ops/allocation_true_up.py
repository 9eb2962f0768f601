"""allocation_true_up: once the year's output is verified, the registry settles the listed
installations' allocations: the difference issued (in one new batch) or taken back from the
account's tradable units, and what cannot be taken back recorded as a debt."""

from __future__ import annotations

from dataclasses import dataclass, field

from allocation.benchmark import allocation_tonnes
from allocation.debts import apply_debt, load_debt
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
from allocation.installation_model import load_allocation, load_output
from allocation.plan_model import load_plan
from allocation.reasons import AllocationReason
from allocation.rules import required_rules
from allocation.take_back import TakeBacks
from ledger.effects import Changes, LotEffects, Row
from ledger.errors import require
from ledger.instructions import define_schema
from ledger.model import Account
from ledger.ops import Context
from ledger.payloads import Payload


@dataclass(frozen=True)
class AllocationTrueUp(Payload):
    scheme: str
    year: int
    batch: str
    targets: str  # JSON list of [installation, account]


SCHEMA = define_schema(
    "allocation_true_up", "AllocationTrueUp", AllocationTrueUp,
    ("scheme", "string", "id"),
    ("year", "uint64", "year"),
    ("batch", "string", "id"),
    ("targets", "string", "allocation_targets"),
)


@dataclass
class _Settlement:
    """What one instruction's true-ups add up to, installation by installation."""

    take_backs: TakeBacks
    rows: list[Row] = field(default_factory=list)
    shares: list[tuple[Account, int]] = field(default_factory=list)  # lots to issue, in order
    added: dict[str, int] = field(default_factory=dict)  # sector -> units issued
    removed: dict[str, int] = field(default_factory=dict)  # sector -> units taken back

    @property
    def issued(self) -> int:
        return sum(self.added.values())

    @property
    def taken_back(self) -> int:
        return sum(self.removed.values())


def allocation_true_up(p: AllocationTrueUp, ctx: Context) -> Changes:
    """Each installation: entitled = allocation_tonnes(output(Y), sector(Y)); received =
    issued - taken_back + debt_applied (nothing is owed for the year before it is settled);
    delta = entitled - received. A positive delta pays off
    the installation's debt first and the rest is issued, a lot in this instruction's batch
    (made only if some installation receives units); a negative one is taken back
    (allocation/take_back.py), its shortfall owed as a debt."""
    rules = ctx.rules(p.scheme)
    required_rules(rules)
    require_issuer(ctx, rules)
    plan = load_plan(ctx, p.scheme, p.year)
    require_new_batch(ctx, p.batch)
    settled = _Settlement(TakeBacks(ctx))
    for installation_id, account_id in parse_targets("targets", p.targets):
        _true_up(ctx, p, load_target(ctx, plan, installation_id, account_id), settled)
    rows = settled.rows + [s.row() for s in sector_changes(ctx, plan, settled.added,
                                                           settled.removed)]
    rows.append(plan.taking_back(settled.taken_back, ctx.seq)
                .issuing(settled.issued, ctx.seq).row())
    lots = settled.take_backs.lots()
    if settled.issued == 0:
        return Changes(lots=lots, rows=rows)
    batch = allocation_batch(ctx, rules, p.year, p.batch, settled.issued)
    created = allocation_lots(ctx, rules, batch, settled.shares)
    return Changes(batches=[batch], rows=rows,
                   lots=LotEffects(lots.closed, lots.created + created, lots.updated))


def _true_up(ctx: Context, p: AllocationTrueUp, target: Target, settled: _Settlement) -> None:
    installation = target.installation.id
    allocation = load_allocation(ctx, installation, p.year)
    require(allocation.final is None, AllocationReason.already_trued_up,
            f"{installation} {p.year}: final {allocation.final} t")
    output = load_output(ctx, installation, p.year)
    require_unit(output, target.sector)
    final = allocation_tonnes(output.amount, target.sector)
    delta = final - allocation.received
    debt = load_debt(ctx, installation)
    sector = allocation.sector
    if delta > 0:
        require_issuable(ctx, target, p.year)
        after_debt = apply_debt(debt, delta, ctx.seq)
        allocation = allocation.issuing(after_debt.issued, after_debt.applied, p.batch, ctx.seq)
        debt = after_debt.debt
        settled.added[sector] = settled.added.get(sector, 0) + after_debt.issued
        settled.shares.append((target.account, after_debt.issued))
    elif delta < 0:
        result = settled.take_backs.take(allocation, -delta, debt)
        allocation, debt = result.allocation, result.debt
        settled.removed[sector] = settled.removed.get(sector, 0) + result.taken
    if debt.updated_seq == ctx.seq:
        settled.rows.append(debt.row())
    settled.rows.append(allocation.trued_up(final, ctx.seq).owing(debt.debt).row())
