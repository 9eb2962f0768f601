"""One database transaction: reads for the working set, and the flush of its changes.

Statements are written once with :named parameters and translated to psycopg's %(named)s.
Writes go out as one executemany per table at the end of the transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql

from ledger.model import (
    LOT_STATES,
    Account,
    AccountType,
    Batch,
    Issuance,
    Kind,
    Lien,
    Lot,
    LotState,
    Participant,
    Role,
    SigningKey,
)
from ledger.schemes import SchemeRules, parse_rules_document
from ledger.state import (
    HELD_FIRST_PAGE,
    InstructionRecord,
    JournalRow,
    ReadAhead,
    ReadAheadRows,
    WorkingSet,
)
from ledger.store.errors import StoreError, StoreFailure
from ledger.store.pq_pipeline import array_text, round_trip, rows_of
from ledger.store.schema import metadata

LOT_COLUMNS = "id, batch, serial_first, serial_last, account, state, lien, created_seq"
_JOURNAL_COLUMNS = "seq, instruction_id, body_hash, op, entry, leaf_hash, accepted_at"


@lru_cache(maxsize=256)
def _to_pyformat(sql: str) -> str:
    return re.sub(r"(?<!:):([a-z_][a-z0-9_]*)", r"%(\1)s", sql)


_MULTI_ROW_INSERT = re.compile(r"^INSERT INTO (\w+) \(([^)]*)\) VALUES \(([^)]*)\)(.*)$", re.S)
_PG_DIALECT = postgresql.dialect()
_PG_ARRAY_TYPES = {"BIGINT": "bigint[]", "INTEGER": "integer[]", "BOOLEAN": "boolean[]",
                   "BLOB": "bytea[]", "BYTEA": "bytea[]"}


@lru_cache(maxsize=64)
def _unnest_insert(sql: str, table: Table | None = None) -> tuple[str, tuple[str, ...]]:
    """`INSERT INTO t (a, b) VALUES (:a, :b) <tail>` as `INSERT ... SELECT * FROM unnest(...)`:
    one PostgreSQL statement of constant text for any number of rows (one array per column),
    which is prepared once; executemany would send the rows one by one. `table` gives the
    columns' types: a module's table (None: the core's table the statement names)."""
    match = _MULTI_ROW_INSERT.match(sql)
    assert match, sql
    table_name, columns, values, tail = match.groups()
    names = tuple(name.strip().lstrip(":") for name in values.split(","))
    table = _named(table_name, table)
    casts = [_pg_array_type(table, column.strip()) for column in columns.split(",")]
    arrays = ", ".join(f"%({n})s::{cast}" for n, cast in zip(names, casts, strict=True))
    return (f"INSERT INTO {table_name} ({columns}) SELECT * FROM unnest({arrays}){tail}",
            names)


_KEYED_UPDATE = re.compile(r"^UPDATE (\w+) SET ((?:\w+ = :\w+(?:, )?)+) WHERE (\w+) = :(\w+)$")


@lru_cache(maxsize=64)
def _unnest_update(sql: str, table: Table | None = None) -> tuple[str, tuple[str, ...]]:
    """`UPDATE t SET a = :a, b = :b WHERE id = :id` for many rows as one PostgreSQL statement
    joining the table with one array per column (the same reason as `_unnest_insert`)."""
    match = _KEYED_UPDATE.match(sql)
    assert match, sql
    table_name, settings, key_column, key_param = match.groups()
    pairs = [tuple(part.split(" = :")) for part in settings.split(", ")]
    table = _named(table_name, table)
    columns = [(key_column, key_param)] + [(c, p) for c, p in pairs]
    arrays = ", ".join(f"%({param})s::{_pg_array_type(table, column)}"
                       for column, param in columns)
    aliases = ", ".join(column for column, _ in columns)
    assignments = ", ".join(f"{column} = u.{column}" for column, _ in pairs)
    statement = (f"UPDATE {table_name} SET {assignments} FROM unnest({arrays}) AS u({aliases}) "
                 f"WHERE {table_name}.{key_column} = u.{key_column}")
    return statement, tuple(param for _, param in columns)


def _named(table_name: str, table: Table | None) -> Table:
    """The table a statement writes: a module's is handed in, since it is on its module's own
    MetaData (ledger.modules.Module.tables), not the core's."""
    if table is None:
        return metadata.tables[table_name]
    assert table.name == table_name, (table.name, table_name)
    return table


def _pg_array_type(table: Any, column: str) -> str:
    type_name = table.columns[column].type.compile(dialect=_PG_DIALECT).upper()
    return _PG_ARRAY_TYPES.get(type_name.split("(")[0], "text[]")


def _in_list(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    names = [f"{prefix}{i}" for i in range(len(values))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))


@lru_cache(maxsize=64)
def _parse_rules(text: str) -> SchemeRules:
    return SchemeRules.from_json(json.loads(text))


_LOT_STATE_BY_VALUE = {state.value: state for state in LOT_STATES}  # faster than LotState(v)


def lot_from_row(row: Sequence[Any]) -> Lot:
    return Lot(row[0], row[1], row[2], row[3], row[4], _LOT_STATE_BY_VALUE[row[5]], row[6],
               row[7])


def journal_row_from(row: Sequence[Any]) -> JournalRow:
    return JournalRow(row[0], bytes(row[1]), bytes(row[2]), row[3], bytes(row[4]),
                      bytes(row[5]), row[6])


def _rows(cursor: Any) -> list[Any]:
    return list(cursor.fetchall()) if cursor.description is not None else []


def _no_rows(rows: list[Any]) -> None:
    return None


def parse_account_rows(rows: list[Any]) -> dict[str, Account]:
    return {r[0]: Account(r[0], r[1], AccountType(r[2]), bool(r[3]), r[4], r[5]) for r in rows}


def parse_batch_rows(rows: list[Any]) -> dict[str, tuple[Batch, SchemeRules | None]]:
    return {r[0]: (Batch(r[0], r[1], Kind(r[2]), r[3], r[4], r[5], r[6], Issuance(r[7]), r[8],
                         r[9], r[10]), _parse_rules(r[11]) if r[11] is not None else None)
            for r in rows}


def _parse_records(rows: list[Any]) -> dict[bytes, InstructionRecord]:
    return {bytes(r[0]): InstructionRecord(r[1], bytes(r[2])) for r in rows}


def _parse_signers(rows: list[Any]) -> list[tuple[SigningKey, Participant]]:
    return [(SigningKey(r[0], r[1], r[2], r[3], r[4]), Participant(r[1], r[5], Role(r[6]), r[7]))
            for r in rows]


def _held_read(pairs: Sequence[tuple[str, str]], state: LotState, limit: int,
               after: int) -> Read:
    """Per (account, batch) pair its first `limit` lots in `state` above serial `after`, in
    one statement: a UNION ALL of per-pair index range scans."""
    params: dict[str, Any] = {"state": state.value, "after": after, "limit": limit}
    parts = []
    for i, (account, batch) in enumerate(pairs):
        params[f"a{i}"], params[f"b{i}"] = account, batch
        parts.append(f"SELECT * FROM (SELECT {LOT_COLUMNS} FROM lots WHERE account = :a{i} "
                     f"AND batch = :b{i} AND state = :state AND serial_first > :after "
                     f"ORDER BY serial_first LIMIT :limit) AS p{i}")

    def parse(rows: list[Any]) -> dict[tuple[str, str], list[Lot]]:
        found: dict[tuple[str, str], list[Lot]] = {pair: [] for pair in pairs}
        for row in rows:
            lot = lot_from_row(row)
            found[(lot.account, lot.batch)].append(lot)
        for lots in found.values():
            lots.sort(key=lambda lot: lot.first)
        return found

    return Read(" UNION ALL ".join(parts), params, parse)


_HOLDING_COLUMNS = ", ".join(state.value for state in LOT_STATES)


def _holdings_read(pairs: Sequence[tuple[str, str]]) -> Read:
    """The holdings of (account, batch) pairs, in one statement."""
    params: dict[str, Any] = {}
    rows = []
    for i, (account, batch) in enumerate(pairs):
        params[f"a{i}"], params[f"b{i}"] = account, batch
        rows.append(f"(account = :a{i} AND batch = :b{i})")

    def parse(found: list[Any]) -> dict[tuple[str, str], tuple[int, ...]]:
        return {(r[0], r[1]): tuple(int(v) for v in r[2:]) for r in found}

    return Read(f"SELECT account, batch, {_HOLDING_COLUMNS} FROM holdings WHERE "
                + " OR ".join(rows), params, parse)


def _holdings_reads(pairs: Sequence[tuple[str, str]]) -> list[Read]:
    return [_holdings_read(pairs[start:start + 100]) for start in range(0, len(pairs), 100)]


def _held_reads(pairs: Sequence[tuple[str, str]], state: LotState, limit: int,
                after: int) -> list[Read]:
    """`_held_read` for any number of pairs, a hundred to a statement (bounded statement size)."""
    return [_held_read(pairs[start:start + 100], state, limit, after)
            for start in range(0, len(pairs), 100)]


@dataclass(frozen=True)
class Read:
    """One query and how to turn its rows into values: reads are built apart from running them
    so that several can be sent in one round trip (PostgreSQL's pipeline mode)."""

    sql: str
    params: dict[str, Any]
    parse: Callable[[list[Any]], Any]


# The durability barrier, sent after an asynchronous commit as a transaction of its own: it
# writes a WAL record (a transactional logical message, which any role may emit and no
# decoder need read), so its commit is synchronous and waits for the WAL to be flushed up to
# its own commit record, past every commit before it. A transaction that only takes an xid
# (`SELECT txid_current()`) writes no WAL, and PostgreSQL commits it asynchronously whatever
# synchronous_commit says: it is no barrier (measured: the flush had not reached the commit
# before it in 100 of 100 tries; tests/ledger/test_durability.py checks the barrier used).
DURABILITY_BARRIER = "SELECT pg_logical_emit_message(true, 'carbonledger', 'durable')"
_WAL_POSITION = "SELECT pg_current_wal_insert_lsn()::text"
# The flush's multi-row updates join a few rows (`unnest` of its arrays) to a table by its
# key. Prepared, they soon run on a generic plan, which cannot know how many rows come and
# costs ten index probes above a scan of a table of a few thousand rows: it hashed the
# arrays and read every holding of the ledger, each transaction (~0.9 ms against ~0.3 at
# 2,300 holdings). For the rest of the transaction (the flush, then COMMIT) only nested
# loops are allowed, so each row is found through the key's index, at any size of table.
KEYED_JOINS = ("SELECT set_config('enable_hashjoin', 'off', true), "
               "set_config('enable_mergejoin', 'off', true)")


Reopen = Callable[[Exception], Any]
"""The store's answer to a read snapshot's first round trip failing with an exception: a fresh
connection to send it again on, if the old one was lost (after a pause); otherwise the
exception, or StoreError `unreachable` once its pauses are spent."""


class SqlTransaction:
    """One transaction, begun on creation (a PostgreSQL read's BEGIN waits for its first
    reads, and goes with them). A write transaction holds the journal head from its first
    statement; `read_ahead` is sent with that lock (one round trip on PostgreSQL) and its
    rows wait in `self.read_ahead`. `commit` ends it, or a read's `run(..., last=True)`."""

    def __init__(self, connection: Any, dialect: str, *, lock_head: bool,
                 read_ahead: ReadAhead | None = None, reopen: Reopen | None = None) -> None:
        self.connection = connection
        self.cursor = connection.cursor()
        self.dialect = dialect
        self.lock_head = lock_head
        self.finished = False
        self.commit_lsn: str | None = None  # PostgreSQL, once a write has committed
        # True once COMMIT has been sent: a connection lost from then on leaves the outcome
        # unknown (the server may have committed before the reply was lost)
        self.committing = False
        # PostgreSQL: a commit's flush statements, gathered to go in its one round trip
        self._gathered: list[tuple[str, dict[str, Any]]] | None = None
        if dialect == "sqlite":
            begin = "BEGIN IMMEDIATE" if lock_head else "BEGIN"
        else:
            begin = "BEGIN" if lock_head else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        # the head, and the head entry's time (the engine never accepts an entry before it)
        if lock_head and dialect == "postgresql":
            # the head lock, and an asynchronous commit: see `commit`
            head = ("SELECT h.seq, h.checkpoint, j.accepted_at, "
                    "set_config('synchronous_commit', 'off', true) FROM journal_head h "
                    "LEFT JOIN journal j ON j.seq = h.seq WHERE h.id = 1 FOR UPDATE OF h")
        else:
            head = ("SELECT h.seq, h.checkpoint, j.accepted_at FROM journal_head h "
                    "LEFT JOIN journal j ON j.seq = h.seq WHERE h.id = 1")
        self.read_ahead = ReadAheadRows()
        reads = [Read(begin, {}, _no_rows), Read(head, {}, lambda rows: rows[0])]
        if read_ahead is not None:
            reads += self._read_ahead_reads(read_ahead, self.read_ahead)
        self._head: int = -1
        self._checkpoint: int = 0
        self._head_time: str | None = None
        # A PostgreSQL snapshot's BEGIN goes in the round trip of its first reads, and its head
        # is read when first asked for (most reads never ask): a round trip fewer for every
        # read-only transaction. `reopen` replaces a connection found lost in that first
        # round trip, as the store does when it is a transaction's own.
        self._waiting: list[tuple[Read, list[Any]]] = []  # `later`'s reads, not yet sent
        self._opening: list[Read] | None = None  # the BEGIN, while not sent
        self._head_read: Read | None = None  # the head's read, while not sent
        self._reopen = reopen
        if dialect == "postgresql" and not lock_head and read_ahead is None \
                and reopen is not None:
            self._opening, self._head_read = reads[:1], reads[1]
        else:
            self._opened(self.run(reads)[1])

    def _opened(self, head_row: Sequence[Any]) -> None:
        self._head, self._checkpoint, self._head_time = head_row[0], head_row[1], head_row[2]

    def _open_with(self, reads: Sequence[Read]) -> list[Any]:
        """Send the deferred BEGIN with `reads`; their results. Nothing has run on the
        connection before this round trip, so a lost connection is replaced and the round
        trip sent again (`reopen` raises when it gives up, or for any other failure)."""
        assert self._opening is not None and self._reopen is not None
        opening, self._opening = self._opening, None
        while True:
            try:
                results = self._run_now([*opening, *reads])
            except Exception as exc:
                self.connection = self._reopen(exc)
                self.cursor = self.connection.cursor()
                continue
            return results[len(opening):]

    def _ensure_open(self) -> None:
        if self._opening is not None:
            self._open_with([])

    def _ensure_head(self) -> None:
        if self._head_read is not None:
            head_read, self._head_read = self._head_read, None
            (row,) = self.run([head_read])
            self._opened(row)

    # the journal head as this transaction sees it (a write moves it as it goes)
    @property
    def head(self) -> int:
        self._ensure_head()
        return self._head

    @head.setter
    def head(self, seq: int) -> None:
        self._ensure_head()
        self._head = seq

    @property
    def checkpoint(self) -> int:
        """The number of the last checkpoint marker."""
        self._ensure_head()
        return self._checkpoint

    @checkpoint.setter
    def checkpoint(self, number: int) -> None:
        self._ensure_head()
        self._checkpoint = number

    @property
    def head_time(self) -> str | None:
        """The head entry's accepted_at (None: no entry)."""
        self._ensure_head()
        return self._head_time

    @head_time.setter
    def head_time(self, accepted_at: str | None) -> None:
        self._ensure_head()
        self._head_time = accepted_at

    # --- plumbing ---------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return _to_pyformat(sql) if self.dialect == "postgresql" else sql

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        self._ensure_open()
        self._send(self._sql(sql), params or {})
        return self.cursor

    def _send(self, statement: str, params: dict[str, Any]) -> None:
        if self._gathered is not None:
            self._gathered.append((statement, params))
        else:
            self.cursor.execute(statement, params)

    def all(self, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
        (rows,) = self.run([Read(sql, params or {}, list)])
        return rows

    def one(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def run(self, reads: Sequence[Read], *, last: bool = False) -> list[Any]:
        """Run the reads and parse their rows; on PostgreSQL all of them in one round trip,
        through statements prepared once per connection (ledger/store/pq_pipeline.py).
        `last`: a read transaction reads nothing more, and on PostgreSQL its COMMIT goes in
        the same round trip (a lookup in a transaction of its own is then one round trip)."""
        assert not self.finished, "the transaction has ended"
        waiting, self._waiting = self._waiting, []
        ending = last and not self.lock_head and self.dialect == "postgresql"
        sent = [*(read for read, _ in waiting), *reads]
        if ending:
            sent.append(Read("COMMIT", {}, _no_rows))
        results = self._open_with(sent) if self._opening is not None else self._run_now(sent)
        for (_, slot), result in zip(waiting, results, strict=False):
            slot.append(result)
        if ending:
            self.finished = True
            results.pop()
        return results[len(waiting):]

    def later(self, read: Read) -> Callable[[], Any]:
        """`read`, sent with this transaction's next round trip, whoever makes it; the
        function returned gives its value (sending it alone if none was made meanwhile). A
        read that need not go first, beside ones that must: a proof's leaf, beside the tree
        nodes on its path."""
        slot: list[Any] = []
        self._waiting.append((read, slot))

        def value() -> Any:
            if not slot:
                self.run([])
            return slot[0]

        return value

    def _run_now(self, reads: Sequence[Read]) -> list[Any]:
        if self.dialect != "postgresql":
            return [read.parse(_rows(self.execute(read.sql, read.params))) for read in reads]
        if not reads:
            return []
        connection = self.connection.driver_connection
        results = round_trip(connection, [(self._sql(read.sql), read.params) for read in reads])
        return [read.parse(rows_of(connection, result))
                for read, result in zip(reads, results, strict=True)]

    def executemany(self, sql: str, rows: Sequence[dict[str, Any]],
                    table: Table | None = None) -> None:
        """`table`: the module's table `sql` writes (None: a core table, found by name)."""
        if len(rows) == 1:  # psycopg's executemany sets up a pipeline: costly for one row
            self._send(self._sql(sql), rows[0])
        elif rows and self.dialect == "postgresql" and _MULTI_ROW_INSERT.match(sql):
            statement, names = _unnest_insert(sql, table)
            self._send(statement, {n: array_text([row[n] for row in rows]) for n in names})
        elif rows and self.dialect == "postgresql" and _KEYED_UPDATE.match(sql):
            statement, names = _unnest_update(sql, table)
            self._send(statement, {n: array_text([row[n] for row in rows]) for n in names})
        elif rows and self._gathered is not None:
            for row in rows:
                self._send(self._sql(sql), row)
        elif rows:
            self.cursor.executemany(self._sql(sql), rows)

    def _in(self, column: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
        """`column` is one of `values`: on PostgreSQL one array parameter, so that the
        statement's text (and its prepared plan) is the same for any number of values."""
        if self.dialect == "postgresql":
            return f"{column} = ANY(:in_values)", {"in_values": array_text(list(values))}
        placeholders, params = _in_list("i", list(values))
        return f"{column} IN ({placeholders})", params

    # --- Source ---------------------------------------------------------------------------

    def participants(self, ids: Sequence[str]) -> dict[str, Participant]:
        where, params = self._in("id", ids)
        rows = self.all(f"SELECT id, name, role, registered_seq FROM participants "
                        f"WHERE {where}", params)
        return {r[0]: Participant(r[0], r[1], Role(r[2]), r[3]) for r in rows}

    def keys(self, addresses: Sequence[str]) -> dict[str, SigningKey]:
        where, params = self._in("address", addresses)
        rows = self.all(f"SELECT address, participant, registered_seq, revoked_seq, "
                        f"last_nonce FROM signing_keys WHERE {where}", params)
        return {r[0]: SigningKey(r[0], r[1], r[2], r[3], r[4]) for r in rows}

    def key_addresses_of(self, participant: str) -> list[str]:
        return [r[0] for r in self.all("SELECT address FROM signing_keys "
                                       "WHERE participant = :participant",
                                       {"participant": participant})]

    def accounts(self, ids: Sequence[str]) -> dict[str, Account]:
        (result,) = self.run([self._accounts_read(ids)])
        return result

    def _accounts_read(self, ids: Sequence[str]) -> Read:
        where, params = self._in("id", ids)
        return Read(f"SELECT id, participant, type, frozen, freeze_reason, opened_seq "
                    f"FROM accounts WHERE {where}", params, parse_account_rows)

    def batches(self, ids: Sequence[str]) -> dict[str, Batch]:
        (result,) = self.run([self._batches_read(ids)])
        return {batch_id: batch for batch_id, (batch, _) in result.items()}

    def _batches_read(self, ids: Sequence[str]) -> Read:
        """Batches with their scheme's rules: an operation on a batch usually needs both."""
        where, params = self._in("b.id", ids)
        return Read(f"SELECT b.id, b.scheme, b.kind, b.vintage, b.project, "
                    f"b.monitoring_start, b.monitoring_end, b.issuance, b.quantity, "
                    f"b.serial_prefix, b.issued_seq, r.rules FROM batches b LEFT JOIN "
                    f"scheme_rules r ON r.scheme = b.scheme WHERE {where}", params,
                    parse_batch_rows)

    def liens(self, ids: Sequence[str]) -> dict[str, Lien]:
        where, params = self._in("id", ids)
        rows = self.all(f"SELECT id, holder, purpose, created_seq FROM liens WHERE {where}",
                        params)
        return {r[0]: Lien(r[0], r[1], r[2], r[3]) for r in rows}

    def instruction_records(self, ids: Sequence[bytes]) -> dict[bytes, InstructionRecord]:
        (result,) = self.run([self._records_read(ids)])
        return result

    def _records_read(self, ids: Sequence[bytes]) -> Read:
        where, params = self._in("instruction_id", ids)
        return Read(f"SELECT instruction_id, seq, body_hash FROM journal WHERE {where}",
                    params, _parse_records)

    def scheme_rules(self, scheme: str) -> SchemeRules | None:
        row = self.one("SELECT rules FROM scheme_rules WHERE scheme = :scheme",
                       {"scheme": scheme})
        return _parse_rules(row[0]) if row else None

    def signers(self, addresses: Sequence[str], *, last: bool = False
                ) -> list[tuple[SigningKey, Participant]]:
        (result,) = self.run([self._signers_read(addresses)], last=last)
        return result

    def _signers_read(self, addresses: Sequence[str]) -> Read:
        """Keys with their participants, in one query: every operation needs both."""
        where, params = self._in("k.address", addresses)
        return Read(f"SELECT k.address, k.participant, k.registered_seq, k.revoked_seq, "
                    f"k.last_nonce, p.name, p.role, p.registered_seq FROM signing_keys k "
                    f"JOIN participants p ON p.id = k.participant WHERE {where}", params,
                    _parse_signers)

    def held_lots(self, pairs: Sequence[tuple[str, str]], state: LotState, limit: int,
                  after: int = 0) -> dict[tuple[str, str], list[Lot]]:
        found: dict[tuple[str, str], list[Lot]] = {}
        for chunk in self.run(_held_reads(pairs, state, limit, after)):
            found.update(chunk)
        return found

    def _read_ahead_reads(self, ahead: ReadAhead, into: ReadAheadRows) -> list[Read]:
        """The reads of `ahead`, each storing its rows in `into`; nothing asked, no query."""
        def kept(read: Read, keep: Callable[[Any], object]) -> Read:
            return Read(read.sql, read.params, lambda rows: keep(read.parse(rows)))

        reads = []
        if ahead.instruction_ids:
            reads.append(kept(self._records_read(ahead.instruction_ids), into.records.update))
        if ahead.signers:
            reads.append(kept(self._signers_read(ahead.signers), into.signers.extend))
        if ahead.accounts:
            reads.append(kept(self._accounts_read(ahead.accounts), into.accounts.update))
        if ahead.batches:
            reads.append(kept(self._batches_read(ahead.batches), into.add_batches))
        reads += [kept(read, into.held.update)
                  for read in _held_reads(ahead.held, ahead.held_state, HELD_FIRST_PAGE, 0)]
        # the holdings those lots are counted in, which the flush checks they cover
        reads += [kept(read, into.holdings.update) for read in _holdings_reads(ahead.held)]
        return reads

    def holdings(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str],
                                                                tuple[int, ...]]:
        found: dict[tuple[str, str], tuple[int, ...]] = {}
        for chunk in self.run(_holdings_reads(pairs)):
            found.update(chunk)
        return found

    def lots_overlapping(self, batch: str, first: int, last: int) -> list[Lot]:
        # Lots partition the batch: the overlapping ones are those ending inside first..last,
        # plus the one lot that contains `last`.
        params = {"batch": batch, "first": first, "last": last}
        inside = self.all(f"SELECT {LOT_COLUMNS} FROM lots WHERE batch = :batch "
                          "AND serial_last BETWEEN :first AND :last", params)
        beyond = self.all(f"SELECT {LOT_COLUMNS} FROM lots WHERE batch = :batch "
                          "AND serial_last > :last ORDER BY serial_last LIMIT 1", params)
        return [lot_from_row(r) for r in inside + beyond]

    def lots_under_lien(self, lien: str) -> list[Lot]:
        return [lot_from_row(r) for r in self.all(
            f"SELECT {LOT_COLUMNS} FROM lots WHERE lien = :lien", {"lien": lien})]

    def row(self, table: Table, key: tuple[Any, ...]) -> Mapping[str, Any] | None:
        columns, keys = _row_table(table)
        found = self.one(f"SELECT {', '.join(columns)} FROM {table.name} WHERE "
                         + " AND ".join(f"{k} = :{k}" for k in keys),
                         dict(zip(keys, key, strict=True)))
        return dict(zip(columns, found, strict=True)) if found else None

    def rows_with_prefix(self, table: Table, prefix: tuple[Any, ...]
                         ) -> dict[tuple[Any, ...], Mapping[str, Any]]:
        columns, keys = _row_table(table)
        assert 0 < len(prefix) <= len(keys), "a prefix of the primary key"
        found = self.all(f"SELECT {', '.join(columns)} FROM {table.name} WHERE "
                         + " AND ".join(f"{k} = :{k}" for k in keys[:len(prefix)]),
                         dict(zip(keys, prefix, strict=False)))
        rows = [dict(zip(columns, values, strict=True)) for values in found]
        return {tuple(row[k] for k in keys): row for row in rows}

    def rows_with_prefix_as_of(self, table: Table, prefix: tuple[Any, ...],
                               size: int) -> dict[tuple[Any, ...], Mapping[str, Any]]:
        """`rows_with_prefix` as the rows were when the journal held `size` entries: each
        row changed since is its value before the first change (row_undo), absent if it did
        not exist then."""
        rows = dict(self.rows_with_prefix(table, prefix))
        earliest: dict[tuple[Any, ...], Any] = {}
        for row_key, before in self.all(
                "SELECT row_key, before FROM row_undo WHERE table_name = :table_name AND "
                "seq >= :size ORDER BY seq", {"table_name": table.name, "size": size}):
            key = tuple(json.loads(row_key))
            if key[:len(prefix)] == prefix and key not in earliest:
                earliest[key] = before
        for key, before in earliest.items():
            if before is None:
                rows.pop(key, None)
            else:
                rows[key] = json.loads(before)
        return rows

    def row_as_of(self, table: Table, key: tuple[Any, ...],
                  size: int) -> Mapping[str, Any] | None:
        """A module's row as it was when the journal held `size` entries: the value kept
        before the first change since (row_undo), or the row as it is if none changed it."""
        undo = self.one("SELECT before FROM row_undo WHERE table_name = :table_name AND "
                        "row_key = :row_key AND seq >= :size ORDER BY seq LIMIT 1",
                        {"table_name": table.name, "row_key": row_key_text(key),
                         "size": size})
        if undo is None:
            return self.row(table, key)
        return None if undo[0] is None else json.loads(undo[0])

    def redeem_login_challenge(self, challenge: bytes, expires: int, now: int) -> bool:
        """Record a login challenge as redeemed (api/access.py): False if it was already.
        Challenges past their expiry are forgotten first: the service refuses them anyway."""
        self.execute("DELETE FROM login_challenges WHERE expires < :now", {"now": now})
        cursor = self.execute("INSERT INTO login_challenges (challenge, expires) VALUES "
                              "(:challenge, :expires) ON CONFLICT (challenge) DO NOTHING",
                              {"challenge": challenge, "expires": expires})
        return bool(cursor.rowcount == 1)

    def forget_row_undo(self, size: int) -> None:
        """Drop the module rows' earlier values kept for entries before `size`: once the
        checkpoint of that log size is signed, the next re-execution starts after it."""
        self.execute("DELETE FROM row_undo WHERE seq < :size", {"size": size})

    def scheme_rules_as_of(self, scheme: str, size: int) -> SchemeRules | None:
        """A scheme's rules when the journal held `size` entries. The table keeps the latest
        only; rules set since are looked for in the journal's genesis and set_scheme_rules
        entries (rare: a scan of the journal by op)."""
        row = self.one("SELECT rules, recorded_seq FROM scheme_rules WHERE scheme = :scheme",
                       {"scheme": scheme})
        if row is None or row[1] < size:
            return _parse_rules(row[0]) if row else None
        for (entry,) in self.all("SELECT entry FROM journal WHERE op IN ('genesis', "
                                 "'set_scheme_rules') AND seq < :size ORDER BY seq DESC",
                                 {"size": size}):
            fields = json.loads(bytes(entry))["instruction"]["fields"]
            if fields.get("scheme") == scheme:  # set_scheme_rules
                return SchemeRules.from_json(json.loads(fields["rules"]))
            if "registryKey" in fields:  # the genesis: every scheme's first rules
                return parse_rules_document(fields["rules"]).get(scheme)
        return None

    def journal_row(self, seq: int) -> JournalRow | None:
        row = self.one(f"SELECT {_JOURNAL_COLUMNS} FROM journal WHERE seq = :seq", {"seq": seq})
        return journal_row_from(row) if row else None

    def journal_rows(self, start: int, stop: int) -> list[JournalRow]:
        """Entries start <= seq < stop, in order."""
        return [journal_row_from(r) for r in self.all(
            f"SELECT {_JOURNAL_COLUMNS} FROM journal WHERE seq >= :start AND seq < :stop "
            "ORDER BY seq", {"start": start, "stop": stop})]

    # --- flush ----------------------------------------------------------------------------

    def flush(self, ws: WorkingSet) -> None:
        """Write everything the working set changed: one statement per table and kind; on
        PostgreSQL all of them in one pipeline, so the flush costs one round trip."""
        _require_debits_covered(ws)
        if self.dialect == "postgresql":
            round_trip(self.connection.driver_connection, self._gathered_flush(ws))
        else:
            self._flush(ws)

    def commit(self, ws: WorkingSet | None = None, *, durable: bool = True) -> None:
        """Flush `ws` (if given) and commit: on PostgreSQL in one round trip, with the wait
        for durability unless `durable` is False.

        A PostgreSQL writer commits asynchronously (its head-lock query set synchronous_commit
        off for the transaction), so the journal head is released as soon as the commit
        record is written, not after the disk flush: the next writer need not wait for this
        one's fsync. Durability is awaited right after, in the same round trip but outside the
        lock, by the durability barrier (`DURABILITY_BARRIER`): a transaction that writes WAL
        commits synchronously, and flushing its commit record flushes all WAL before it, ours
        included; the server answers the round trip only after that flush. Concurrent
        writers' flushes overlap and PostgreSQL groups them. Nothing is acknowledged before it
        is on disk, and a later writer that read this one's changes cannot be durable without
        them (WAL is sequential).

        With `durable=False` the caller awaits durability itself, later and once for several
        transactions (`Store.wait_durable`: the group committer answers its submitters only
        after it); nobody may be told of this commit before then. `commit_lsn` is where the
        WAL stood right after the commit record: durable once the flush has passed it.
        """
        assert not self.finished, "the transaction has ended"
        if self._opening is not None:  # a snapshot nothing was read from: nothing to end
            self._opening = None
            self.finished = True
            return
        if ws is not None:
            _require_debits_covered(ws)
        if self.dialect == "sqlite":
            if ws is not None:
                with _checks_named():
                    self._flush(ws)
            self.committing = True
            self.cursor.execute("COMMIT")
        else:
            # only the flush and COMMIT follow: a flush in the middle of a transaction (a
            # checkpoint marker's, whose cut goes on reading) keeps the planner's full choice
            statements = [(KEYED_JOINS, {}), *self._gathered_flush(ws)] if ws is not None else []
            statements.append(("COMMIT", {}))
            commit_at = len(statements) - 1
            if self.lock_head:
                statements.append((_WAL_POSITION, {}))
                if durable:
                    statements.append((DURABILITY_BARRIER, {}))
            self.committing = True
            with _checks_named():
                results = round_trip(self.connection.driver_connection, statements)
            committed = results[commit_at]
            # COMMIT of a transaction that failed reports ROLLBACK instead of raising
            if committed.command_status != b"COMMIT":
                raise RuntimeError(f"the transaction did not commit: {committed.command_status!r}")
            if self.lock_head:
                (self.commit_lsn,) = rows_of(self.connection.driver_connection,
                                             results[commit_at + 1])[0]
        if ws is not None:
            self.head, self.checkpoint = ws.head, ws.checkpoint  # as committed
            if ws.entries:
                self.head_time = ws.entries[-1].accepted_at
        self.finished = True

    def _gathered_flush(self, ws: WorkingSet) -> list[tuple[str, dict[str, Any]]]:
        """PostgreSQL: the flush's statements, to be sent in one round trip."""
        self._gathered = []
        try:
            self._flush(ws)
            return self._gathered
        finally:
            self._gathered = None

    def _flush(self, ws: WorkingSet) -> None:
        self._flush_records(ws)
        self._flush_lots(ws)
        self._flush_holdings(ws)
        self._flush_rows(ws)
        self.executemany(
            f"INSERT INTO journal ({_JOURNAL_COLUMNS}) VALUES (:seq, :instruction_id, "
            ":body_hash, :op, :entry, :leaf_hash, :accepted_at)",
            [{"seq": e.seq, "instruction_id": e.instruction_id, "body_hash": e.body_hash,
              "op": e.op, "entry": e.entry, "leaf_hash": e.leaf_hash,
              "accepted_at": e.accepted_at} for e in ws.entries])
        if ws.entries:
            self.execute("UPDATE journal_head SET seq = :seq, checkpoint = :checkpoint "
                         "WHERE id = 1", {"seq": ws.head, "checkpoint": ws.checkpoint})

    def _flush_records(self, ws: WorkingSet) -> None:
        self.executemany(
            "INSERT INTO participants (id, name, role, registered_seq) "
            "VALUES (:id, :name, :role, :registered_seq)",
            [{"id": p.id, "name": p.name, "role": p.role.value,
              "registered_seq": p.registered_seq} for p in ws.participants.inserted.values()])
        key_rows = lambda keys: [  # noqa: E731
            {"address": k.address, "participant": k.participant,
             "registered_seq": k.registered_seq, "revoked_seq": k.revoked_seq,
             "last_nonce": k.last_nonce} for k in keys]
        self.executemany(
            "INSERT INTO signing_keys (address, participant, registered_seq, revoked_seq, "
            "last_nonce) VALUES (:address, :participant, :registered_seq, :revoked_seq, "
            ":last_nonce)", key_rows(ws.keys.inserted.values()))
        self.executemany(
            "UPDATE signing_keys SET revoked_seq = :revoked_seq, last_nonce = :last_nonce "
            "WHERE address = :address", key_rows(ws.keys.updated.values()))
        account_rows = lambda accounts: [  # noqa: E731
            {"id": a.id, "participant": a.participant, "type": a.type.value,
             "frozen": a.frozen, "freeze_reason": a.freeze_reason,
             "opened_seq": a.opened_seq} for a in accounts]
        self.executemany(
            "INSERT INTO accounts (id, participant, type, frozen, freeze_reason, opened_seq) "
            "VALUES (:id, :participant, :type, :frozen, :freeze_reason, :opened_seq)",
            account_rows(ws.accounts.inserted.values()))
        self.executemany(
            "UPDATE accounts SET frozen = :frozen, freeze_reason = :freeze_reason "
            "WHERE id = :id", account_rows(ws.accounts.updated.values()))
        self.executemany(
            "INSERT INTO batches (id, scheme, kind, vintage, project, monitoring_start, "
            "monitoring_end, issuance, quantity, serial_prefix, issued_seq) VALUES (:id, "
            ":scheme, :kind, :vintage, :project, :monitoring_start, :monitoring_end, "
            ":issuance, :quantity, :serial_prefix, :issued_seq)",
            [{"id": b.id, "scheme": b.scheme, "kind": b.kind.value, "vintage": b.vintage,
              "project": b.project, "monitoring_start": b.monitoring_start,
              "monitoring_end": b.monitoring_end, "issuance": b.issuance.value,
              "quantity": b.quantity, "serial_prefix": b.serial_prefix,
              "issued_seq": b.issued_seq} for b in ws.batches.inserted.values()])
        self.executemany(
            "INSERT INTO liens (id, holder, purpose, created_seq) "
            "VALUES (:id, :holder, :purpose, :created_seq)",
            [{"id": lien.id, "holder": lien.holder, "purpose": lien.purpose,
              "created_seq": lien.created_seq} for lien in ws.liens.inserted.values()])
        for scheme, (rules, seq) in ws.rules_changed.items():
            params = {"scheme": scheme, "rules": json.dumps(rules.as_json(), sort_keys=True),
                      "seq": seq}
            self.execute("DELETE FROM scheme_rules WHERE scheme = :scheme", params)
            self.execute("INSERT INTO scheme_rules (scheme, rules, recorded_seq) "
                         "VALUES (:scheme, :rules, :seq)", params)

    def _flush_lots(self, ws: WorkingSet) -> None:
        deleted, inserted, updated = [], [], []
        for lot_id in ws.changed_lot_ids:
            lot, stored = ws.lots[lot_id], lot_id in ws.stored_lot_ids
            if lot is None:
                if stored:  # a lot created and split within one transaction never reached disk
                    deleted.append({"id": lot_id})
            elif stored:
                updated.append(_lot_params(lot))
            else:
                inserted.append(_lot_params(lot))
        if self.dialect == "postgresql" and len(deleted) > 1:
            self.execute("DELETE FROM lots WHERE id = ANY(:ids)",
                         {"ids": array_text([d["id"] for d in deleted])})
        else:
            self.executemany("DELETE FROM lots WHERE id = :id", deleted)
        self.executemany(
            f"INSERT INTO lots ({LOT_COLUMNS}) VALUES (:id, :batch, :serial_first, "
            ":serial_last, :account, :state, :lien, :created_seq)", inserted)
        self.executemany("UPDATE lots SET account = :account, state = :state, lien = :lien "
                         "WHERE id = :id", updated)

    def _flush_holdings(self, ws: WorkingSet) -> None:
        """Add each holding's deltas: an update of the holdings that exist, then an insert of
        those that do not. (One upsert would not do: the database checks the row it would
        insert, a delta below zero, against the buckets' CHECK before it finds the row to
        update.) A holding a transaction creates can only gain, so only the rows with no
        delta below zero are inserted; a debited holding exists (`debits_not_covered`)."""
        names = [s.value for s in LOT_STATES]
        rows = []
        for (account, batch), deltas in ws.holding_deltas.items():
            if any(deltas):
                row: dict[str, Any] = {"account": account, "batch": batch}
                row.update(zip(names, deltas, strict=True))
                rows.append(row)
        if not rows:
            return
        if self.dialect == "postgresql" and len(rows) > 1:
            arrays = ", ".join(["%(account)s::text[]", "%(batch)s::text[]",
                                *(f"%({n})s::bigint[]" for n in names)])
            self._send("UPDATE holdings SET "
                       + ", ".join(f"{n} = holdings.{n} + u.{n}" for n in names)
                       + f" FROM unnest({arrays}) AS u(account, batch, {', '.join(names)}) "
                       "WHERE holdings.account = u.account AND holdings.batch = u.batch",
                       {column: [row[column] for row in rows]
                        for column in ("account", "batch", *names)})
        else:
            self.executemany("UPDATE holdings SET "
                             + ", ".join(f"{n} = {n} + :{n}" for n in names)
                             + " WHERE account = :account AND batch = :batch", rows)
        gaining = [row for row in rows if min(row[n] for n in names) >= 0]
        self.executemany(
            f"INSERT INTO holdings (account, batch, {', '.join(names)}) VALUES (:account, "
            f":batch, {', '.join(f':{n}' for n in names)}) ON CONFLICT (account, batch) "
            "DO NOTHING", gaining)

    def _flush_rows(self, ws: WorkingSet) -> None:
        """Rows of the tables modules declare: one insert and one update per table; and
        each row's value before this transaction, with the entry that first changed it."""
        self.executemany(
            "INSERT INTO row_undo (table_name, row_key, seq, before) "
            "VALUES (:table_name, :row_key, :seq, :before)",
            [{"table_name": table.name, "row_key": row_key_text(key), "seq": seq,
              "before": None if before is None else row_text(before)}
             for (table, key), (seq, before) in ws.rows_before.items()])
        by_table: dict[tuple[str, bool], tuple[Table, list[dict[str, Any]]]] = {}
        for row in ws.rows_written.values():
            by_table.setdefault((row.table.name, row.new), (row.table, []))[1].append(
                dict(row.values))
        for (name, new), (table, rows) in sorted(by_table.items()):
            columns, keys = _row_table(table)
            if new:
                self.executemany(f"INSERT INTO {name} ({', '.join(columns)}) VALUES ("
                                 + ", ".join(f":{c}" for c in columns) + ")", rows, table)
            else:
                settings = ", ".join(f"{c} = :{c}" for c in columns if c not in keys)
                self.executemany(f"UPDATE {name} SET {settings} WHERE "
                                 + " AND ".join(f"{k} = :{k}" for k in keys), rows, table)


def row_key_text(key: Sequence[Any]) -> str:
    """A module row's primary-key values as the text row_undo keeps."""
    return json.dumps(list(key), separators=(",", ":"))


def row_text(values: Mapping[str, Any]) -> str:
    """A module row's values, as the ledger read or wrote them, as the text row_undo keeps."""
    return json.dumps({str(name): value for name, value in values.items()},
                      separators=(",", ":"), sort_keys=True)


@contextmanager
def _checks_named() -> Iterator[None]:
    """A row the schema's CHECK constraints refuse (revision 0006: a bucket below zero, an
    empty serial range) is the store's inconsistency, named, not a driver's exception. The
    ledger's own checks come first; this is what stops a write they did not foresee."""
    try:
        yield
    except Exception as exc:
        if type(exc).__name__ not in ("IntegrityError", "CheckViolation") \
                or "ck_" not in str(exc):
            raise
        raise StoreError(StoreFailure.store_inconsistent,
                         str(exc).strip().split("\n", 1)[0]) from exc


def _require_debits_covered(ws: WorkingSet) -> None:
    """Nothing is written when the lots a transaction spent are not counted in their holdings:
    the store was changed behind the ledger's back, and writing on top would hide it."""
    problem = ws.debits_not_covered()
    if problem is not None:
        raise StoreError(StoreFailure.store_inconsistent, problem)


@lru_cache(maxsize=16)
def _row_table(table: Table) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(columns, primary-key columns) of a table written through `ledger.effects.Row`."""
    return (tuple(c.name for c in table.columns),
            tuple(c.name for c in table.primary_key.columns))


def _lot_params(lot: Lot) -> dict[str, Any]:
    return {"id": lot.id, "batch": lot.batch, "serial_first": lot.first,
            "serial_last": lot.last, "account": lot.account, "state": lot.state.value,
            "lien": lot.lien, "created_seq": lot.created_seq}

