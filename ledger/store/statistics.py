"""PostgreSQL's planner statistics, kept current by the ledger as its tables grow.

The store prepares its statements once per connection (ledger/store/pq_pipeline.py), and
PostgreSQL may then keep one generic plan for each. A plan chosen while the journal held a
few hundred rows is a sequential scan; without new statistics nothing tells PostgreSQL that
the table has grown, and the same plan later reads a million rows to find one instruction id
(measured: 0.3 s -> 1.1 s per lookup as a benchmark store grew). Autovacuum normally
refreshes the statistics, and the refresh makes PostgreSQL plan again; a server may run
without it (this project's own CI server does). So the ledger applies autovacuum's own rule
itself: every `CHECK_EVERY` journal entries it looks at how much its hot tables changed since
their last ANALYZE, and analyzes those past 10% (plus 50 rows). ANALYZE does not block reads
or writes, and SKIP_LOCKED leaves a table another process is analyzing already.

The look and the ANALYZE run on a thread of the store's own (`StatisticsKeeper`), like
autovacuum's worker, not in the writer that crossed the mark: ANALYZE samples up to 30,000
pages, and at a million lots one took 0.2-0.3 s, which a writer doing it inline spent with
every later operation waiting behind it (measured: a run of 10,000 transfers in submissions
of 100 lost 0.4 s to one ANALYZE of the journal).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

logger = logging.getLogger(__name__)

CHECK_EVERY = 1_000  # journal entries between two looks at the tables' change counters
TABLES = ("journal", "lots", "holdings", "accounts", "signing_keys", "participants", "batches",
          "liens", "state_leaves",  # state_leaves: a cut's leaf reads went from 0.1 s to 16 s
          #                           on a million lots whose bulk load was never analyzed
          "state_tree_nodes", "state_tree_stale")  # the state tree's batched node reads
THRESHOLD_ROWS, THRESHOLD_FRACTION = 50, 0.1  # autovacuum's analyze threshold and scale factor


class StatisticsKeeper:
    """A daemon thread that analyzes the store's stale tables when writers have added
    `CHECK_EVERY` entries since its last look. Writers call `after_write(head)`, which only
    compares two numbers and, at the mark, wakes the thread.

    `connect` lends a psycopg connection in autocommit mode for one look (a context manager:
    the store's pool lends one and takes it back)."""

    def __init__(self, connect: Callable[[], AbstractContextManager[Any]]) -> None:
        self._connect = connect
        self._next_look: int | None = None
        self._due = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="planner-statistics",
                                        daemon=True)
        self.looks = 0  # looks taken, for tests and diagnostics

    def start(self) -> StatisticsKeeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._due.set()
        if self._thread.is_alive():
            self._thread.join()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def after_write(self, head: int) -> None:
        """Called by a writer once its transaction committed at journal position `head`."""
        if self._next_look is not None and head < self._next_look:
            return
        self._next_look = head + CHECK_EVERY
        self._due.set()

    def _run(self) -> None:
        while True:
            self._due.wait()
            if self._stopping.is_set():
                return
            self._due.clear()
            try:
                with self._connect() as connection:
                    analyze_stale_tables(connection)
            except Exception as exc:  # the server went away, say: the next mark tries again
                # one line: a dropped connection is expected here and must not look like a
                # crash to whoever reads the log; anything else keeps its traceback
                import psycopg  # this keeper runs on PostgreSQL only

                lost = isinstance(exc, psycopg.OperationalError)
                logger.warning("refreshing the planner statistics failed (%s); the next look "
                               "tries again", str(exc).strip().split("\n", 1)[0],
                               exc_info=not lost)
            self.looks += 1


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
