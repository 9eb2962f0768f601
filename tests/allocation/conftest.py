"""An allocation market (tests/allocation/helpers.py) on SQLite, and on both databases; the
ledger's and every module's invariants are checked when each test ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.clock import FixedClock
from ledger.store.database import Store
from tests.allocation.helpers import allocation_world
from tests.world import World


@pytest.fixture
def market(sqlite_store: Store, clock: FixedClock) -> Iterator[World]:
    world = allocation_world(sqlite_store, clock)
    yield world
    world.assert_invariants()


@pytest.fixture
def any_market(any_store: Store, clock: FixedClock) -> Iterator[World]:
    """The market on SQLite and on PostgreSQL."""
    world = allocation_world(any_store, clock)
    yield world
    world.assert_invariants()
