"""The plan and installation queries' reads (allocation/queries.py,
allocation/installation_queries.py) and their invariants': each SQL statement over
allocation_plans, sector_allocations, plan_amendments, reserve_movements, market_figures,
installation_closures, installation_allocations, verified_outputs and allocation_debts, a
function of a transaction returning typed rows. Operations never come here: handlers read
through the working set and write through `ledger.effects.Row`."""

from __future__ import annotations

from typing import Any, NamedTuple

from ledger.store.sql import SqlTransaction

_PLAN_COLUMNS = ("scheme, year, cap, sectors, reserve, to_auction, on_offer, issued, "
                 "taken_back, amendments, set_seq, updated_seq")


class PlanRow(NamedTuple):
    scheme: str
    year: int
    cap: int
    sectors: str  # canonical JSON (allocation.sectors.sectors_json)
    reserve: int
    to_auction: int
    on_offer: int
    issued: int
    taken_back: int
    amendments: int
    set_seq: int
    updated_seq: int


class AmendmentRow(NamedTuple):
    scheme: str
    year: int
    seq: int
    reason: str
    cap_before: int
    cap_after: int
    sectors_before: str
    sectors_after: str


class MovementRow(NamedTuple):
    scheme: str
    year: int
    seq: int
    kind: str  # release | absorb | new_entrant
    quantity: int
    figures: str  # "" for a new entrant
    installation: str  # "" but for a new entrant
    reason: str


class FiguresRow(NamedTuple):
    id: str
    scheme: str
    period: str  # YYYY-MM
    average_price: int  # minor units per tonne
    surplus: int  # tonnes in circulation
    source: str
    published_seq: int


class ClosureRow(NamedTuple):
    installation: str
    last_year: int
    reason: str
    closed_seq: int


def _plan(row: Any) -> PlanRow:
    scheme, year, cap, sectors, *counters = row
    return PlanRow(scheme, int(year), int(cap), sectors, *(int(c) for c in counters))


def plan(tx: SqlTransaction, scheme: str, year: int) -> PlanRow | None:
    found = tx.one(f"SELECT {_PLAN_COLUMNS} FROM allocation_plans "
                   "WHERE scheme = :scheme AND year = :year", {"scheme": scheme, "year": year})
    return None if found is None else _plan(found)


def plans(tx: SqlTransaction, scheme: str | None = None) -> list[PlanRow]:
    """Every plan (of a scheme), by scheme and year."""
    where, params = ("WHERE scheme = :scheme", {"scheme": scheme}) if scheme else ("", {})
    return [_plan(row) for row in tx.all(
        f"SELECT {_PLAN_COLUMNS} FROM allocation_plans {where} ORDER BY scheme, year", params)]


def sectors_allocated(tx: SqlTransaction, scheme: str, year: int) -> dict[str, int]:
    """The free allocation issued so far in each sector that has a row."""
    return {sector: int(allocated) for sector, allocated in tx.all(
        "SELECT sector, allocated FROM sector_allocations "
        "WHERE scheme = :scheme AND year = :year", {"scheme": scheme, "year": year})}


def amendments(tx: SqlTransaction, scheme: str, year: int) -> list[AmendmentRow]:
    return [AmendmentRow(scheme_, int(year_), int(seq), reason, int(before), int(after),
                         sectors_before, sectors_after)
            for scheme_, year_, seq, reason, before, after, sectors_before, sectors_after
            in tx.all("SELECT scheme, year, seq, reason, cap_before, cap_after, "
                      "sectors_before, sectors_after FROM plan_amendments "
                      "WHERE scheme = :scheme AND year = :year ORDER BY seq",
                      {"scheme": scheme, "year": year})]


def movements(tx: SqlTransaction, scheme: str, year: int) -> list[MovementRow]:
    return [MovementRow(scheme_, int(year_), int(seq), kind, int(quantity), figures,
                        installation, reason)
            for scheme_, year_, seq, kind, quantity, figures, installation, reason
            in tx.all("SELECT scheme, year, seq, kind, quantity, figures, installation, "
                      "reason FROM reserve_movements "
                      "WHERE scheme = :scheme AND year = :year ORDER BY seq",
                      {"scheme": scheme, "year": year})]


_FIGURES_SQL = ("SELECT id, scheme, period, average_price, surplus, source, published_seq "
                "FROM market_figures")


def _figures(row: Any) -> FiguresRow:
    figures, scheme, period, price, surplus, source, seq = row
    return FiguresRow(figures, scheme, period, int(price), int(surplus), source, int(seq))


def figures(tx: SqlTransaction, figures_id: str) -> FiguresRow | None:
    found = tx.one(f"{_FIGURES_SQL} WHERE id = :id", {"id": figures_id})
    return None if found is None else _figures(found)


def figures_of(tx: SqlTransaction, scheme: str | None = None) -> list[FiguresRow]:
    """Every set of market figures (of a scheme), in the order published."""
    where, params = (" WHERE scheme = :scheme", {"scheme": scheme}) if scheme else ("", {})
    return [_figures(row) for row in tx.all(f"{_FIGURES_SQL}{where} ORDER BY published_seq",
                                            params)]


def closures(tx: SqlTransaction) -> list[ClosureRow]:
    """Every closed installation, in the order closed."""
    return [ClosureRow(installation, int(last_year), reason, int(seq))
            for installation, last_year, reason, seq in tx.all(
                "SELECT installation, last_year, reason, closed_seq FROM installation_closures "
                "ORDER BY closed_seq")]


def closure(tx: SqlTransaction, installation: str) -> ClosureRow | None:
    found = tx.one("SELECT installation, last_year, reason, closed_seq FROM "
                   "installation_closures WHERE installation = :i", {"i": installation})
    return None if found is None else ClosureRow(found[0], int(found[1]), found[2],
                                                 int(found[3]))


def allocated_seq(tx: SqlTransaction, installation: str, year: int) -> int | None:
    """The entry that first allocated the installation's year, if any."""
    found = tx.one("SELECT allocated_seq FROM installation_allocations WHERE "
                   "installation = :i AND year = :y", {"i": installation, "y": year})
    return None if found is None else int(found[0])


def rules_entries_before(tx: SqlTransaction, before: int) -> list[tuple[int, bytes]]:
    """(seq, entry) of every genesis and set_scheme_rules entry before `before`, latest
    first (rare: a scan of the journal by op, as ledger.store.sql's scheme_rules_as_of)."""
    return [(int(seq), bytes(entry)) for seq, entry in tx.all(
        "SELECT seq, entry FROM journal WHERE op IN ('genesis', 'set_scheme_rules') "
        "AND seq < :before ORDER BY seq DESC", {"before": before})]


# --- what the plan invariants read (allocation/plan_invariants.py) ------------------------

class InstallationYear(NamedTuple):
    """An installation's allocation for a year, as the plan's totals count it."""

    scheme: str
    year: int
    sector: str
    issued: int
    taken_back: int


class IssuedBatch(NamedTuple):
    id: str
    scheme: str
    vintage: int
    quantity: int


def installation_years(tx: SqlTransaction) -> list[InstallationYear]:
    return [InstallationYear(scheme, int(year), sector, int(issued), int(taken_back))
            for scheme, year, sector, issued, taken_back in tx.all(
                "SELECT scheme, year, sector, issued, taken_back FROM installation_allocations "
                "ORDER BY installation, year")]


def batches_issued_by(tx: SqlTransaction, ops: tuple[str, ...]) -> list[IssuedBatch]:
    """The batches the journal entries of `ops` issued (a batch's issued_seq is its entry)."""
    names = {f"op{i}": op for i, op in enumerate(ops)}
    return [IssuedBatch(batch, scheme, int(vintage), int(quantity))
            for batch, scheme, vintage, quantity in tx.all(
                "SELECT b.id, b.scheme, b.vintage, b.quantity FROM batches b "
                "JOIN journal j ON j.seq = b.issued_seq "
                f"WHERE j.op IN ({', '.join(':' + n for n in names)}) ORDER BY b.id", names)]


# --- installations' allocations, outputs and debts (allocation/installation_queries.py) -------

class AllocationRow(NamedTuple):
    """An installation_allocations row: what an installation received for a year."""

    installation: str
    year: int
    scheme: str
    sector: str
    account: str
    source: str  # preallocation | new_entrant
    preallocated: int
    final: int | None  # None until trued up
    issued: int
    taken_back: int
    debt_applied: int
    debt_created: int
    debt_after: int
    batches: str  # JSON list of batch ids
    allocated_seq: int
    trued_up_seq: int | None
    updated_seq: int


class OutputRow(NamedTuple):
    installation: str
    year: int
    verifier: str
    output: str  # an exact decimal string
    unit: str
    signed_seq: int


class DebtRow(NamedTuple):
    installation: str
    debt: int
    updated_seq: int


_ALLOCATION_SQL = ("SELECT installation, year, scheme, sector, account, source, preallocated, "
                   "final, issued, taken_back, debt_applied, debt_created, debt_after, batches, "
                   "allocated_seq, trued_up_seq, updated_seq FROM installation_allocations")
_OUTPUT_SQL = ("SELECT installation, year, verifier, output, unit, signed_seq "
               "FROM verified_outputs")


def _allocation(row: Any) -> AllocationRow:
    (installation, year, scheme, sector, account, source, preallocated, final, issued,
     taken_back, debt_applied, debt_created, debt_after, batches, allocated_seq, trued_up_seq,
     updated_seq) = row
    return AllocationRow(
        installation, int(year), scheme, sector, account, source, int(preallocated),
        None if final is None else int(final), int(issued), int(taken_back),
        int(debt_applied), int(debt_created), int(debt_after), batches, int(allocated_seq),
        None if trued_up_seq is None else int(trued_up_seq), int(updated_seq))


def _output(row: Any) -> OutputRow:
    installation, year, verifier, output, unit, signed_seq = row
    return OutputRow(installation, int(year), verifier, output, unit, int(signed_seq))


def allocations_of(tx: SqlTransaction, installation: str) -> list[AllocationRow]:
    """An installation's allocations, by year."""
    return [_allocation(row) for row in tx.all(
        f"{_ALLOCATION_SQL} WHERE installation = :installation ORDER BY installation, year",
        {"installation": installation})]


def allocations_for_year(tx: SqlTransaction, scheme: str, year: int) -> list[AllocationRow]:
    """Every installation's allocation for a scheme's year, by installation."""
    return [_allocation(row) for row in tx.all(
        f"{_ALLOCATION_SQL} WHERE scheme = :scheme AND year = :year ORDER BY installation, year",
        {"scheme": scheme, "year": year})]


def verified_output(tx: SqlTransaction, installation: str, year: int) -> OutputRow | None:
    found = tx.one(f"{_OUTPUT_SQL} WHERE installation = :installation AND year = :year",
                   {"installation": installation, "year": year})
    return None if found is None else _output(found)


def verified_outputs_of(tx: SqlTransaction, installation: str) -> list[OutputRow]:
    """An installation's verified outputs, by year."""
    return [_output(row) for row in tx.all(
        f"{_OUTPUT_SQL} WHERE installation = :installation ORDER BY installation, year",
        {"installation": installation})]


def debts(tx: SqlTransaction) -> list[DebtRow]:
    """Every installation that owes (or has owed) a debt, by installation."""
    return [DebtRow(installation, int(debt), int(seq)) for installation, debt, seq in tx.all(
        "SELECT installation, debt, updated_seq FROM allocation_debts ORDER BY installation")]


# --- what the installation invariants read (allocation/installation_invariants.py) ------------

class BatchRow(NamedTuple):
    id: str
    scheme: str
    vintage: int
    issuance: str  # how it was issued (ledger.model.Issuance)
    quantity: int


def batch(tx: SqlTransaction, batch_id: str) -> BatchRow | None:
    found = tx.one("SELECT id, scheme, vintage, issuance, quantity FROM batches WHERE id = :id",
                   {"id": batch_id})
    return None if found is None else BatchRow(found[0], found[1], int(found[2]), found[3],
                                               int(found[4]))
