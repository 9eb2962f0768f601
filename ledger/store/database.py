"""Connections, transactions and migrations for SQLite and PostgreSQL.

Writes take the journal head first — SQLite's writer lock (BEGIN IMMEDIATE), PostgreSQL's row
lock on `journal_head` (SELECT ... FOR UPDATE) — so appends are serialised, sequence numbers are
gapless, and two writers can never deadlock: every writer takes the same single lock first.
The hot path speaks DBAPI directly (through SQLAlchemy's pool): SQLAlchemy Core's per-statement
overhead would cost more than the database itself (STACK.md measured ~1,300 vs ~10,000 simple
transfers/s on SQLite).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from ledger.state import ReadAhead
from ledger.store.errors import StoreError, StoreFailure
from ledger.store.leader import AdvisoryLock, FileLock, HeldAlone, LeaderLock
from ledger.store.pq_pipeline import round_trip
from ledger.store.schema import metadata_of
from ledger.store.sql import DURABILITY_BARRIER, SqlTransaction
from ledger.store.statistics import StatisticsKeeper
from ledger.store.wal import SAFETY_NET_PAGES, WalCopyBack

if TYPE_CHECKING:
    from alembic.config import Config

    from ledger.modules import OperationSet

logger = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
CORE_VERSIONS = MIGRATIONS_DIR / "versions"  # the core's version location (its one chain)
SQLITE_BUSY_TIMEOUT_MS = 120_000
# A transaction's first round trip (BEGIN, the head lock, the first reads) cannot have
# committed anything, so a connection lost there is retried on a new connection, after these
# pauses; a database still unreachable after them is reported as `unreachable`.
RECONNECT_PAUSES_S = (0.05, 0.25, 1.0)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@dataclass
class _Lent:
    """The connection a transaction runs on (None: given up), whether it is its thread's kept
    one, and the pauses left before a lost one is no longer replaced."""

    raw: Any
    owns_kept: bool
    pauses: list[float] = field(default_factory=lambda: list(RECONNECT_PAUSES_S))


class Store:
    def __init__(self, url: str, *, synchronous: str = "NORMAL") -> None:
        """`synchronous` (SQLite only): NORMAL survives a killed process with every committed
        transaction (WAL); FULL also survives a power loss, at the cost of an fsync per commit."""
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        # PostgreSQL: where the WAL stood after this process's latest write committed (what
        # must be flushed before that write is told of: wait_durable)
        self.last_commit_lsn: str | None = None
        if self.dialect not in ("sqlite", "postgresql"):
            raise StoreError(StoreFailure.unsupported_database, self.dialect)
        # pre-ping: a connection the server dropped while it sat in the pool (a restart, a
        # terminated backend) is replaced at checkout rather than lent out to fail
        self.engine: Engine = create_engine(url, pool_size=4, max_overflow=8,
                                            pool_pre_ping=True)
        # what a failed connect raises: the pool gives the driver's own error, SQLAlchemy
        # its wrapper where it wraps one
        self._connect_errors = (DBAPIError, self.engine.dialect.loaded_dbapi.Error)
        self._local = threading.local()
        # the SQLite file whose log this process's WAL copy-back copies (None: nothing to copy)
        database = make_url(url).database if self.dialect == "sqlite" else None
        self._sqlite_path = database if database and database != ":memory:" else None
        self._copy_back: WalCopyBack | None = None
        self._statistics: StatisticsKeeper | None = None  # PostgreSQL's, once written to
        self._housekeeping_lock = threading.Lock()
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect",
                         lambda conn, _record: _configure_sqlite(conn, synchronous))
        else:
            event.listen(self.engine, "connect", lambda conn, _record: _configure_psycopg(conn))

    def dispose(self) -> None:
        if self._copy_back is not None:
            self._copy_back.stop()
            self._copy_back = None
        if self._statistics is not None:
            self._statistics.stop()
            self._statistics = None
        kept = getattr(self._local, "raw", None)
        if kept is not None:
            _close(kept, self.dialect)
            self._local.raw = None
        self.engine.dispose()

    @contextmanager
    def leader_lock(self, name: str) -> Iterator[LeaderLock]:
        """Lock `name`, which at most one process using this store holds at a time: the
        block tries for it (`lock.try_take()`: whether this process holds it now), and it is
        released when the block ends, or when the holding process dies
        (ledger/store/leader.py): PostgreSQL's session advisory lock on a connection of its
        own, or a flock on a file beside the SQLite database."""
        lock: LeaderLock
        if self.dialect == "postgresql":
            url = make_url(self.url).set(drivername="postgresql")
            lock = AdvisoryLock(url.render_as_string(hide_password=False), name)
        elif self._sqlite_path is not None:
            lock = FileLock(Path(f"{self._sqlite_path}.{name}.lock"))
        else:
            lock = HeldAlone()
        try:
            yield lock
        finally:
            lock.close()

    # --- schema -----------------------------------------------------------------------------

    def upgrade(self, operations: OperationSet) -> None:
        """Apply every Alembic migration not yet applied (`carbonledger db upgrade`): the
        core's and those of each module of `operations` (`Module.migrations`), each module's
        a branch of its own, so the target is every head."""
        from alembic import command  # imported here: it costs a CLI start-up ~0.3 s

        config = alembic_config(self.url, operations)
        self._refuse_unknown_revisions(config)
        command.upgrade(config, "heads")

    def _refuse_unknown_revisions(self, config: Config) -> None:
        """A store upgraded before with a module that `config` does not name records that
        module's revisions; say so, rather than Alembic's "can't locate revision"."""
        from alembic.migration import MigrationContext
        from alembic.script import ScriptDirectory

        known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
        with self.engine.connect() as connection:
            recorded = set(MigrationContext.configure(connection).get_current_heads())
        unknown = sorted(recorded - known)
        if unknown:
            raise StoreError(StoreFailure.unknown_migrations, ", ".join(unknown))

    def redeem_login_challenge(self, challenge: bytes, expires: int, now: int) -> bool:
        """Record a login challenge as redeemed, once for every process sharing this store:
        False if it was redeemed before (its own short write transaction)."""
        with self.write() as tx:
            return tx.redeem_login_challenge(challenge, expires, now)

    def is_migrated(self) -> bool:
        try:
            return inspect(self.engine).has_table("journal_head")
        except self._connect_errors as exc:
            raise StoreError(StoreFailure.unreachable, _first_line(exc)) from exc

    # --- transactions -----------------------------------------------------------------------

    @contextmanager
    def write(self, read_ahead: ReadAhead | None = None) -> Iterator[SqlTransaction]:
        """One write transaction holding the journal head; commits when the block ends unless
        the block committed it (`tx.commit(ws)`). `read_ahead` is read with the lock, in the
        same round trip on PostgreSQL, into `tx.read_ahead`."""
        with self._transaction(lock_head=True, read_ahead=read_ahead) as tx:
            yield tx

    def wait_durable(self) -> None:
        """Return once every write committed before this call is on disk: what a writer that
        committed with `tx.commit(ws, durable=False)` waits for before it tells anyone.

        PostgreSQL: one durability barrier (ledger.store.sql.DURABILITY_BARRIER) on this
        thread's connection; a connection lost meanwhile raises `StoreError`
        `outcome_unknown` (the writes committed; whether they reached the disk is not known).
        SQLite: nothing to wait for; COMMIT returned once the transaction was in the
        write-ahead log."""
        if self.dialect != "postgresql":
            return
        for pause_s in (*RECONNECT_PAUSES_S, None):
            try:
                raw, owns_kept = self._connection()
                break
            except self._connect_errors as exc:
                if pause_s is None:
                    raise StoreError(StoreFailure.outcome_unknown, _first_line(exc)) from exc
                time.sleep(pause_s)
        try:
            round_trip(raw.driver_connection, [(DURABILITY_BARRIER, {})])
        except BaseException as exc:
            self._discard(raw, owns_kept)
            if isinstance(exc, Exception):
                raise StoreError(StoreFailure.outcome_unknown, _first_line(exc)) from exc
            raise
        finally:
            self._release(raw, owns_kept)

    @contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        """A consistent read-only snapshot."""
        with self._transaction(lock_head=False) as tx:
            yield tx

    @contextmanager
    def _transaction(self, *, lock_head: bool,
                     read_ahead: ReadAhead | None = None) -> Iterator[SqlTransaction]:
        lent, tx = self._begin(lock_head, read_ahead)
        try:
            yield tx
            if not tx.finished:
                tx.commit()
            if lock_head:
                self.last_commit_lsn = tx.commit_lsn or self.last_commit_lsn
                self._after_write(lent.raw, tx.head)
        except BaseException as exc:
            if lent.raw is None:  # given up by `_reopen`, which said why
                raise
            if self._after_failure(lent.raw, lent.owns_kept, exc):
                code = (StoreFailure.outcome_unknown if tx.committing
                        else StoreFailure.connection_lost)
                raise StoreError(code, _first_line(exc)) from exc
            raise
        finally:
            if lent.raw is not None:
                self._release(lent.raw, lent.owns_kept)

    def _begin(self, lock_head: bool,
               read_ahead: ReadAhead | None) -> tuple[_Lent, SqlTransaction]:
        """A connection and a transaction begun on it. Nothing can have committed yet, so a
        connection lost here is replaced and the first round trip sent again. (A PostgreSQL
        read sends its BEGIN with its first reads: `_reopen` does the same for it then.)"""
        for pause_s in (*RECONNECT_PAUSES_S, None):
            try:
                raw, owns_kept = self._connection()
            except self._connect_errors as exc:  # refused, or no answer
                if pause_s is None:
                    raise StoreError(StoreFailure.unreachable, _first_line(exc)) from exc
                time.sleep(pause_s)
                continue
            lent = _Lent(raw, owns_kept)
            try:
                tx = SqlTransaction(raw, self.dialect, lock_head=lock_head,
                                    read_ahead=read_ahead, reopen=partial(self._reopen, lent))
                return lent, tx
            except BaseException as exc:
                lost = self._after_failure(raw, owns_kept, exc)
                self._release(raw, owns_kept)
                if not lost:
                    raise
                if pause_s is None:
                    raise StoreError(StoreFailure.unreachable, _first_line(exc)) from exc
                time.sleep(pause_s)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _reopen(self, lent: _Lent, exc: Exception) -> Any:
        """A read's first round trip, its BEGIN with its first reads, failed with `exc`
        (ledger.store.sql.Reopen): a lost connection is replaced, after the same pauses as
        `_begin` takes, and the new one returned for the round trip to be sent again; any
        other failure is raised as it is."""
        assert lent.raw is not None
        if not self._is_lost(exc, lent.raw):
            raise exc  # the transaction's own handler rolls back, as for any later failure
        self._discard(lent.raw, lent.owns_kept)
        self._release(lent.raw, lent.owns_kept)
        lent.raw = None
        failure: Exception = exc
        while lent.pauses:
            time.sleep(lent.pauses.pop(0))
            try:
                lent.raw, lent.owns_kept = self._connection()
                return lent.raw
            except self._connect_errors as refused:
                failure = refused
        raise StoreError(StoreFailure.unreachable, _first_line(failure)) from failure

    def _connection(self) -> tuple[Any, bool]:
        """(connection, whether it is this thread's kept one). Each thread keeps one
        connection for its transactions: checking one out of the pool and resetting it on
        return costs as much as a small transaction. A transaction opened inside another
        (rare: diagnostics) borrows a second connection from the pool."""
        kept = getattr(self._local, "raw", None)
        if kept is None or getattr(self._local, "busy", False):
            raw: Any = self.engine.raw_connection()
            if kept is None:
                self._local.raw = kept = raw
        else:
            raw = kept
        owns_kept = raw is kept
        if owns_kept:
            self._local.busy = True
        if self.dialect == "postgresql" and not raw.driver_connection.autocommit:
            # Transactions are begun by our own BEGIN, so that it travels with the first reads
            # (psycopg would send its implicit BEGIN alone); given back to the pool, the
            # connection returns to psycopg's default for SQLAlchemy's own users.
            raw.driver_connection.autocommit = True
        return raw, owns_kept

    def _discard(self, raw: Any, owns_kept: bool) -> None:
        """A broken connection: never used again, by this thread or through the pool."""
        if owns_kept:
            self._local.raw = None
        raw.invalidate()

    def _release(self, raw: Any, owns_kept: bool) -> None:
        if owns_kept:
            self._local.busy = False
        else:
            _close(raw, self.dialect)

    def _after_failure(self, raw: Any, owns_kept: bool, exc: BaseException) -> bool:
        """Roll back after `exc`; a connection lost, or one that cannot roll back, is
        discarded. Returns whether `exc` was the connection's loss."""
        lost = self._is_lost(exc, raw)
        if lost or not _rollback(raw, self.dialect):
            self._discard(raw, owns_kept)
        return lost

    def _is_lost(self, exc: BaseException, raw: Any) -> bool:
        """Did `exc` come from a connection that is gone (rather than from a statement)?"""
        if self.dialect != "postgresql" or not isinstance(exc, Exception):
            return False
        import psycopg

        if not isinstance(exc, psycopg.Error):
            return False
        connection = raw.driver_connection
        return (connection is None or connection.closed or connection.broken
                or connection.pgconn.status == psycopg.pq.ConnStatus.BAD)

    def _after_write(self, raw: Any, head: int) -> None:
        """Housekeeping once a write has committed; it must never make that write look failed."""
        try:
            if self.dialect == "sqlite":
                self._ensure_copy_back()
            else:
                self._ensure_statistics_keeper().after_write(head)
        except Exception:
            logger.warning("housekeeping after a committed write failed", exc_info=True)

    def _ensure_copy_back(self) -> None:
        """Start this process's WAL copy-back once the store has been written to."""
        current = self._copy_back
        if self._sqlite_path is None or (current is not None and current.is_alive()):
            return
        with self._housekeeping_lock:
            if self._copy_back is None or not self._copy_back.is_alive():
                self._copy_back = WalCopyBack(self._sqlite_path)
                self._copy_back.start()

    def _ensure_statistics_keeper(self) -> StatisticsKeeper:
        """This process's planner-statistics thread (a forked child starts its own)."""
        current = self._statistics
        if current is not None and current.is_alive():
            return current
        with self._housekeeping_lock:
            if self._statistics is None or not self._statistics.is_alive():
                self._statistics = StatisticsKeeper(self._autocommit_connection).start()
            return self._statistics

    @contextmanager
    def _autocommit_connection(self) -> Iterator[Any]:
        """A PostgreSQL connection from the pool, in autocommit mode, for housekeeping."""
        raw: Any = self.engine.raw_connection()
        try:
            raw.driver_connection.autocommit = True
            yield raw.driver_connection
        except Exception:
            raw.invalidate()  # perhaps broken: the pool must not lend it again
            raise
        finally:
            _close(raw, self.dialect)


def _close(raw: Any, dialect: str) -> None:
    """Give a borrowed connection back to the pool as psycopg's default (autocommit off)."""
    if dialect == "postgresql" and raw.dbapi_connection is not None:
        with contextlib.suppress(Exception):  # a broken connection: the pool discards it
            raw.driver_connection.autocommit = False
    raw.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().split("\n", 1)[0]


def _rollback(raw: Any, dialect: str) -> bool:
    """Roll back; False when the connection is unusable."""
    try:
        if dialect == "sqlite":
            if raw.driver_connection.in_transaction:
                raw.cursor().execute("ROLLBACK")
        else:
            raw.rollback()
        return True
    except Exception:  # the connection is gone
        return False


def _configure_psycopg(connection: Any) -> None:
    # The hot path prepares its own statements (ledger/store/pq_pipeline.py). psycopg's
    # automatic preparation stays off: psycopg answers any ROLLBACK it sees by DEALLOCATE ALL
    # when it has prepared something itself, and that would drop ours too.
    connection.prepare_threshold = None


def _configure_sqlite(connection: Any, synchronous: str) -> None:
    # Autocommit mode in the driver: transactions are begun explicitly (BEGIN IMMEDIATE), so
    # the writer lock is taken at the start rather than upgraded mid-transaction.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # copy-backs are the store's WAL copy-back thread's job; this is only the safety net
    cursor.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
    # 64 MiB of page cache (the default is 2 MiB) holds the hot pages of a large store; more
    # made no measurable difference at a million lots (the OS caches the rest)
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def alembic_config(url: str, operations: OperationSet | None = None) -> Config:
    """Alembic's configuration for the store at `url`, with the core's migrations and those of
    each module of `operations` (None: the core's alone). env.py compares with the core's and
    those modules' tables (`target_metadata`)."""
    from alembic.config import Config

    locations = [CORE_VERSIONS, *(operations.migrations if operations else ())]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")  # version_locations split on os.pathsep
    config.set_main_option("version_locations",
                           os.pathsep.join(str(p) for p in locations).replace("%", "%%"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["target_metadata"] = metadata_of(
        (*operations.tables.values(), *operations.side_tables.values()) if operations else ())
    return config
