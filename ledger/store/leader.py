"""Leader locks: at most one process among all those using a store holds a given lock, for as
long as it lives, and the lock frees itself when that process dies.

PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a connection of its
own, outside the store's pool, kept open while the process tries for the lock and while it
holds it: when the process dies its session ends and the server frees the lock, so another
process can take it at its next try. SQLite: an exclusive `flock` on a file beside the
database; the kernel frees it when the process dies. `Store.leader_lock(name)` is the way in.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path
from typing import Any, Protocol

from ledger.store.errors import StoreError, StoreFailure

LOCK_NAMESPACE = "carbonledger"
CONNECT_TIMEOUT_S = 10
# TCP keepalives on the lock's connection: a holder whose host vanished (rather than a process
# that died, whose socket the kernel closes at once) is found dead by the server within about
# a minute, and its lock freed.
_KEEPALIVE: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 30,
                              "keepalives_interval": 10, "keepalives_count": 3}


class LeaderLock(Protocol):
    """A lock this process may try for, again and again, until it is closed."""

    def try_take(self) -> bool:
        """Take the lock if no other process holds it; whether this process holds it now."""
        ...

    def still_held(self) -> bool:
        """Whether this process still holds the lock (False once it may have been lost)."""
        ...

    def close(self) -> None:
        """Release the lock if held, and what trying for it kept open."""
        ...


def advisory_key(name: str) -> int:
    """The signed 64-bit key of lock `name` in pg_advisory_lock's one key space, which every
    application on the database shares: a hash of the name under this ledger's namespace."""
    digest = hashlib.sha256(f"{LOCK_NAMESPACE}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLock:
    """A PostgreSQL session advisory lock, tried for and held on one connection of its own
    (one connection, not one per try: a server that logs connections is not flooded)."""

    def __init__(self, conninfo: str, name: str) -> None:
        self._conninfo = conninfo
        self._name = name
        self._key = advisory_key(name)
        self._connection: Any = None
        self._held = False

    def try_take(self) -> bool:
        if self._held:
            return self.still_held()
        import psycopg

        try:
            row = self._connected().execute("SELECT pg_try_advisory_lock(%s)",
                                            (self._key,)).fetchone()
        except psycopg.Error as exc:
            self._disconnect()  # tried again on a new connection
            raise StoreError(StoreFailure.unreachable, str(exc).strip().split("\n")[0]) from exc
        self._held = bool(row and row[0])
        return self._held

    def still_held(self) -> bool:
        # a session lock is freed only by an unlock or the end of the session: a session
        # that still answers still holds it
        if not self._held:
            return False
        try:
            self._connection.execute("SELECT 1")
        except Exception:
            self._held = False
            self._disconnect()
        return self._held

    def close(self) -> None:
        if self._held:
            with contextlib.suppress(Exception):
                self._connection.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
        self._held = False
        self._disconnect()  # the end of the session frees the lock in any case

    def _connected(self) -> Any:
        import psycopg

        if self._connection is None:
            # application_name shows in pg_stat_activity which process holds the lock
            self._connection = psycopg.connect(
                self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                application_name=f"carbonledger {self._name} pid {os.getpid()}", **_KEEPALIVE)
        return self._connection

    def _disconnect(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


class FileLock:
    """An exclusive flock on a file beside a SQLite database."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._descriptor: int | None = None
        self._held = False

    def try_take(self) -> bool:
        if self._held:
            return True
        if self._descriptor is None:
            self._descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._held = True
        return True

    def still_held(self) -> bool:
        return self._held

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the file frees its flock
            self._descriptor = None
        self._held = False


class HeldAlone:
    """The lock of a store only this process can reach (SQLite in memory)."""

    def try_take(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def close(self) -> None:
        pass


__all__ = ["AdvisoryLock", "FileLock", "HeldAlone", "LeaderLock", "advisory_key"]
