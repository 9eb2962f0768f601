"""Whole-table reads of the core's tables, for the checks that must see every row: the
ledger's invariants (ledger.invariants) and replay's comparison of projections
(ledger.replay). Unpaged on purpose: a check that stopped at a page would miss what lies past
it. Interfaces read through ledger.store.queries instead.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Table

from ledger.model import LOT_STATES
from ledger.store.queries import Holding, holding_from_row
from ledger.store.sql import SqlTransaction


class LotSpan(NamedTuple):
    """A live lot as the partition and lien checks see it: its state as stored, unparsed, so
    that a bad value is reported rather than raised."""

    batch: str
    first: int
    last: int
    state: str
    lien: str | None


def table_rows(tx: SqlTransaction, table: Table) -> list[Any]:
    """Every row of `table`, its columns in the table's order, by primary key."""
    keys = [c.name for c in table.primary_key.columns]
    columns = [c.name for c in table.columns]
    return tx.all(f"SELECT {', '.join(columns)} FROM {table.name} ORDER BY {', '.join(keys)}")


def all_holdings(tx: SqlTransaction) -> list[Holding]:
    """Every row of the holdings table, rows of zeros included, in no particular order."""
    states = [state.value for state in LOT_STATES]
    return [holding_from_row(r)
            for r in tx.all(f"SELECT account, batch, {', '.join(states)} FROM holdings")]


def batch_quantities(tx: SqlTransaction) -> dict[str, int]:
    """Each batch's issued quantity, by batch id."""
    return dict(tx.all("SELECT id, quantity FROM batches"))


def lot_spans(tx: SqlTransaction) -> list[LotSpan]:
    """Every live lot, in no particular order."""
    return [LotSpan(*row) for row in tx.all(
        "SELECT batch, serial_first, serial_last, state, lien FROM lots")]


def unrecorded_liens(tx: SqlTransaction) -> list[str]:
    """Liens that lots carry and the liens table does not record."""
    return [lien for (lien,) in tx.all("SELECT DISTINCT lien FROM lots WHERE lien IS NOT NULL "
                                       "AND lien NOT IN (SELECT id FROM liens)")]


def lot_totals(tx: SqlTransaction) -> dict[tuple[str, str, str], int]:
    """Units the lots hold, by (account, batch, state)."""
    return {(account, batch, state): int(total) for account, batch, state, total in tx.all(
        "SELECT account, batch, state, SUM(serial_last - serial_first + 1) FROM lots "
        "GROUP BY account, batch, state")}


def journal_extent(tx: SqlTransaction) -> tuple[int, int | None, int | None]:
    """The journal's number of entries and its lowest and highest seq (None when empty)."""
    count, low, high = tx.one("SELECT COUNT(*), MIN(seq), MAX(seq) FROM journal")
    return int(count), low, high


def journal_documents(tx: SqlTransaction) -> list[tuple[int, bytes]]:
    """Every journal entry's seq and stored bytes, in order."""
    return [(seq, bytes(entry))
            for seq, entry in tx.all("SELECT seq, entry FROM journal ORDER BY seq")]


def last_nonces(tx: SqlTransaction) -> dict[str, int]:
    """Each signing key's last used nonce, by address."""
    return dict(tx.all("SELECT address, last_nonce FROM signing_keys"))


__all__ = ["LotSpan", "all_holdings", "batch_quantities", "journal_documents",
           "journal_extent", "last_nonces", "lot_spans", "lot_totals", "table_rows",
           "unrecorded_liens"]
