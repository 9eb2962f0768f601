"""The invariants of plans (allocation/invariants.py runs them with the module's others):

- each plan keeps its cap: issued - taken_back + reserve + to_auction <= cap, with
  0 <= on_offer <= to_auction, reserve >= 0 and 0 <= taken_back <= issued;
- each sector's free allocation so far is at most its free_cap in the plan, a sector the plan
  no longer names has none, and it is exactly what the sector's installations keep of what
  they were issued for the year (issued - taken_back, summed);
- the plan's `issued` is exactly the units of the batches of its scheme and vintage that the
  allocation operations issued (journal entries of those operations), and its `taken_back`
  exactly what its installations' take-backs took, never more than those batches' cancelled
  units (a registry's `cancel` of them is cancelled too, so this one is at most).
"""

from __future__ import annotations

from collections import defaultdict

from allocation import store as plan_store
from allocation.plan_model import Plan
from allocation.schema import allocation_plans, sector_allocations
from ledger.model import LotState
from ledger.store import scans
from ledger.store.sql import SqlTransaction

# the operations that bring a plan's units into being (docs/allocation.md)
ISSUING_OPS = ("allocation_preallocate", "allocation_true_up", "new_entrant_allocate",
               "auction_clear")

Year = tuple[str, int]  # (scheme, year)


def plan_problems(tx: SqlTransaction) -> list[str]:
    plans = [Plan(*row) for row in scans.table_rows(tx, allocation_plans)]
    kept, taken_back = _installations_kept(tx)
    batches = _allocation_batches(tx)
    cancelled = _cancelled(tx)
    problems: list[str] = []
    sectors: dict[Year, dict[str, int]] = defaultdict(dict)
    for scheme, year, sector, allocated, _seq in scans.table_rows(tx, sector_allocations):
        sectors[(scheme, int(year))][sector] = int(allocated)
    for plan in plans:
        key = (plan.scheme, plan.year)
        problems += _counter_problems(plan)
        problems += _sector_problems(plan, sectors.pop(key, {}), kept.pop(key, {}))
        issued = sum(quantity for _batch, quantity in batches.get(key, []))
        if plan.issued != issued:
            problems.append(f"plan {plan.scheme} {plan.year}: {plan.issued} t issued, the "
                            f"batches its operations issued hold {issued} t")
        if plan.taken_back != taken_back.pop(key, 0):
            problems.append(f"plan {plan.scheme} {plan.year}: {plan.taken_back} t taken back, "
                            f"its installations' take-backs took a different amount")
        units_cancelled = sum(cancelled.get(batch, 0) for batch, _q in batches.get(key, []))
        if plan.taken_back > units_cancelled:
            problems.append(f"plan {plan.scheme} {plan.year}: {plan.taken_back} t taken back, "
                            f"{units_cancelled} t of its batches cancelled")
        batches.pop(key, None)
    problems += [f"sector allocations of {key}, which has no plan" for key in sorted(sectors)]
    problems += [f"installation allocations of {key}, which has no plan"
                 for key in sorted(set(kept) | set(taken_back))]
    problems += [f"batches {[b for b, _q in found]} issued for {key}, which has no plan"
                 for key, found in sorted(batches.items())]
    return problems


def _counter_problems(plan: Plan) -> list[str]:
    where = f"plan {plan.scheme} {plan.year}"
    problems = []
    if plan.outstanding > plan.cap:
        problems.append(f"{where}: {plan.outstanding} t outstanding over a cap of {plan.cap} t")
    if not (0 <= plan.on_offer <= plan.to_auction and plan.reserve >= 0
            and 0 <= plan.taken_back <= plan.issued):
        problems.append(f"{where}: counters out of range: on_offer {plan.on_offer}, "
                        f"to_auction {plan.to_auction}, reserve {plan.reserve}, "
                        f"taken_back {plan.taken_back}, issued {plan.issued}")
    return problems


def _sector_problems(plan: Plan, allocated: dict[str, int], kept: dict[str, int]
                     ) -> list[str]:
    where = f"plan {plan.scheme} {plan.year}"
    named = plan.sector_plans()
    problems = []
    for sector in sorted(set(allocated) | set(kept) | set(named)):
        amount = allocated.get(sector, 0)
        free_cap = named[sector].free_cap if sector in named else 0
        if amount > free_cap:
            problems.append(f"{where}: sector {sector} has received {amount} t, its free "
                            f"allocation is {free_cap} t")
        if amount != kept.get(sector, 0):
            problems.append(f"{where}: sector {sector} has received {amount} t, its "
                            f"installations keep {kept.get(sector, 0)} t")
    return problems


def _installations_kept(tx: SqlTransaction
                        ) -> tuple[dict[Year, dict[str, int]], dict[Year, int]]:
    """Per plan, what each sector's installations keep (issued - taken_back), and what was
    taken back from them."""
    kept: dict[Year, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    taken_back: dict[Year, int] = defaultdict(int)
    for found in plan_store.installation_years(tx):
        key = (found.scheme, found.year)
        kept[key][found.sector] += found.issued - found.taken_back
        taken_back[key] += found.taken_back
    return ({key: dict(sectors) for key, sectors in kept.items()}, dict(taken_back))


def _allocation_batches(tx: SqlTransaction) -> dict[Year, list[tuple[str, int]]]:
    """The batches the allocation operations issued, by scheme and vintage."""
    found: dict[Year, list[tuple[str, int]]] = defaultdict(list)
    for batch in plan_store.batches_issued_by(tx, ISSUING_OPS):
        found[(batch.scheme, batch.vintage)].append((batch.id, batch.quantity))
    return dict(found)


def _cancelled(tx: SqlTransaction) -> dict[str, int]:
    cancelled: dict[str, int] = defaultdict(int)
    for (_account, batch, state), quantity in scans.lot_totals(tx).items():
        if state == LotState.cancelled.value:
            cancelled[batch] += quantity
    return cancelled
