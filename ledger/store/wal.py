"""SQLite's write-ahead log, copied back into the database file off the writers' path.

In WAL mode a commit appends the pages it changed to the log; a *WAL copy-back* later copies
them into the database file and syncs it. A copy-back is what SQLite runs for
`PRAGMA wal_checkpoint` (its documentation says "checkpoint", a word this project keeps for the
ledger's signed checkpoints; here it is always "copy-back"). By default the connection whose
commit takes the log past 1,000 pages runs a copy-back itself, inside that commit: a writer
then waits for the copy and the fsync of pages that other transactions changed. In a large
store the pages a transaction touches are scattered (a new lot lands in its holder's place in
a million-entry index, an instruction id in a random place of its index), so each copy-back
copies more distinct pages and that wait grows with the store (measured:
bench/ledger_throughput.py).

So a store's writers hand copy-backs to one thread of their own (`WalCopyBack`). Every
`interval` seconds it runs, on its own connection:

1. a PASSIVE copy-back, which copies what no reader still needs and never blocks a writer or
   a reader (the sqlite3 module releases the GIL while SQLite copies); then
2. a FULL copy-back, which holds writers off for the few pages committed meanwhile, copies
   them and returns. Only once every page of the log is in the file does the next writer start
   the log over from its beginning. Without this step a steady stream of commits almost never
   leaves the log fully copied at the moment a writer begins, so the log grew until the
   writers' own copy-back (below) stepped in, inside a commit, and every commit wrote to
   a part of a 128 MiB file the OS had to find fresh pages for. The FULL step waits at most
   `tail_wait_ms` for a writer to finish or for a reader still on an older snapshot, then
   gives up for this round (busy), so a long read never holds writers off for longer than
   that and the copy. It is FULL, not RESTART: RESTART starts the log over itself, which
   every other connection sees as a changed database and answers by dropping its page cache.

Half a second lets a page that many transactions change be copied and synced once, not once
per transaction (0.05 s, 0.25 s and 1 s were measured on a million-lot store). The writers'
automatic copy-back (`PRAGMA wal_autocheckpoint`) stays on, at a much higher mark
(`SAFETY_NET_PAGES`), so the log stays bounded even where no copy-back thread runs (a process
that stopped it, or one forked without it).
Durability is unchanged: a commit is in the log before it is acknowledged, whoever copies it
later, and SQLite recovers the log after a crash.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading

SAFETY_NET_PAGES = 32_768  # 128 MiB of 4 KiB pages: a writer runs a copy-back itself past this
COPY_BACK_INTERVAL_S = 0.5
TAIL_WAIT_MS = 20  # the FULL step's longest wait for a writer, or a reader on an old snapshot


class WalCopyBack:
    """A daemon thread that copies one SQLite database's log back into its file until `stop()`."""

    def __init__(self, path: str, *, interval: float = COPY_BACK_INTERVAL_S,
                 tail_wait_ms: int = TAIL_WAIT_MS) -> None:
        self.path = path
        self.interval = interval
        self.tail_wait_ms = tail_wait_ms
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"wal-copy-back {path}",
                                        daemon=True)

    def start(self) -> WalCopyBack:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after a last copy-back, so that a disposed store leaves a short log."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            connection.execute(f"PRAGMA busy_timeout={self.tail_wait_ms}")
            while True:
                stopping = self._stopping.wait(self.interval)
                copy_back(connection)
                if stopping:
                    return
        finally:
            connection.close()


def copy_back(connection: sqlite3.Connection) -> None:
    """Copy the log into the database file so that the next writer starts the log over (see
    the module's notes). Busy (another connection copying back, a reader on an old snapshot,
    a writer that outlasted the connection's busy timeout): left for the next round."""
    with contextlib.suppress(sqlite3.OperationalError):
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        connection.execute("PRAGMA wal_checkpoint(FULL)").fetchall()
