"""PostgreSQL's planner statistics, kept current by the ledger as its tables grow.

The store prepares its statements once per connection (ledger/store/pq_pipeline.py), and
PostgreSQL may then keep one generic plan for each. A plan chosen while the journal held a
few hundred rows is a sequential scan; without new statistics nothing tells PostgreSQL that
the table has grown, and the same plan later reads a million rows to find one instruction id
(measured: 0.3 s -> 1.1 s per lookup as a benchmark store grew). Autovacuum normally
refreshes the statistics, and the refresh makes PostgreSQL plan again; a server may run
without it (this project's own CI server does). So the ledger applies autovacuum's own rule
itself: every `CHECK_EVERY` journal entries a writer looks at how much its hot tables changed
since their last ANALYZE, and analyzes those past 10% (plus 50 rows). ANALYZE does not block
reads or writes, and SKIP_LOCKED leaves a table another process is analyzing already.
"""

from __future__ import annotations

from typing import Any

CHECK_EVERY = 1_000  # journal entries between two looks at the tables' change counters
TABLES = ("journal", "lots", "holdings", "accounts", "signing_keys", "participants", "batches",
          "liens")
THRESHOLD_ROWS, THRESHOLD_FRACTION = 50, 0.1  # autovacuum's analyze threshold and scale factor


class PlannerStatistics:
    """One per store: call `after_write(connection, head)` after each committed write."""

    def __init__(self) -> None:
        self._next_look: int | None = None

    def after_write(self, connection: Any, head: int) -> list[str]:
        """Analyze the tables that changed enough; returns their names (usually none)."""
        if self._next_look is not None and head < self._next_look:
            return []
        self._next_look = head + CHECK_EVERY
        return analyze_stale_tables(connection)


def analyze_stale_tables(connection: Any) -> list[str]:
    """`connection`: a psycopg connection in autocommit mode, outside any transaction."""
    cursor = connection.cursor()
    cursor.execute("SELECT relname, n_live_tup, n_mod_since_analyze FROM pg_stat_user_tables "
                   "WHERE relname = ANY(%s) AND schemaname = current_schema()", (list(TABLES),))
    stale = [name for name, live, modified in cursor.fetchall()
             if modified > THRESHOLD_ROWS + THRESHOLD_FRACTION * live]
    for name in sorted(stale):
        cursor.execute(f"ANALYZE (SKIP_LOCKED) {name}")  # names from TABLES, not from input
    return sorted(stale)
