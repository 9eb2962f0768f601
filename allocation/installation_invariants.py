"""The invariants of installations' allocations and debts (allocation/invariants.py runs them
with the module's others):

- each installation-year: 0 <= taken_back <= issued, a true-up's figure (final) >= 0, and
  once settled it is what the year counts as received:
  final = issued - taken_back + debt_applied - debt_created;
- each installation's debt is >= 0 and is exactly what its take-backs left owed less what its
  allocations paid off: debt = sum(debt_created) - sum(debt_applied) over its years; the row
  it last changed (highest updated_seq, then year) shows it as `debt_after`;
- per scheme and year, the units issued to installations are exactly the units of the batches
  they were issued in, each such batch a free allocation of the scheme of that vintage; and
  the units taken back from them are at most the units of those batches cancelled.
"""

from __future__ import annotations

import json
from collections import defaultdict

from allocation.schema import allocation_debts, installation_allocations
from allocation.store import batch as batch_row
from ledger.model import Issuance, LotState
from ledger.store import scans
from ledger.store.sql import SqlTransaction


def installation_allocation_problems(tx: SqlTransaction) -> list[str]:
    columns = [c.name for c in installation_allocations.columns]
    found = [dict(zip(columns, r, strict=True))
             for r in scans.table_rows(tx, installation_allocations)]
    debts = {installation: int(debt)
             for installation, debt, _seq in scans.table_rows(tx, allocation_debts)}
    problems: list[str] = []
    owed: dict[str, int] = defaultdict(int)
    last: dict[str, tuple[int, int, int]] = {}  # installation -> (seq, year, debt_after)
    issued: dict[tuple[str, int], int] = defaultdict(int)
    taken_back: dict[tuple[str, int], int] = defaultdict(int)
    batches: dict[tuple[str, int], set[str]] = defaultdict(set)
    for a in found:
        where = f"{a['installation']} {a['year']}"
        if not 0 <= a["taken_back"] <= a["issued"]:
            problems.append(f"{where}: {a['taken_back']} t taken back of {a['issued']} t")
        received = a["issued"] - a["taken_back"] + a["debt_applied"] - a["debt_created"]
        if a["final"] is not None and not 0 <= a["final"] == received:
            problems.append(f"{where}: a final allocation of {a['final']} t, settled at "
                            f"{received} t")
        owed[a["installation"]] += a["debt_created"] - a["debt_applied"]
        last[a["installation"]] = max(last.get(a["installation"], (-1, -1, 0)),
                                      (a["updated_seq"], a["year"], a["debt_after"]))
        year = (a["scheme"], a["year"])
        issued[year] += a["issued"]
        taken_back[year] += a["taken_back"]
        batches[year].update(json.loads(a["batches"]))
    for installation in sorted(set(owed) | set(debts)):
        debt = debts.get(installation, 0)
        if debt < 0 or debt != owed.get(installation, 0):
            problems.append(f"{installation}: a debt of {debt} t; its take-backs and "
                            f"allocations leave {owed.get(installation, 0)} t owed")
        if installation in last and last[installation][2] != debt:
            problems.append(f"{installation}: a debt of {debt} t; its latest allocation row "
                            f"({last[installation][1]}) shows {last[installation][2]} t")
    cancelled: dict[str, int] = defaultdict(int)
    for (_account, batch, state), quantity in scans.lot_totals(tx).items():
        if state == LotState.cancelled.value:
            cancelled[batch] += quantity
    for (scheme, plan_year), names in sorted(batches.items()):
        problems += _batches_problems(tx, scheme, plan_year, sorted(names),
                                      issued[(scheme, plan_year)],
                                      taken_back[(scheme, plan_year)], cancelled)
    return problems


def _batches_problems(tx: SqlTransaction, scheme: str, year: int, names: list[str],
                      issued: int, taken_back: int, cancelled: dict[str, int]) -> list[str]:
    where = f"{scheme} {year} free allocation"
    problems: list[str] = []
    total = 0
    for name in names:
        found = batch_row(tx, name)
        if found is None or (found.scheme, found.vintage, found.issuance) != (
                scheme, year, Issuance.free_allocation.value):
            problems.append(f"{where}: batch {name} is not a {scheme} {year} free allocation")
            continue
        total += found.quantity
    if total != issued:
        problems.append(f"{where}: installations were issued {issued} t, their batches "
                        f"{names} hold {total} t")
    if taken_back > sum(cancelled[name] for name in names):
        problems.append(f"{where}: {taken_back} t taken back, {sum(cancelled[n] for n in names)}"
                        " t of its batches cancelled")
    return problems
