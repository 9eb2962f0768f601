"""Shared fixtures: real stores (SQLite files; PostgreSQL when CARBONLEDGER_TEST_PG_URL is set),
a ledger with its registry, and a global invariant check after every test that used one."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from api.config import KEYSTORE_COST_VARIABLE
from ledger.clock import FixedClock
from ledger.store.database import MIGRATIONS_DIR, Store, sqlite_url
from tests.world import OPERATIONS, World

PG_URL_VARIABLE = "CARBONLEDGER_TEST_PG_URL"
XDIST_WORKER_VARIABLE = "PYTEST_XDIST_WORKER"  # gw0, gw1, ... in pytest-xdist's workers
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
    """This test process's own database on the server CARBONLEDGER_TEST_PG_URL names: the
    database it names, or in a pytest-xdist worker that name suffixed with the worker's
    (speed_test_gw0, ...), so that two workers never share a database."""
    url = os.environ.get(PG_URL_VARIABLE)
    worker = os.environ.get(XDIST_WORKER_VARIABLE)
    if not url or not worker:
        return url
    named = make_url(url)
    return named.set(database=f"{named.database}_{worker}").render_as_string(
        hide_password=False)


def fresh_pg_store() -> Store:
    """This process's database made anew, a copy of the migrated template: as empty and as
    migrated as a fresh `upgrade` leaves it. Fails loudly if the server is unreachable."""
    url = pg_url()
    assert url, f"{PG_URL_VARIABLE} is not set"
    database = _quoted(make_url(url).database)
    template = _quoted(_migrated_template())
    with _server_connection() as conn:
        # FORCE: connections a test left open (a pool not disposed of) are closed
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database} TEMPLATE {template}")
    return Store(url)


@pytest.fixture(scope="session", autouse=True)
def _own_pg_database() -> None:
    """This process's database exists from the start (a test may connect to it without a
    fresh store, tests/ledger/test_pq_pipeline.py)."""
    url = pg_url()
    if url and not _database_exists(make_url(url).database):
        fresh_pg_store().dispose()


# --- the migrated template ------------------------------------------------------------------
# Migrating a PostgreSQL schema takes ~0.4 s, and hundreds of tests want a fresh one: it is
# migrated once into a template database, and each test's database is copied from it
# (CREATE DATABASE ... TEMPLATE, ~0.05 s). The template's name carries a digest of every
# migration, so a changed or added migration makes a new one; it is kept between runs.

def _migrations_digest() -> str:
    """SHA-256 over the Alembic environment and the revisions of the core and every module."""
    digest = hashlib.sha256()
    for directory in sorted({MIGRATIONS_DIR.resolve(), *(p.resolve() for p in
                                                           OPERATIONS.migrations)}):
        for path in sorted(directory.rglob("*.py")):
            digest.update(f"{path.relative_to(directory.parent)}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.cache
def _migrated_template() -> str:
    """The name of the migrated template database, made if it is missing. Workers started
    together take turns (an advisory lock): one migrates, the others find it made."""
    base = make_url(os.environ[PG_URL_VARIABLE])
    prefix = f"{base.database}_template_"
    name = prefix + _migrations_digest()[:16]
    with _server_connection() as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (prefix,))
        try:
            if _database_exists(name, conn):
                return name
            stale = [row[0] for row in conn.execute(
                "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,))]
            for old in stale:  # earlier migrations' templates, or one left half-made
                conn.execute(f"DROP DATABASE {_quoted(old)} WITH (FORCE)")
            building = f"{name}_building"
            conn.execute(f"CREATE DATABASE {_quoted(building)}")
            store = Store(base.set(database=building).render_as_string(hide_password=False))
            try:
                store.upgrade(OPERATIONS)
            finally:
                store.dispose()
            # only a fully migrated template ever carries the name tests copy from
            conn.execute(f"ALTER DATABASE {_quoted(building)} RENAME TO {_quoted(name)}")
            return name
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (prefix,))


def _server_connection() -> Any:
    """An autocommit connection to the server's `postgres` database, to create and drop
    databases (never one of those it creates or drops)."""
    import psycopg

    url = make_url(os.environ[PG_URL_VARIABLE]).set(drivername="postgresql",
                                                    database="postgres")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True,
                           connect_timeout=10)


def _database_exists(name: str | None, conn: Any = None) -> bool:
    if conn is None:
        with _server_connection() as own:
            return _database_exists(name, own)
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() \
        is not None


def _quoted(name: str | None) -> str:
    assert name and '"' not in name, f"not a database name: {name!r}"
    return f'"{name}"'


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
