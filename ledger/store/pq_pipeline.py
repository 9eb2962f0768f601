"""A PostgreSQL round trip of several statements, written to the server in one go.

psycopg's pipeline mode sends each statement as soon as it is queued: one socket write (and
one wake-up of the server) per statement, with some 60 us of client work around each. A
write's ~15 statements made that most of a one-operation transaction (docs/DESIGN.md). Here
the statements of one round trip are queued in libpq and written together, ahead of one sync;
each with parameters is prepared once per connection and set of parameter types (the types
psycopg gives the values, which go as text), and rows are loaded by psycopg's own
Transformer, with the loaders a cursor would use. Measured on a round trip of seven
statements: ~90 us of client CPU against ~480 us through psycopg's pipeline.

A statement that fails makes libpq skip the rest up to the sync; its error is raised once
every result is in, so the connection is left out of pipeline mode and usable (for the
caller's ROLLBACK).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import select
import weakref
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from psycopg import Connection, errors, pq
from psycopg.adapt import PyFormat, Transformer

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")

# names of the statements prepared on each connection (a new connection starts with none)
_prepared: weakref.WeakKeyDictionary[Connection[Any], set[bytes]] = weakref.WeakKeyDictionary()


@lru_cache(maxsize=256)
def _numbered(statement: str) -> tuple[bytes, tuple[str, ...]]:
    """A pyformat statement as (`$n` text, parameter names)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[0] == "%%":
            return "%"
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return _PLACEHOLDER.sub(number, statement).encode(), tuple(names)


@lru_cache(maxsize=1024)
def _statement_name(text: bytes, types: tuple[int, ...]) -> bytes:
    """One prepared statement per text and parameter types: psycopg gives a Python int the
    smallest integer type that holds it, so one text may come with several."""
    return b"cl_" + hashlib.sha256(text + repr(types).encode()).hexdigest()[:24].encode()


def round_trip(connection: Connection[Any],
               statements: Sequence[tuple[str, Mapping[str, Any]]]) -> list[pq.abc.PGresult]:
    """Run `statements` (pyformat text, parameters) in one round trip; their results, in order.
    The connection must not be in a pipeline already."""
    pgconn = connection.pgconn
    transformer = Transformer(connection)
    prepared = _prepared.setdefault(connection, set())
    commands: list[tuple[bool, bytes]] = []  # (is a prepare, statement name), in order sent
    pgconn.enter_pipeline_mode()
    try:
        for statement, params in statements:
            text, names = _numbered(statement)
            if not names:  # BEGIN, COMMIT, the head lock: nothing to prepare
                pgconn.send_query_params(text, None)
                commands.append((False, b""))
                continue
            values = transformer.dump_sequence([params[n] for n in names],
                                               [PyFormat.TEXT] * len(names))
            types = tuple(transformer.types or ())
            name = _statement_name(text, types)
            if name not in prepared and (True, name) not in commands:
                pgconn.send_prepare(name, text, types)
                commands.append((True, name))
            pgconn.send_query_prepared(name, values, transformer.formats)
            commands.append((False, name))
        pgconn.pipeline_sync()
        _send(pgconn)
        results, failure = [], None
        for is_prepare, name in commands:
            result = _next_result(pgconn)
            assert result is not None, "libpq gives each command a result before its end"
            while _next_result(pgconn) is not None:  # a command's results end with None
                pass
            if result.status == pq.ExecStatus.FATAL_ERROR and failure is None:
                failure = errors.error_from_result(result, encoding=connection.info.encoding)
                if isinstance(failure, errors.InvalidSqlStatementName):
                    prepared.clear()  # someone deallocated ours: the next round trip prepares
            elif result.status == pq.ExecStatus.PIPELINE_ABORTED:
                pass  # skipped after the failure
            elif is_prepare:
                prepared.add(name)
            else:
                results.append(result)
        sync = _next_result(pgconn)
        assert sync is not None and sync.status == pq.ExecStatus.PIPELINE_SYNC, sync
    finally:
        if pgconn.pipeline_status != pq.PipelineStatus.OFF:
            # results left unread after a broken connection: the pool discards it
            with contextlib.suppress(errors.OperationalError):
                pgconn.exit_pipeline_mode()
    if failure is not None:
        raise failure
    return results


def array_text(values: Sequence[Any]) -> str | Sequence[Any]:
    """`values` as the text of a PostgreSQL array, for a parameter the statement casts to its
    array type (`%(a)s::bigint[]`): a str goes with the unknown type, and the server reads the
    literal as that array. psycopg's list dumper escapes element by element in Python: ~100
    times slower on a flush's columns (JSON entries above all), the bulk of a writer's
    client time. Integers, booleans, text and bytes only; anything else, `values` as they
    are, for psycopg."""
    parts: list[str] = []
    for value in values:
        kind = type(value)
        if kind is int:
            parts.append(str(value))
        elif kind is str:
            # inside double quotes only a backslash and a double quote are special
            parts.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif kind is bytes:
            parts.append('"\\\\x' + value.hex() + '"')  # bytea's hex form, its backslash escaped
        elif value is None:
            parts.append("NULL")
        elif kind is bool:
            parts.append("t" if value else "f")
        else:
            return values
    return "{" + ",".join(parts) + "}"


def rows_of(connection: Connection[Any], result: pq.abc.PGresult) -> list[tuple[Any, ...]]:
    """A result's rows as tuples of Python values (psycopg's loaders)."""
    transformer = Transformer(connection)
    transformer.set_pgresult(result)
    return transformer.load_rows(0, result.ntuples, tuple)


def _send(pgconn: pq.abc.PGconn) -> None:
    """Write out libpq's buffer, reading whatever the server answers meanwhile so that neither
    side waits on a full socket."""
    while pgconn.flush():
        readable, _, _ = select.select([pgconn.socket], [pgconn.socket], [])
        if readable:
            pgconn.consume_input()


def _next_result(pgconn: pq.abc.PGconn) -> pq.abc.PGresult | None:
    while pgconn.is_busy():
        select.select([pgconn.socket], [], [])
        pgconn.consume_input()
    return pgconn.get_result()
