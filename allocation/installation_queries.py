"""Reading installations' allocations back, for the interfaces: what each installation received
for each year, with every figure's inputs (the verified output, the sector's benchmark and
factors, the share) so that anyone can recompute it (allocation.benchmark), and the debts
carried forward. Each function reads one snapshot of the store (through allocation/store.py)
and returns plain values.

A figure is recomputed from the plan and the scheme's rules as they are now: `matches` says
whether that gives the recorded figure (an amendment of the plan or of the share since makes
it differ; the journal keeps the inputs in force when it was issued).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from allocation import store as allocation_store
from allocation.benchmark import allocation_figure, allocation_tonnes, plain
from allocation.installation_model import PREALLOCATION
from allocation.rules import BASIS_POINTS, allocation_rules
from allocation.sectors import SectorPlan, parse_sectors
from allocation.store import AllocationRow
from ledger.store.database import Store
from ledger.store.sql import SqlTransaction


@dataclass(frozen=True)
class FigureInputs:
    """One figure and what it is computed from: output x benchmark x factors x share_bp/10000,
    exactly (`exact`), rounded once to whole tonnes, half up (`tonnes`)."""

    output_year: int
    output: str | None  # the verified output (None: not verified yet)
    unit: str | None
    verifier: str | None
    benchmark: str | None  # None: the plan names no such sector (any more)
    factors: dict[str, str]
    share_bp: int
    exact: str | None
    tonnes: int | None
    recorded: int | None  # the figure the ledger recorded
    matches: bool


@dataclass(frozen=True)
class AllocationView:
    """What an installation received for a year (docs/allocation.md): received = issued -
    taken_back + debt_applied - debt_created; once settled (trued up or closed) it is final."""

    installation: str
    year: int
    scheme: str
    sector: str
    account: str
    source: str  # preallocation | new_entrant
    preallocated: int
    final: int | None
    issued: int
    taken_back: int
    debt_applied: int
    debt_created: int
    debt_after: int
    received: int
    batches: list[str]
    allocated_seq: int
    trued_up_seq: int | None
    preallocation: FigureInputs | None  # for a pre-allocation: last year's output, the share
    true_up: FigureInputs | None  # once trued up: this year's output, the whole


@dataclass(frozen=True)
class DebtView:
    installation: str
    debt: int
    updated_seq: int


def _sector(tx: SqlTransaction, scheme: str, year: int, name: str) -> SectorPlan | None:
    found = allocation_store.plan(tx, scheme, year)
    if found is None:
        return None
    return next((s for s in parse_sectors(found.sectors) if s.sector == name), None)


def _inputs(tx: SqlTransaction, row: AllocationRow, output_year: int, share_bp: int,
            recorded: int | None) -> FigureInputs:
    output = allocation_store.verified_output(tx, row.installation, output_year)
    sector = _sector(tx, row.scheme, row.year, row.sector)
    exact = tonnes = None
    if output is not None and sector is not None and output.unit == sector.output_unit:
        exact = plain(allocation_figure(Decimal(output.output), sector, share_bp))
        tonnes = allocation_tonnes(Decimal(output.output), sector, share_bp)
    return FigureInputs(
        output_year, None if output is None else output.output,
        None if output is None else output.unit, None if output is None else output.verifier,
        None if sector is None else str(sector.benchmark),
        {} if sector is None else {n: str(v) for n, v in sector.factors}, share_bp,
        exact, tonnes, recorded, tonnes is not None and tonnes == recorded)


def _share_bp(tx: SqlTransaction, scheme: str) -> int:
    rules = tx.scheme_rules(scheme)
    found = None if rules is None else allocation_rules(rules)
    return BASIS_POINTS if found is None else found.preallocation_bp


def _view(tx: SqlTransaction, row: AllocationRow) -> AllocationView:
    preallocation = None
    if row.source == PREALLOCATION:
        preallocation = _inputs(tx, row, row.year - 1, _share_bp(tx, row.scheme),
                                row.preallocated)
    true_up = None
    if row.final is not None:
        true_up = _inputs(tx, row, row.year, BASIS_POINTS, row.final)
    return AllocationView(
        row.installation, row.year, row.scheme, row.sector, row.account, row.source,
        row.preallocated, row.final, row.issued, row.taken_back, row.debt_applied,
        row.debt_created, row.debt_after,
        row.issued - row.taken_back + row.debt_applied - row.debt_created,
        json.loads(row.batches), row.allocated_seq, row.trued_up_seq, preallocation, true_up)


def installation_allocations_of(store: Store, installation: str) -> list[AllocationView]:
    """The installation's allocations, by year, each with its figures' inputs."""
    with store.read() as tx:
        return [_view(tx, row) for row in allocation_store.allocations_of(tx, installation)]


def allocations_for_year(store: Store, scheme: str, year: int) -> list[AllocationView]:
    """Every installation's allocation for a scheme's year, by installation."""
    with store.read() as tx:
        return [_view(tx, row) for row in allocation_store.allocations_for_year(tx, scheme, year)]


def verified_outputs_of(store: Store, installation: str) -> list[dict[str, Any]]:
    """The installation's verified outputs, by year."""
    with store.read() as tx:
        return [row._asdict() for row in allocation_store.verified_outputs_of(tx, installation)]


def debts(store: Store) -> list[DebtView]:
    """Every installation that owes (or has owed) a debt, by installation."""
    with store.read() as tx:
        return [DebtView(row.installation, row.debt, row.updated_seq)
                for row in allocation_store.debts(tx)]
