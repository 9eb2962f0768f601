"""The plan leaf's reads (allocation/plan_leaves.py): each plan with what its sectors have
received, read from allocation_plans and sector_allocations in the caller's transaction.

A leaf's value is the RFC 8785 canonical JSON of

    {"amendments","cap","issued","on_offer","reserve","scheme","sectors","taken_back",
     "to_auction","year"}

a plan row without its journal positions, its `sectors` the plan's list (sorted by name) each
with `allocated`, the free allocation the sector has received so far:

    {"allocated","benchmark","factors","free_cap","output_unit","sector"}

so that anyone holding a proven leaf can check `issued - taken_back + reserve + to_auction <= cap`
and, per sector, `allocated <= free_cap` (docs/allocation.md, "The plan").
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from anchoring.auditor.state_keys import typed_key
from ledger.canonical import canonical_json
from ledger.store.sql import SqlTransaction

PLAN = "allocation_plan"  # the leaf kind's name
PlanId = tuple[str, str]
"""(scheme, year in decimal): a plan leaf's id, as the audit's triggers record it."""

_CHUNK = 250  # plans per statement (two parameters each): under every database's limit
_PLAN_SQL = ("SELECT scheme, year, cap, sectors, reserve, to_auction, on_offer, issued, "
             "taken_back, amendments FROM allocation_plans")
_SECTORS_SQL = "SELECT scheme, year, sector, allocated FROM sector_allocations"
_COUNTERS = ("cap", "reserve", "to_auction", "on_offer", "issued", "taken_back", "amendments")

Allocated = dict[tuple[str, int], dict[str, int]]  # (scheme, year) -> sector -> allocated


def plan_key(plan: PlanId) -> bytes:
    scheme, year = plan
    return typed_key(PLAN, scheme, str(int(year)))


def plan_value(row: Sequence[Any], allocated: dict[str, int]) -> bytes:
    """A plan row (the columns of _PLAN_SQL) and its sectors' allocations as its leaf's
    value."""
    scheme, year, cap, sectors, *counters = row
    values = dict(zip(_COUNTERS, (int(cap), *(int(c) for c in counters)), strict=True))
    return canonical_json({
        "scheme": scheme, "year": int(year), **values,
        "sectors": [{**sector, "allocated": allocated.get(sector["sector"], 0)}
                    for sector in json.loads(sectors)]})


def plan_leaves(tx: SqlTransaction, plans: Iterable[PlanId]) -> dict[bytes, bytes | None]:
    wanted = sorted({(scheme, int(year)) for scheme, year in plans})
    leaves: dict[bytes, bytes | None] = {plan_key((s, str(y))): None for s, y in wanted}
    for start in range(0, len(wanted), _CHUNK):
        params: dict[str, Any] = {}
        pairs = []
        for i, (scheme, year) in enumerate(wanted[start:start + _CHUNK]):
            params[f"s{i}"], params[f"y{i}"] = scheme, year
            pairs.append(f"(:s{i}, :y{i})")
        where = f" WHERE (scheme, year) IN (VALUES {', '.join(pairs)})"
        allocated = _allocated(tx.all(_SECTORS_SQL + where, params))
        for row in tx.all(_PLAN_SQL + where, params):
            key = (row[0], int(row[1]))
            leaves[plan_key((row[0], str(key[1])))] = plan_value(row, allocated.get(key, {}))
    return leaves


def all_plan_leaves(tx: SqlTransaction) -> Iterator[tuple[bytes, bytes]]:
    allocated = _allocated(tx.all(_SECTORS_SQL))
    for row in tx.all(_PLAN_SQL):
        key = (row[0], int(row[1]))
        yield plan_key((row[0], str(key[1]))), plan_value(row, allocated.get(key, {}))


def _allocated(rows: Iterable[Sequence[Any]]) -> Allocated:
    found: Allocated = defaultdict(dict)
    for scheme, year, sector, allocated in rows:
        found[(scheme, int(year))][sector] = int(allocated)
    return found
