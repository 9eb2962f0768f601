"""A CCER project market (tests/projects/helpers.py) on SQLite, and on both databases; the
ledger's and every module's invariants are checked when each test ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.clock import FixedClock
from ledger.store.database import Store
from tests.projects.helpers import project_world
from tests.world import World


@pytest.fixture
def market(sqlite_store: Store, clock: FixedClock) -> Iterator[World]:
    world = project_world(sqlite_store, clock)
    yield world
    world.assert_invariants()


@pytest.fixture
def any_market(any_store: Store, clock: FixedClock) -> Iterator[World]:
    """The market on SQLite and on PostgreSQL."""
    world = project_world(any_store, clock)
    yield world
    world.assert_invariants()
