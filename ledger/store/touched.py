"""Which rows a replay touches, recorded by the scratch store itself.

The audit (anchoring.audit) recomputes the state commitment from the rows the replay changed,
found by triggers rather than by reading the journal's effects as the checkpointer does, so
that its account of what changed is its own. The triggers go on the core's tables in
replay's scratch store, which is always SQLite (ledger.replay): their syntax is SQLite's, and
another store is refused rather than sent SQL it would reject.
"""

from __future__ import annotations

from collections.abc import Mapping

from ledger.store.sql import SqlTransaction

_EVENTS = (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",)))


def track_touched(tx: SqlTransaction,
                  tables: Mapping[str, tuple[str, str, str | None]]) -> None:
    """From now on, record every row inserted, updated or deleted in each of `tables` as
    (label, key, second key or ''): `tables` maps a table to its label and the one or two
    columns that identify its rows. Labels and names are the caller's constants, never data."""
    if tx.dialect != "sqlite":
        raise ValueError(f"touched rows are tracked in a SQLite scratch store, not {tx.dialect}")
    tx.execute("CREATE TABLE touched_rows (kind TEXT NOT NULL, a TEXT NOT NULL, "
               "b TEXT NOT NULL)")
    for table, (label, first, second) in tables.items():
        for event, rows in _EVENTS:
            inserts = " ".join(
                f"INSERT INTO touched_rows VALUES ('{label}', {row}.{first}, "
                f"{_column(row, second)});" for row in rows)
            tx.execute(f"CREATE TRIGGER touched_{table}_{event.lower()} AFTER {event} "
                       f"ON {table} BEGIN {inserts} END")


def _column(row: str, column: str | None) -> str:
    return f"{row}.{column}" if column else "''"


def take_touched(tx: SqlTransaction) -> list[tuple[str, str, str]]:
    """The rows touched since the last call, each once: (label, key, second key or ''); the
    record starts over."""
    touched = [(kind, a, b)
               for kind, a, b in tx.all("SELECT DISTINCT kind, a, b FROM touched_rows")]
    tx.execute("DELETE FROM touched_rows")
    return touched


__all__ = ["take_touched", "track_touched"]
