"""The schema refuses an impossible quantity (the core's revision 0006, the pledge module's
pledge_0001): no holding bucket below zero, no lot outside 1..n or empty, no batch of nothing,
no pledge or repo resolved beyond what it holds — whoever writes the row. An existing store
upgrades with its data; one that already holds such a row refuses the upgrade by the
constraint's name. On SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from ledger.clock import FixedClock
from ledger.replay import replay_check
from ledger.store.database import Store, alembic_config, sqlite_url
from tests.pledge.conftest import populate
from tests.pledge.helpers import open_repo, register
from tests.world import OPERATIONS, World

REVISION = "0006"

# (what an insider writes, the constraint that refuses it)
VIOLATIONS = [
    ("UPDATE holdings SET tradable = -1 WHERE account = 'HN'", "ck_holdings_tradable"),
    ("UPDATE holdings SET pledged = pledged - 1 WHERE account = 'HN'", "ck_holdings_pledged"),
    ("UPDATE holdings SET retired = -70000 WHERE account = 'HN'", "ck_holdings_retired"),
    ("UPDATE holdings SET surrendered = -1 WHERE account = 'HN'", "ck_holdings_surrendered"),
    ("UPDATE holdings SET cancelled = -1 WHERE account = 'HN'", "ck_holdings_cancelled"),
    ("UPDATE lots SET serial_first = 0 WHERE account = 'HN'", "ck_lots_serial_first"),
    ("UPDATE lots SET serial_last = serial_first - 1 WHERE account = 'HN'",
     "ck_lots_serial_last"),
    ("UPDATE batches SET quantity = 0", "ck_batches_quantity"),
]


def _a_ledger(store: Store, clock: FixedClock) -> World:
    world = World.create(store, clock)
    world.participant("huaneng", "emitter", "HN", "compliance")
    world.participant("gw", "project_owner", "GW", "trading")
    world.allocate("A1", "HN", 1000)
    world.by("huaneng", "transfer", fromAccount="HN", toAccount="GW", batch="A1", quantity=70)
    return world


@pytest.mark.parametrize(("statement", "constraint"), VIOLATIONS,
                         ids=[c for _, c in VIOLATIONS])
def test_the_database_refuses_an_impossible_quantity(any_store: Store, clock: FixedClock,
                                                     statement: str, constraint: str) -> None:
    world = _a_ledger(any_store, clock)
    holding = world.holding("HN", "A1")
    with pytest.raises(Exception, match=constraint), any_store.write() as tx:
        tx.execute(statement)
    assert world.holding("HN", "A1") == holding
    assert world.lots("A1") == [(1, 70, "GW", "tradable"), (71, 1000, "HN", "tradable")]


PLEDGE_VIOLATIONS = [
    ("UPDATE pledges SET quantity = 0", "ck_pledges_quantity"),
    ("UPDATE pledges SET released = -1", "ck_pledges_released"),
    ("UPDATE pledges SET enforced = -5", "ck_pledges_enforced"),
    ("UPDATE pledges SET released = quantity, enforced = 1", "ck_pledges_resolved"),
    ("UPDATE repos SET quantity = -400", "ck_repos_quantity"),
    ("UPDATE repos SET returned = quantity + 1", "ck_repos_returned"),
    ("UPDATE agreement_events SET quantity = -1", "ck_agreement_events_quantity"),
]


@pytest.mark.parametrize(("statement", "constraint"), PLEDGE_VIOLATIONS,
                         ids=[c for _, c in PLEDGE_VIOLATIONS])
def test_the_database_refuses_an_impossible_agreement(any_store: Store, clock: FixedClock,
                                                      statement: str, constraint: str) -> None:
    market = populate(World.create(any_store, clock))
    register(market, quantity=300)
    open_repo(market, quantity=200)
    with pytest.raises(Exception, match=constraint), any_store.write() as tx:
        tx.execute(statement)
    with any_store.read() as tx:
        assert tx.one("SELECT quantity, released, enforced FROM pledges") == (300, 0, 0)


def _previous_revision(url: str) -> str:
    previous = ScriptDirectory.from_config(alembic_config(url)).get_revision(REVISION)
    assert previous is not None and isinstance(previous.down_revision, str)
    return previous.down_revision


def _store_before_the_checks(path: Path) -> Store:
    store = Store(sqlite_url(path))
    command.upgrade(alembic_config(store.url), _previous_revision(store.url))
    return store


def test_an_existing_store_upgrades_and_then_refuses(tmp_path: Path, clock: FixedClock) -> None:
    store = _store_before_the_checks(tmp_path / "ledger.db")
    try:
        world = _a_ledger(store, clock)
        lots = world.lots("A1")
        store.upgrade(OPERATIONS)

        assert world.lots("A1") == lots
        assert replay_check(store, OPERATIONS, scratch_dir=tmp_path).ok
        with store.read() as tx:
            (lien_index,) = tx.one("SELECT sql FROM sqlite_master WHERE name = 'ix_lots_lien'")
        assert "WHERE lien IS NOT NULL" in lien_index  # still partial after the copy
        with pytest.raises(Exception, match="ck_holdings_tradable"), store.write() as tx:
            tx.execute("UPDATE holdings SET tradable = -1 WHERE account = 'HN'")
        world.by("gw", "transfer", fromAccount="GW", toAccount="HN", batch="A1", quantity=70)
        assert world.holding("GW", "A1")["tradable"] == 0
    finally:
        store.dispose()


def test_a_store_holding_a_negative_holding_refuses_the_upgrade(tmp_path: Path,
                                                               clock: FixedClock) -> None:
    store = _store_before_the_checks(tmp_path / "ledger.db")
    try:
        _a_ledger(store, clock)
        with store.write() as tx:  # what finding 12's insider left: -70,000
            tx.execute("UPDATE holdings SET tradable = -70000 WHERE account = 'GW'")
        with pytest.raises(Exception, match="ck_holdings_tradable"):
            store.upgrade(OPERATIONS)
    finally:
        store.dispose()
