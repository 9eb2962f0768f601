"""Shared fixtures: real stores (SQLite files; PostgreSQL when CARBONLEDGER_TEST_PG_URL is set),
a ledger with its registry, and a global invariant check after every test that used one."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.config import KEYSTORE_COST_VARIABLE
from ledger.clock import FixedClock
from ledger.store.database import Store, sqlite_url
from tests.world import OPERATIONS, World

PG_URL_VARIABLE = "CARBONLEDGER_TEST_PG_URL"
# The tests' keys guard nothing: keystores written by `init`, `key new`, `chain deploy` take a
# light scrypt cost (api.config.keystore_scrypt_n), in this process and in the commands it
# starts, where each opening would otherwise cost a second
os.environ.setdefault(KEYSTORE_COST_VARIABLE, str(2**12))


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test: Alembic runs once per session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    store = Store(sqlite_url(path))
    store.upgrade(OPERATIONS)
    store.dispose()
    return path


@pytest.fixture
def sqlite_store(migrated_template: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "ledger.db"
    shutil.copy(migrated_template, path)
    store = Store(sqlite_url(path))
    yield store
    store.dispose()


def pg_url() -> str | None:
    return os.environ.get(PG_URL_VARIABLE)


def fresh_pg_store() -> Store:
    """An empty, migrated PostgreSQL schema; fails loudly if the server is unreachable."""
    import psycopg

    url = pg_url()
    assert url, f"{PG_URL_VARIABLE} is not set"
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True,
                         connect_timeout=10) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    store = Store(url)
    store.upgrade(OPERATIONS)
    return store


@pytest.fixture
def pg_store() -> Iterator[Store]:
    if not pg_url():
        pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE} (CI sets it)")
    store = fresh_pg_store()
    yield store
    store.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest) -> Store:
    """Both databases: the same test runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue("sqlite_store" if request.param == "sqlite" else "pg_store")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def world(sqlite_store: Store, clock: FixedClock) -> Iterator[World]:
    """A ledger with its genesis and registry; the invariants are checked when the test ends."""
    world = World.create(sqlite_store, clock)
    yield world
    world.assert_invariants()
