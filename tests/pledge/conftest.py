"""A market to pledge and repo in; after each test, the pledge and repo invariants are checked
beside the ledger's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.clock import FixedClock
from ledger.store.database import Store
from pledge.invariants import check_agreement_invariants
from tests.world import World


def populate(world: World) -> World:
    """Huaneng (an emitter: compliance account HN, trading account HNT) holds 1,000 t of A1;
    ICBC and BOC are banks with trading accounts; Baowu is another emitter; Li an individual."""
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.by("registry", "open_account", account="HNT", participant="huaneng",
             accountType="trading")
    world.participant("icbc", "bank", "ICBC", "trading")
    world.participant("boc", "bank", "BOC", "trading")
    world.participant("baowu", "emitter", "BW", "compliance")
    world.participant("li", "individual", "LI", "individual")
    world.allocate("A1", "HN", 1000)
    return world


def assert_agreement_invariants(world: World) -> None:
    problems = check_agreement_invariants(world.store)
    assert not problems, problems


@pytest.fixture
def market(world: World) -> Iterator[World]:
    """The market on a SQLite file (the `world` fixture checks the ledger's invariants)."""
    yield populate(world)
    assert_agreement_invariants(world)


@pytest.fixture
def any_market(any_store: Store, clock: FixedClock) -> Iterator[World]:
    """The market on SQLite and on PostgreSQL."""
    world = populate(World.create(any_store, clock))
    yield world
    assert_agreement_invariants(world)
    world.assert_invariants()
