"""The Alembic migrations create exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ledger.store.database import Store
from ledger.store.schema import metadata


def _differences(store: Store) -> list[object]:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        return list(compare_metadata(context, metadata))


def test_migrated_schema_matches_the_code(any_store: Store) -> None:
    assert _differences(any_store) == []


def test_upgrade_is_idempotent(sqlite_store: Store) -> None:
    sqlite_store.upgrade()
    assert sqlite_store.is_migrated()
    with sqlite_store.read() as tx:
        assert tx.head == -1
