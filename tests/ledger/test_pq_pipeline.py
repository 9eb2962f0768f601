"""PostgreSQL round trips written in one go: the rows a cursor would give, a failure that runs
nothing after it and leaves the connection usable, statements prepared once per connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.store.pq_pipeline import array_text, round_trip, rows_of
from tests.conftest import PG_URL_VARIABLE, pg_url


@pytest.fixture
def connection() -> Iterator[psycopg.Connection[Any]]:
    url = pg_url()
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE} (CI sets it)")
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True,
                         prepare_threshold=None) as conn:
        conn.execute("CREATE TEMPORARY TABLE t (id bigint PRIMARY KEY, name text, "
                     "blob bytea, flag boolean)")
        yield conn


def _rows(conn: psycopg.Connection[Any], statements: list[tuple[str, dict[str, Any]]]
          ) -> list[list[tuple[Any, ...]]]:
    return [rows_of(conn, result) for result in round_trip(conn, statements)]


def test_rows_come_back_in_order_and_typed_as_a_cursor_gives_them(
        connection: psycopg.Connection[Any]) -> None:
    insert = ("INSERT INTO t (id, name, blob, flag) SELECT * FROM unnest(%(ids)s::bigint[], "
              "%(names)s::text[], %(blobs)s::bytea[], %(flags)s::boolean[])")
    rows = [(1, "one", b"\x00\x01", True), (2, "it's \"two\"", b"\xff", False),
            (3, None, None, None)]
    results = _rows(connection, [
        ("BEGIN", {}),
        (insert, {"ids": [r[0] for r in rows], "names": [r[1] for r in rows],
                  "blobs": [r[2] for r in rows], "flags": [r[3] for r in rows]}),
        ("SELECT id, name, blob, flag FROM t WHERE id = ANY(%(ids)s) ORDER BY id",
         {"ids": [1, 2, 3]}),
        ("SELECT count(*) FROM t WHERE name = %(name)s", {"name": "one"}),
        ("COMMIT", {}),
    ])
    assert results[2] == rows
    assert results[2] == connection.execute("SELECT id, name, blob, flag FROM t "
                                            "ORDER BY id").fetchall()
    assert results[3] == [(1,)]
    assert results[0] == results[1] == results[4] == []


def test_a_failing_statement_runs_nothing_after_it_and_leaves_the_connection_usable(
        connection: psycopg.Connection[Any]) -> None:
    connection.execute("INSERT INTO t (id, name) VALUES (1, 'first')")
    insert = "INSERT INTO t (id, name) VALUES (%(id)s, %(name)s)"
    with pytest.raises(psycopg.errors.UniqueViolation):
        round_trip(connection, [("BEGIN", {}), (insert, {"id": 2, "name": "second"}),
                                (insert, {"id": 1, "name": "again"}),
                                (insert, {"id": 3, "name": "third"}), ("COMMIT", {})])
    connection.rollback()  # the transaction the failure left open
    assert connection.execute("SELECT id FROM t ORDER BY id").fetchall() == [(1,)]
    assert _rows(connection, [("SELECT name FROM t WHERE id = %(id)s", {"id": 1})]) == \
        [[("first",)]]


def test_statements_are_prepared_once_per_connection(
        connection: psycopg.Connection[Any]) -> None:
    select = ("SELECT name FROM t WHERE id = %(id)s", {"id": 1})
    for _ in range(3):
        _rows(connection, [select, select])
    prepared = connection.execute("SELECT count(*) FROM pg_prepared_statements "
                                  "WHERE statement LIKE 'SELECT name FROM t%'").fetchone()
    assert prepared == (1,)


def test_statements_deallocated_behind_its_back_are_prepared_again(
        connection: psycopg.Connection[Any]) -> None:
    select = ("SELECT count(*) FROM t WHERE id = %(id)s", {"id": 1})
    assert _rows(connection, [select]) == [[(0,)]]
    connection.execute("DEALLOCATE ALL")
    with pytest.raises(psycopg.errors.InvalidSqlStatementName):
        _rows(connection, [select])
    assert _rows(connection, [select]) == [[(0,)]]


# text as PostgreSQL stores it: any character but NUL, the quotes, backslashes, braces,
# commas, spaces and the word NULL that an array literal treats specially included
_TEXT = st.text(st.characters(blacklist_characters="\x00", codec="utf-8"),
                max_size=40) | st.sampled_from(["NULL", "null", "", " ", "{}", '"', "\\",
                                                 "a,b", '{"k": "v\\"w"}'])
_COLUMNS = st.lists(st.tuples(st.integers(-2**63, 2**63 - 1) | st.none(),
                              _TEXT | st.none(),
                              st.binary(max_size=40) | st.none(),
                              st.booleans() | st.none()), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_COLUMNS)
def test_array_text_reaches_the_table_as_the_list_itself(
        connection: psycopg.Connection[Any], rows: list[tuple[Any, ...]]) -> None:
    """What the writers' multi-row statements send (`array_text`) is read by the server as
    exactly the values psycopg's own list dumping gives it."""
    columns = {name: [row[i] for row in rows]
               for i, name in enumerate(["ids", "names", "blobs", "flags"])}
    assert all(isinstance(array_text(values), str) for values in columns.values())
    select = ("SELECT * FROM unnest(%(ids)s::bigint[], %(names)s::text[], "
              "%(blobs)s::bytea[], %(flags)s::boolean[])")
    (as_text,) = _rows(connection, [(select, {n: array_text(v) for n, v in columns.items()})])
    (as_lists,) = _rows(connection, [(select, columns)])
    assert as_text == as_lists == rows


def test_array_text_leaves_values_it_does_not_know_to_psycopg() -> None:
    assert array_text([1, 2.5]) == [1, 2.5]
    assert array_text([]) == "{}"
    assert array_text([True, 1]) == "{t,1}"


def test_array_text_in_an_any_match_is_read_as_the_column_s_array(
        connection: psycopg.Connection[Any]) -> None:
    connection.execute("INSERT INTO t (id, name, blob) VALUES (1, 'a\"b', '\\x00'), "
                       "(2, 'c\\d', '\\xff')")
    (by_name, by_blob) = _rows(connection, [
        ("SELECT id FROM t WHERE name = ANY(%(names)s) ORDER BY id",
         {"names": array_text(['a"b', "c\\d", "e"])}),
        ("SELECT id FROM t WHERE blob = ANY(%(blobs)s) ORDER BY id",
         {"blobs": array_text([b"\xff"])})])
    assert by_name == [(1,), (2,)]
    assert by_blob == [(2,)]
