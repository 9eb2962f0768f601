"""The pledge module's tables are its own (pledge/schema.py, on a MetaData of their own), and
the store still writes many of their rows in one PostgreSQL statement: the statement's array
types come from the module's table, not from the core's MetaData. (On a server, CI runs
tests/pledge/test_replay.py, whose submissions write several rows of each table at once.)"""

from __future__ import annotations

from ledger.store import schema as core_schema
from ledger.store.sql import _unnest_insert, _unnest_update
from pledge import schema
from pledge.module import PLEDGE


def test_the_pledge_tables_are_declared_by_the_module_not_the_core() -> None:
    assert PLEDGE.tables == (schema.pledges, schema.repos, schema.agreement_events)
    assert all(table.metadata is schema.metadata for table in PLEDGE.tables)
    assert not {"pledges", "repos", "agreement_events"} & set(core_schema.metadata.tables)
    assert PLEDGE.migrations is not None and PLEDGE.migrations.is_dir()


def test_many_rows_of_a_module_table_are_one_postgresql_statement() -> None:
    insert, names = _unnest_insert(
        "INSERT INTO repos (id, quantity, free_use) VALUES (:id, :quantity, :free_use)",
        schema.repos)
    assert names == ("id", "quantity", "free_use")
    assert ("unnest(%(id)s::text[], %(quantity)s::bigint[], %(free_use)s::boolean[])"
            in insert)
    update, names = _unnest_update(
        "UPDATE pledges SET released = :released WHERE id = :id", schema.pledges)
    assert names == ("id", "released")
    assert "unnest(%(id)s::text[], %(released)s::bigint[]) AS u(id, released)" in update
