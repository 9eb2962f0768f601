"""The installation-allocation leaf's reads (allocation/installation_leaves.py): what each
installation received for a year, and what it owed after, read from installation_allocations
in the caller's transaction.

A leaf's value is the RFC 8785 canonical JSON of

    {"account","batches","debt_after","debt_applied","debt_created","final","installation",
     "issued","preallocated","scheme","sector","source","taken_back","year"}

an installation_allocations row without its journal positions, `batches` a list of batch ids,
`final` null until the year is trued up; `debt_after` is the installation's debt once the row
last changed (every change of a debt writes the row of the year it acts on).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from anchoring.auditor.state_keys import typed_key
from ledger.canonical import canonical_json
from ledger.store.sql import SqlTransaction

INSTALLATION_ALLOCATION = "installation_allocation"  # the leaf kind's name
AllocationId = tuple[str, str]
"""(installation, year in decimal): a leaf's id, as the audit's triggers record it."""

_CHUNK = 250  # ids per statement (two parameters each): under every database's limit
_NAMES = ("installation", "year", "scheme", "sector", "account", "source", "preallocated",
          "final", "issued", "taken_back", "debt_applied", "debt_created", "debt_after",
          "batches")
_SQL = f"SELECT {', '.join(_NAMES)} FROM installation_allocations"
_INTEGERS = frozenset({"year", "preallocated", "issued", "taken_back", "debt_applied",
                       "debt_created", "debt_after"})


def installation_allocation_key(allocation: AllocationId) -> bytes:
    installation, year = allocation
    return typed_key(INSTALLATION_ALLOCATION, installation, str(int(year)))


def installation_allocation_value(row: Sequence[Any]) -> bytes:
    """An installation_allocations row (the columns of _SQL) as its leaf's value."""
    values = dict(zip(_NAMES, row, strict=True))
    record: dict[str, Any] = {name: int(value) if name in _INTEGERS else value
                              for name, value in values.items()}
    record["final"] = None if values["final"] is None else int(values["final"])
    record["batches"] = json.loads(values["batches"])
    return canonical_json(record)


def installation_allocation_leaves(tx: SqlTransaction, ids: Iterable[AllocationId]
                                   ) -> dict[bytes, bytes | None]:
    wanted = sorted({(installation, int(year)) for installation, year in ids})
    leaves: dict[bytes, bytes | None] = {
        installation_allocation_key((i, str(y))): None for i, y in wanted}
    for start in range(0, len(wanted), _CHUNK):
        params: dict[str, Any] = {}
        pairs = []
        for n, (installation, year) in enumerate(wanted[start:start + _CHUNK]):
            params[f"i{n}"], params[f"y{n}"] = installation, year
            pairs.append(f"(:i{n}, :y{n})")
        for row in tx.all(f"{_SQL} WHERE (installation, year) IN (VALUES {', '.join(pairs)})",
                          params):
            leaves[installation_allocation_key((row[0], str(row[1])))] = \
                installation_allocation_value(row)
    return leaves


def all_installation_allocation_leaves(tx: SqlTransaction) -> Iterator[tuple[bytes, bytes]]:
    for row in tx.all(_SQL):
        yield installation_allocation_key((row[0], str(row[1]))), \
            installation_allocation_value(row)
